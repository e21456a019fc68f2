package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.testing.JavaFunctions;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxRedirectionTest {

  @TempDir Path tmp;

  @Test
  void systemExit_throwsInsideTheFunction_andTheHostKeepsRunning() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Quit", """
        package demo;
        public class Quit {
          public String handle(String how) {
            try {
              if (how.equals("exit")) System.exit(3);
              else if (how.equals("halt")) Runtime.getRuntime().halt(4);
              else Runtime.getRuntime().exit(5);
              return "still here";
            } catch (SecurityException e) {
              return e.getMessage();
            }
          }
        }"""), tmp, "demo.Quit::handle");
    JavaEnvironment env = (JavaEnvironment) start(f, new Fixtures.Env(tmp));

    assertThat(invoke(env, "\"exit\""))
        .isEqualTo("\"System.exit(3) is not allowed in a function; the host keeps running\"");
    assertThat(invoke(env, "\"halt\"")).contains("(4) is not allowed");
    assertThat(invoke(env, "\"runtime\"")).contains("(5) is not allowed");
    // the test JVM is still here, and the engine is told to discard the environment
    assertThat(env.isBroken()).isTrue();
  }

  @Test
  void signals_raisingOneOrTakingItsHandlerIsRefused_andTheHostKeepsRunningAndItsHandlers() {
    // Without the sandbox, raise(TERM) ends this JVM (exit code 143), and handle(TERM) replaces the host's handler.
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Kill", """
        package demo;
        import sun.misc.Signal;
        public class Kill {
          public String handle(String how) {
            try {
              if (how.equals("raise")) Signal.raise(new Signal("TERM"));
              else Signal.handle(new Signal("TERM"), s -> {});
              return "not refused";
            } catch (SecurityException e) {
              return e.getMessage();
            }
          }
        }"""), tmp, "demo.Kill::handle");
    JavaEnvironment env = (JavaEnvironment) start(f, new Fixtures.Env(tmp));

    assertThat(invoke(env, "\"handle\"")).isEqualTo("\"sun.misc.Signal.handle(SIGTERM) is not allowed in a function:"
        + " the process's signal handlers are the host's\"");
    assertThat(env.isBroken()).isFalse(); // refusing a handler is not an exit
    assertThat(invoke(env, "\"raise\"")).isEqualTo("\"sun.misc.Signal.raise(SIGTERM) is not allowed in a function:"
        + " it would signal the host's process; the host keeps running\"");
    assertThat(env.isBroken()).isTrue(); // an attempt to end the process, like System.exit: the environment goes
  }

  @Test
  void systemExit_escapingTheHandler_isAnExitFailure() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Quit",
        "package demo; public class Quit { public String handle(String s) { System.exit(1); return s; } }"), tmp,
        "demo.Quit::handle");
    ExecutionEnvironment env = start(f, new Fixtures.Env(tmp));

    assertThatThrownBy(() -> invoke(env, "\"x\""))
        .isInstanceOfSatisfying(FunctionFailure.class, failure -> {
          assertThat(failure.kind()).isEqualTo(FunctionFailure.Kind.EXIT);
          assertThat(failure.errorMessage()).contains("System.exit(1) is not allowed");
        });
  }

  @Test
  void systemExit_inStaticInitialiser_failsInitWithoutEndingTheHost() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Quit", """
        package demo;
        public class Quit {
          static { if (true) Runtime.getRuntime().halt(9); }
          public String handle(String s) { return s; }
        }"""), tmp, "demo.Quit::handle");
    ExecutionEnvironment env = f.newEnvironment(new Fixtures.Env(tmp));

    assertThatThrownBy(env::init).isInstanceOfSatisfying(FunctionFailure.class,
        failure -> assertThat(failure.kind()).isEqualTo(FunctionFailure.Kind.EXIT));
  }

  @Test
  void getenv_seesTheFunctionsVariables_notTheHosts() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Env", """
        package demo;
        import java.util.*;
        public class Env {
          public List<Object> handle(String s) {
            return Arrays.asList(System.getenv("GREETING"), System.getenv("PATH"), System.getenv("HOME"),
                new TreeSet<>(System.getenv().keySet()));
          }
        }"""), tmp, "demo.Env::handle");
    assertThat(System.getenv("PATH")).isNotNull();

    assertThat(invoke(start(f, new Fixtures.Env(tmp)), "\"\""))
        .isEqualTo("[\"hej\",null,null,[\"AWS_LAMBDA_FUNCTION_NAME\",\"AWS_LAMBDA_LOG_STREAM_NAME\",\"GREETING\"]]");
  }

  @Test
  void standardStreams_reachTheFunctionOutput_lineByLine_andNotTheHosts() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Talk", """
        package demo;
        public class Talk {
          static { System.out.println("init line"); }
          public String handle(String s) {
            System.out.println("hello " + s);
            System.out.print("two\\nlines");
            System.err.print("partial");
            System.setOut(null);
            new IllegalStateException("shown").printStackTrace();
            return s;
          }
        }"""), tmp, "demo.Talk::handle");
    Fixtures.Env out = new Fixtures.Env(tmp);
    PrintStream hostOut = System.out;

    ExecutionEnvironment env = start(f, out);
    invoke(env, "\"world\"");

    assertThat(System.out).isSameAs(hostOut);
    assertThat(out.lines).startsWith("STDOUT init line", "STDOUT hello world", "STDOUT two")
        .contains("STDOUT lines", "STDERR partialjava.lang.IllegalStateException: shown")
        .anyMatch(l -> l.startsWith("STDERR \tat demo.Talk.handle(Talk.java:"));
  }
}
