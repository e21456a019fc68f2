package dev.embla.faas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line's argument handling: everything that is decided before an engine exists. */
class MainTest {

  /** What one run printed and returned. */
  record Run(int exitCode, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(args, o, e);
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void help_printsUsageOnStdoutAndExitsZero() {
    for (String help : new String[] {"help", "--help", "-h"}) {
      Run r = run(help);
      assertThat(r.exitCode()).as(help).isZero();
      assertThat(r.out()).as(help).startsWith("usage: embla invoke").contains("--handler", "--code", "--payload");
      assertThat(r.err()).as(help).isEmpty();
    }
  }

  @Test
  void invokeHelp_printsUsageAndExitsZero() {
    Run r = run("invoke", "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).startsWith("usage:");
  }

  @Test
  void noCommand_isUsageError() {
    Run r = run();
    assertThat(r.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(r.err()).startsWith("embla: no command given").contains("usage:");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void unknownCommand_isNamed() {
    Run r = run("deploy");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: unknown command 'deploy'");
  }

  @Test
  void unknownOption_isNamedWithUsage() {
    Run r = run("invoke", "--handler", "a.B", "--code", "x.zip", "--colour", "red");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: unknown option '--colour'").contains("usage:");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void missingHandler_isNamed() {
    Run r = run("invoke", "--code", "x.zip");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --handler is required");
  }

  @Test
  void missingCode_isNamed() {
    Run r = run("invoke", "--handler", "a.B");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --code is required");
  }

  @Test
  void optionWithoutValue_isNamed() {
    Run r = run("invoke", "--handler", "a.B", "--code");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --code needs a value");
  }

  @Test
  void repeatedOption_isRejected() {
    Run r = run("invoke", "--handler", "a.B", "--handler", "c.D", "--code", "x.zip");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --handler was already given as 'a.B'");
  }

  @Test
  void timeoutThatIsNotANumber_isNamed() {
    Run r = run("invoke", "--handler", "a.B", "--code", "x.zip", "--timeout", "5s");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --timeout needs a whole number of seconds, was '5s'");
  }

  @Test
  void envWithoutEquals_isNamed() {
    Run r = run("invoke", "--handler", "a.B", "--code", "x.zip", "--env", "GREETING");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: option --env needs KEY=VALUE, was 'GREETING'");
  }

  @Test
  void eventAndPayloadTogether_areRejected() {
    Run r = run("invoke", "--handler", "a.B", "--code", "x.zip", "--event", "e.json", "--payload", "{}");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: give the event with --event <file> or --payload <json>, not both");
  }

  @Test
  void strayArgument_isRejected() {
    Run r = run("invoke", "hello.zip");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: unexpected argument 'hello.zip'");
  }

  @Test
  void missingCodeFile_isNamedWithoutUsage(@org.junit.jupiter.api.io.TempDir Path dir) {
    Path missing = dir.resolve("nope.zip");
    Run r = run("invoke", "--handler", "a.B", "--code", missing.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("embla: code not found: " + missing + " (--code)" + System.lineSeparator());
    assertThat(r.out()).isEmpty();
  }

  @Test
  void missingEventFile_isNamed(@org.junit.jupiter.api.io.TempDir Path dir) {
    Run r = run("invoke", "--handler", "a.B", "--code", dir.toString(), "--event=" + dir.resolve("e.json"));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: event file not found: " + dir.resolve("e.json"));
  }

  @Test
  void memoryOutOfRange_isInvalidConfiguration(@org.junit.jupiter.api.io.TempDir Path dir) {
    Run r = run("invoke", "--handler", "a.B", "--code", dir.toString(), "--memory", "64");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid configuration: memorySize must be 128..10240 MB, was 64");
  }

  @Test
  void timeoutOutOfRange_isInvalidConfiguration(@org.junit.jupiter.api.io.TempDir Path dir) {
    Run r = run("invoke", "--handler", "a.B", "--code", dir.toString(), "--timeout=0");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid configuration: timeout must be 1..900 whole seconds, was 0s");
  }

  @Test
  void reservedEnvironmentVariable_isInvalidConfiguration(@org.junit.jupiter.api.io.TempDir Path dir) {
    Run r = run("invoke", "--handler", "a.B", "--code", dir.toString(), "--env", "AWS_REGION=eu-north-1");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("embla: invalid configuration: environment variable name 'AWS_REGION' is reserved");
  }

  @Test
  void functionName_comesFromTheCodesFileName() {
    assertThat(Main.functionName(Path.of("build", "hello-function.zip"))).isEqualTo("hello-function");
    assertThat(Main.functionName(Path.of("thumbs.JAR"))).isEqualTo("thumbs");
    assertThat(Main.functionName(Path.of("my fn.v2.zip"))).isEqualTo("my-fn-v2");
    assertThat(Main.functionName(Path.of("x".repeat(80) + ".zip"))).hasSize(64);
    assertThat(Main.functionName(Path.of("...zip"))).isEqualTo(Main.DEFAULT_FUNCTION_NAME);
  }
}
