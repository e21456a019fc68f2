package dev.embla.faas.cli;

import static dev.embla.faas.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.cli.MainTest.Run;
import dev.embla.faas.testing.JavaFunctions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code embla invoke} against a real engine and function packages compiled by the test. */
class InvokeEndToEndTest {

  static final String GREETER = """
      package demo;
      import dev.embla.faas.spi.Context;
      import dev.embla.faas.spi.RequestHandler;
      import java.util.Map;
      public class Greeter implements RequestHandler<Map<String, Object>, String> {
        public String handle(Map<String, Object> input, Context context) {
          context.getLogger().log("greeting " + input.get("name"));
          return "Hello, " + input.get("name");
        }
      }
      """;

  static final String BOOM = """
      package demo;
      import dev.embla.faas.spi.Context;
      import dev.embla.faas.spi.RequestHandler;
      public class Boom implements RequestHandler<Object, String> {
        public String handle(Object input, Context context) {
          throw new IllegalStateException("boom: no \\"luck\\"");
        }
      }
      """;

  static final String SPIN = """
      package demo;
      import dev.embla.faas.spi.Context;
      import dev.embla.faas.spi.RequestHandler;
      public class Spin implements RequestHandler<Object, String> {
        public String handle(Object input, Context context) {
          long n = 0;
          while (true) { n++; }
        }
      }
      """;

  @TempDir static Path dir;
  static Path zip;

  @BeforeAll
  static void buildPackage() throws IOException {
    zip = dir.resolve("greeter.zip");
    Files.write(zip, JavaFunctions.builder()
        .source("demo.Greeter", GREETER)
        .source("demo.Boom", BOOM)
        .source("demo.Spin", SPIN)
        .zip());
  }

  @Test
  void invoke_printsResponseOnStdoutAndExitsZero() {
    Run r = run("invoke", "--runtime", "java21", "--handler", "demo.Greeter", "--code", zip.toString(),
        "--payload", "{\"name\":\"Ada\"}");
    assertThat(r.exitCode()).as(r.err()).isZero();
    // stdout is the payload alone, so that it can be piped to jq
    assertThat(r.out()).isEqualTo("\"Hello, Ada\"" + System.lineSeparator());
  }

  @Test
  void invoke_readsEventFromFile() throws IOException {
    Path event = Files.writeString(dir.resolve("event.json"), "{\"name\":\"Grace\"}");
    Run r = run("invoke", "--handler", "demo.Greeter::handle", "--code", zip.toString(), "--event", event.toString(),
        "--memory", "256", "--timeout", "5", "--env", "GREETING=hi");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("\"Hello, Grace\"");
  }

  @Test
  void invoke_runsAnUnpackedDirectory() throws IOException {
    Path unpacked = Files.createDirectories(dir.resolve("unpacked/demo"));
    JavaFunctions.compile(java.util.Map.of("demo.Greeter", GREETER)).forEach((name, bytes) -> {
      try {
        Files.write(unpacked.resolve(name.substring("demo.".length()) + ".class"), bytes);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    Run r = run("invoke", "--handler", "demo.Greeter", "--code", unpacked.getParent().toString(),
        "--payload", "{\"name\":\"Linus\"}");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("\"Hello, Linus\"");
  }

  @Test
  void functionError_printsErrorJsonOnStdoutAndExitsOne() {
    Run r = run("invoke", "--handler", "demo.Boom", "--code", zip.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_FUNCTION_ERROR);
    assertThat(r.out()).startsWith("{\"errorType\":\"")
        .contains("IllegalStateException")
        .contains("\"errorMessage\":\"boom: no \\\"luck\\\"\"")
        .contains("\"stackTrace\":[");
    assertThat(r.out().lines()).hasSize(1);
  }

  @Test
  void timeout_isAFunctionErrorWithinItsBound() {
    long start = System.nanoTime();
    Run r = run("invoke", "--handler", "demo.Spin", "--code", zip.toString(), "--timeout", "1");
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.out()).contains("\"errorType\":\"Sandbox.Timedout\"");
    // one second of timeout plus engine start and teardown; a runaway loop must not hold the CLI
    assertThat(took).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void packageThatIsNotAZip_isInvalidCode() throws IOException {
    Path notZip = Files.writeString(dir.resolve("notes.zip"), "this is not a zip");
    Run r = run("invoke", "--handler", "demo.Greeter", "--code", notZip.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid code package " + notZip + ": ");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void handlerMissingFromCode_isInvalidConfiguration() {
    // FaasEngine.createFunction documents InvalidConfigurationException when the handler does not match the code
    Run r = run("invoke", "--handler", "demo.Missing", "--code", zip.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid configuration: ");
  }

  @Test
  void unknownRuntime_isInvalidConfiguration() {
    Run r = run("invoke", "--runtime", "cobol85", "--handler", "demo.Greeter", "--code", zip.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid configuration: ");
  }

  @Test
  void payloadThatIsNotJson_isRejected() {
    Run r = run("invoke", "--handler", "demo.Greeter", "--code", zip.toString(), "--payload", "{name: Ada");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid event: ");
  }
}
