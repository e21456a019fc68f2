package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Functions written against Lambda's aws-lambda-java-core, bundled in lib/, run unmodified. */
class LambdaCompatibilityTest {

  @TempDir Path tmp;

  // A minimal stand-in for aws-lambda-java-core, with the same names and shapes.
  static final Map<String, String> LAMBDA_CORE = Map.of(
      "com.amazonaws.services.lambda.runtime.Context", """
          package com.amazonaws.services.lambda.runtime;
          public interface Context {
            String getAwsRequestId();
            String getLogGroupName();
            String getLogStreamName();
            String getFunctionName();
            String getFunctionVersion();
            String getInvokedFunctionArn();
            int getRemainingTimeInMillis();
            int getMemoryLimitInMB();
            LambdaLogger getLogger();
          }""",
      "com.amazonaws.services.lambda.runtime.LambdaLogger", """
          package com.amazonaws.services.lambda.runtime;
          public interface LambdaLogger {
            void log(String message);
            void log(byte[] message);
          }""",
      "com.amazonaws.services.lambda.runtime.RequestHandler", """
          package com.amazonaws.services.lambda.runtime;
          public interface RequestHandler<I, O> { O handleRequest(I input, Context context); }""",
      "com.amazonaws.services.lambda.runtime.RequestStreamHandler", """
          package com.amazonaws.services.lambda.runtime;
          import java.io.*;
          public interface RequestStreamHandler {
            void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
          }""");

  @Test
  void lambdaRequestHandler_runsUnmodified_withAContextAndLogger() {
    byte[] zip = JavaFunctions.builder()
        .source("example.Hello", """
            package example;
            import com.amazonaws.services.lambda.runtime.*;
            import java.util.Map;
            public class Hello implements RequestHandler<Map<String, String>, String> {
              @Override public String handleRequest(Map<String, String> event, Context context) {
                context.getLogger().log("hello from " + context.getFunctionName());
                return event.get("name") + " " + context.getAwsRequestId() + " " + context.getMemoryLimitInMB()
                    + " " + context.getLogGroupName();
              }
            }""")
        .libJar("aws-lambda-java-core.jar", LAMBDA_CORE)
        .zip();
    ExecutionEnvironment env = start(prepare(zip, tmp, "example.Hello"), new Fixtures.Env(tmp));
    Fixtures.TestContext context = Fixtures.context();

    byte[] result = env.invoke("{\"name\":\"ada\"}".getBytes(StandardCharsets.UTF_8), context);

    assertThat(new String(result, StandardCharsets.UTF_8)).isEqualTo("\"ada req-1 256 /aws/lambda/fn\"");
    assertThat(context.logged).containsExactly("hello from fn");
  }

  @Test
  void lambdaStreamHandler_runsUnmodified() {
    byte[] zip = JavaFunctions.builder()
        .source("example.Upper", """
            package example;
            import com.amazonaws.services.lambda.runtime.*;
            import java.io.*;
            public class Upper implements RequestStreamHandler {
              @Override public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
                out.write(new String(in.readAllBytes()).toUpperCase().getBytes());
              }
            }""")
        .libJar("aws-lambda-java-core.jar", LAMBDA_CORE)
        .zip();
    ExecutionEnvironment env = start(prepare(zip, tmp, "example.Upper::handleRequest"), new Fixtures.Env(tmp));

    assertThat(Fixtures.invoke(env, "shout")).isEqualTo("SHOUT");
  }
}
