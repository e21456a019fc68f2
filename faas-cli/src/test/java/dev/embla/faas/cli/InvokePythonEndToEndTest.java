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

/** {@code embla invoke --runtime python3} against a real engine, with the runtime found on the CLI's class path. */
class InvokePythonEndToEndTest {

  static final String APP_PY = """
      from greetings import greet

      def handler(event, context):
          print('greeting', event.get('name'))
          if 'name' not in event:
              raise ValueError('no name given')
          return {'greeting': greet(event['name']), 'fn': context.function_name}
      """;
  static final String GREETINGS_PY = "def greet(name):\n    return 'Hello, ' + name\n";

  // Generous bounds: a GraalPy context takes seconds to start on a loaded machine running interpreted, and the first
  // invocation of a context runs its code cold. The defaults (10 s Init, 3 s invocation) are Lambda's.
  static final String[] SLOW_MACHINE = {"--init-timeout", "300", "--timeout", "120"};

  @TempDir static Path dir;
  static Path function;

  @BeforeAll
  static void writeFunction() throws IOException {
    function = Files.createDirectories(dir.resolve("greeter-py"));
    Files.writeString(function.resolve("app.py"), APP_PY);
    Files.writeString(function.resolve("greetings.py"), GREETINGS_PY);
  }

  static Run python(String... args) {
    String[] all = new String[args.length + 1 + SLOW_MACHINE.length];
    all[0] = "invoke";
    System.arraycopy(args, 0, all, 1, args.length);
    System.arraycopy(SLOW_MACHINE, 0, all, 1 + args.length, SLOW_MACHINE.length);
    return run(all);
  }

  @Test
  void python3_printsResponseOnStdoutAndExitsZero() {
    Run r = python("--runtime", "python3", "--handler", "app.handler", "--code", function.toString(),
        "--payload", "{\"name\":\"Ada\"}");
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    // print goes to the engine's log, never into the response: stdout is the payload alone
    assertThat(r.out()).isEqualTo("{\"greeting\": \"Hello, Ada\", \"fn\": \"greeter-py\"}" + System.lineSeparator());
  }

  @Test
  void python3_runsAZip() throws IOException {
    Path zip = dir.resolve("greeter-py.zip");
    try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
      out.putNextEntry(new ZipEntry("app.py"));
      out.write(APP_PY.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
      out.putNextEntry(new ZipEntry("greetings.py"));
      out.write(GREETINGS_PY.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    Run r = python("--runtime", "python3", "--handler", "app.handler", "--code", zip.toString(),
        "--payload", "{\"name\":\"Grace\"}");
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("{\"greeting\": \"Hello, Grace\", \"fn\": \"greeter-py\"}");
  }

  @Test
  void python3_raisedValueError_printsErrorJsonAndExitsOne() {
    Run r = python("--runtime", "python3", "--handler", "app.handler", "--code", function.toString(),
        "--payload", "{}");
    assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_FUNCTION_ERROR);
    assertThat(r.out()).startsWith("{\"errorType\":\"ValueError\"")
        .contains("\"errorMessage\":\"no name given\"")
        .contains("\"stackTrace\":[")
        .contains("/var/task/app.py");
    assertThat(r.out().lines()).hasSize(1);
  }

  @Test
  void python3_missingModule_isInvalidConfiguration() {
    Run r = python("--runtime", "python3", "--handler", "main.handler", "--code", function.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(Main.EXIT_USAGE);
    assertThat(r.err()).startsWith("embla: invalid configuration: ").contains("main.py");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void initTimeout_mustBeWholeSecondsInLambdasRange() {
    Run malformed = run("invoke", "--runtime", "python3", "--handler", "app.handler", "--code", function.toString(),
        "--init-timeout", "soon");
    assertThat(malformed.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(malformed.err()).contains("option --init-timeout needs a whole number of seconds, was 'soon'");
    Run outOfRange = run("invoke", "--runtime", "python3", "--handler", "app.handler", "--code", function.toString(),
        "--init-timeout", "0");
    assertThat(outOfRange.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(outOfRange.err()).startsWith("embla: invalid configuration: ").contains("initTimeout");
  }
}
