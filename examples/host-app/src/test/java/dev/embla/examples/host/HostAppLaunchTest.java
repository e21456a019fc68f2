package dev.embla.examples.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code main} does before the demo starts. */
class HostAppLaunchTest {

  @Test
  void missingFunctionPackage_exitsTwoNamingIt(@TempDir Path empty) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = HostApp.launch(new String[] {empty.toString()}, o, e);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("host-app: " + empty.resolve(HostApp.FUNCTION_ZIP) + " not found");
    assertThat(out.size()).isZero();
  }

  @Test
  void missingJsFunction_exitsTwoNamingIt(@TempDir Path functions) throws java.io.IOException {
    java.nio.file.Files.writeString(functions.resolve(HostApp.FUNCTION_ZIP), "present, never opened");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = HostApp.launch(new String[] {functions.toString()}, o, e);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("host-app: " + functions.resolve(HostApp.JS_FUNCTION_DIR).resolve("index.js") + " not found");
    assertThat(out.size()).isZero();
  }

  @Test
  void missingPythonFunction_exitsTwoNamingIt(@TempDir Path functions) throws java.io.IOException {
    java.nio.file.Files.writeString(functions.resolve(HostApp.FUNCTION_ZIP), "present, never opened");
    java.nio.file.Path js = java.nio.file.Files.createDirectories(functions.resolve(HostApp.JS_FUNCTION_DIR));
    java.nio.file.Files.writeString(js.resolve("index.js"), "present, never run");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = HostApp.launch(new String[] {functions.toString()}, o, e);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("host-app: " + functions.resolve(HostApp.PY_FUNCTION_DIR).resolve("app.py") + " not found");
    assertThat(out.size()).isZero();
  }
}
