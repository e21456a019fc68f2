package dev.embla.faas.internal.java;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.FunctionLogger;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.PreparedFunction;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/** Test support: unpacked function packages, definitions, a recording output and a simple invocation context. */
final class Fixtures {

  private static final AtomicInteger IDS = new AtomicInteger();

  static final JavaRuntimeProvider PROVIDER = new JavaRuntimeProvider();

  private Fixtures() {}

  /** Unzips a Lambda-shaped package into a fresh directory under {@code parent}. */
  static Path unzip(byte[] zip, Path parent) {
    try {
      Path dir = Files.createTempDirectory(parent, "code");
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          Path target = dir.resolve(e.getName());
          Files.createDirectories(target.getParent());
          Files.write(target, in.readAllBytes());
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static FunctionDefinition definition(Path code, String handler) {
    return definition(code, handler, Map.of("GREETING", "hej", "AWS_LAMBDA_FUNCTION_NAME", "fn"));
  }

  static FunctionDefinition definition(Path code, String handler, Map<String, String> environment) {
    return new FunctionDefinition("fn", "$LATEST", "java21", handler, code, "0".repeat(64), 256,
        Duration.ofSeconds(3), environment);
  }

  static PreparedFunction prepare(byte[] zip, Path tmp, String handler) {
    return PROVIDER.prepare(definition(unzip(zip, tmp), handler));
  }

  /** A recording output plus an environment context around it. */
  static final class Env implements EnvironmentContext, FunctionOutput {
    final List<String> lines = new CopyOnWriteArrayList<>();
    private final String id = "env-" + IDS.incrementAndGet();
    private final Path tmp;

    Env(Path tmp) {
      this.tmp = tmp;
    }

    @Override
    public String environmentId() {
      return id;
    }

    @Override
    public String logStreamName() {
      return "2026/01/01/[$LATEST]" + "0".repeat(32);
    }

    @Override
    public Path tmpDirectory() {
      return tmp;
    }

    @Override
    public FunctionOutput output() {
      return this;
    }

    @Override
    public void line(Stream stream, String line) {
      lines.add(stream + " " + line);
    }
  }

  /** Creates and initialises an environment that records into {@code env}. */
  static ExecutionEnvironment start(PreparedFunction function, Env env) {
    ExecutionEnvironment e = function.newEnvironment(env);
    e.init();
    return e;
  }

  static String invoke(ExecutionEnvironment environment, String json) {
    return new String(environment.invoke(json.getBytes(StandardCharsets.UTF_8), context()), StandardCharsets.UTF_8);
  }

  static TestContext context() {
    return new TestContext();
  }

  static final class TestContext implements Context {
    final List<String> logged = new CopyOnWriteArrayList<>();

    @Override
    public String getAwsRequestId() {
      return "req-1";
    }

    @Override
    public String getFunctionName() {
      return "fn";
    }

    @Override
    public String getFunctionVersion() {
      return "$LATEST";
    }

    @Override
    public String getInvokedFunctionArn() {
      return "arn:embla:function:fn";
    }

    @Override
    public int getMemoryLimitInMB() {
      return 256;
    }

    @Override
    public int getRemainingTimeInMillis() {
      return 3000;
    }

    @Override
    public FunctionLogger getLogger() {
      return logged::add;
    }
  }
}
