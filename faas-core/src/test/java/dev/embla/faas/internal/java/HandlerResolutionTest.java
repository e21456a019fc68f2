package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.prepare;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HandlerResolutionTest {

  @TempDir Path tmp;

  private static final byte[] ECHO = JavaFunctions.builder()
      .source("demo.Echo", """
          package demo;
          public class Echo {
            public String handle(String s) { return s; }
            public String tooMany(String a, String b, String c, String d) { return a; }
            private String hidden(String s) { return s; }
          }""")
      .source("demo.NoCtor", """
          package demo;
          public class NoCtor {
            public NoCtor(int x) {}
            public String handle(String s) { return s; }
          }""")
      .zip();

  @Test
  void prepare_failsForAMissingClass_namingIt() {
    assertInitFailure("demo.Missing::handle", "java.lang.ClassNotFoundException", "demo.Missing");
  }

  @Test
  void prepare_failsForAMissingMethod_namingClassAndMethod() {
    assertInitFailure("demo.Echo::nothing", "java.lang.NoSuchMethodException", "demo.Echo has no public method nothing");
    assertInitFailure("demo.Echo::hidden", "java.lang.NoSuchMethodException", "demo.Echo has no public method hidden");
  }

  @Test
  void prepare_failsForAnUnsupportedSignature() {
    assertInitFailure("demo.Echo::tooMany", "java.lang.NoSuchMethodException", "demo.Echo::tooMany takes none");
  }

  @Test
  void prepare_failsForAClassWithoutHandlerInterfaceOrMethod() {
    assertInitFailure("demo.Echo", "java.lang.NoSuchMethodException", "name the method as demo.Echo::method");
  }

  @Test
  void prepare_failsWithoutANoArgumentConstructor() {
    assertInitFailure("demo.NoCtor::handle", "java.lang.NoSuchMethodException", "public no-argument constructor");
  }

  @Test
  void prepare_failsForAMalformedHandlerString() {
    assertInitFailure("demo.Echo::", "java.lang.IllegalArgumentException", "handler must be");
    assertInitFailure("not a class", "java.lang.IllegalArgumentException", "was \"not a class\"");
  }

  private void assertInitFailure(String handler, String type, String message) {
    assertThatThrownBy(() -> prepare(ECHO, tmp, handler))
        .isInstanceOfSatisfying(FunctionFailure.class, f -> {
          org.assertj.core.api.Assertions.assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.INIT);
          org.assertj.core.api.Assertions.assertThat(f.errorType()).isEqualTo(type);
          org.assertj.core.api.Assertions.assertThat(f.errorMessage()).contains(message);
        });
  }
}
