package dev.embla.faas.cli;

import static dev.embla.faas.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.cli.MainTest.Run;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code embla invoke --runtime nodejs} against a real engine, with the runtime found on the CLI's class path. */
class InvokeNodejsEndToEndTest {

  static final String INDEX_JS = """
      exports.handler = async (event, context) => {
        console.log('greeting', event.name);
        if (event.name === undefined) {
          return null.name; // a TypeError, thrown by the guest
        }
        return { greeting: 'Hello, ' + event.name, fn: context.functionName };
      };
      """;

  @TempDir static Path dir;
  static Path function;

  @BeforeAll
  static void writeFunction() throws IOException {
    function = Files.createDirectories(dir.resolve("greeter-js"));
    Files.writeString(function.resolve("index.js"), INDEX_JS);
  }

  @Test
  void nodejs_printsResponseOnStdoutAndExitsZero() {
    Run r = run("invoke", "--runtime", "nodejs", "--handler", "index.handler", "--code", function.toString(),
        "--payload", "{\"name\":\"Ada\"}");
    assertThat(r.exitCode()).as(r.err()).isZero();
    // console.log goes to the engine's log, never into the response: stdout is the payload alone
    assertThat(r.out()).isEqualTo("{\"greeting\":\"Hello, Ada\",\"fn\":\"greeter-js\"}" + System.lineSeparator());
  }

  @Test
  void nodejs_runsAZip() throws IOException {
    Path zip = dir.resolve("greeter-js.zip");
    try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
      out.putNextEntry(new ZipEntry("index.js"));
      out.write(INDEX_JS.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    Run r = run("invoke", "--runtime", "nodejs", "--handler", "index.handler", "--code", zip.toString(),
        "--payload", "{\"name\":\"Grace\"}");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("{\"greeting\":\"Hello, Grace\",\"fn\":\"greeter-js\"}");
  }

  @Test
  void nodejs_thrownTypeError_printsErrorJsonAndExitsOne() {
    Run r = run("invoke", "--runtime", "nodejs", "--handler", "index.handler", "--code", function.toString(),
        "--payload", "{}");
    assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_FUNCTION_ERROR);
    assertThat(r.out()).startsWith("{\"errorType\":\"TypeError\"")
        .contains("\"errorMessage\":\"")
        .contains("\"stackTrace\":[")
        .contains("index.js");
    assertThat(r.out().lines()).hasSize(1);
  }

  @Test
  void nodejs_missingHandlerFile_isInvalidConfiguration() {
    Run r = run("invoke", "--runtime", "nodejs", "--handler", "app.handler", "--code", function.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(Main.EXIT_USAGE);
    assertThat(r.err()).startsWith("embla: invalid configuration: ").contains("app.js");
    assertThat(r.out()).isEmpty();
  }
}
