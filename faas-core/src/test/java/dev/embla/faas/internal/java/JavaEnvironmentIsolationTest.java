package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaEnvironmentIsolationTest {

  @TempDir Path tmp;

  @Test
  void invoke_sameClassNameDifferentCode_givesEachFunctionsOwnResult() {
    PreparedFunction one = prepare(JavaFunctions.zipOf("demo.Echo",
        "package demo; public class Echo { public String handle(String s) { return \"one:\" + s; } }"), tmp,
        "demo.Echo::handle");
    PreparedFunction two = prepare(JavaFunctions.zipOf("demo.Echo",
        "package demo; public class Echo { public String handle(String s) { return \"two:\" + s; } }"), tmp,
        "demo.Echo::handle");

    assertThat(invoke(start(one, new Fixtures.Env(tmp)), "\"x\"")).isEqualTo("\"one:x\"");
    assertThat(invoke(start(two, new Fixtures.Env(tmp)), "\"x\"")).isEqualTo("\"two:x\"");
  }

  @Test
  void functionCode_cannotLoadHostOrEngineClasses() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Probe", """
        package demo;
        import java.util.*;
        public class Probe {
          public Map<String, String> handle(List<String> names) {
            Map<String, String> seen = new LinkedHashMap<>();
            for (String n : names) {
              try {
                Class<?> c = Class.forName(n);
                seen.put(n, c.getName());
              } catch (ClassNotFoundException e) {
                seen.put(n, "CNFE");
              }
            }
            return seen;
          }
        }"""), tmp, "demo.Probe::handle");

    String result = invoke(start(f, new Fixtures.Env(tmp)), """
        ["com.google.common.collect.ImmutableList", "tools.jackson.databind.ObjectMapper",
         "dev.embla.faas.internal.java.JavaEnvironment", "dev.embla.faas.internal.java.Fixtures",
         "org.junit.jupiter.api.Test", "java.util.ArrayList", "dev.embla.faas.spi.RequestHandler"]""");

    assertThat(result).isEqualTo("""
        {"com.google.common.collect.ImmutableList":"CNFE","tools.jackson.databind.ObjectMapper":"CNFE",\
        "dev.embla.faas.internal.java.JavaEnvironment":"CNFE","dev.embla.faas.internal.java.Fixtures":"CNFE",\
        "org.junit.jupiter.api.Test":"CNFE","java.util.ArrayList":"java.util.ArrayList",\
        "dev.embla.faas.spi.RequestHandler":"dev.embla.faas.spi.RequestHandler"}""");
  }

  @Test
  void spiTypes_areTheEngines_evenWhenTheFunctionBundlesACopy() throws Exception {
    PreparedFunction f = prepare(JavaFunctions.builder()
        .source("demo.Same", """
            package demo;
            public class Same {
              public int handle(String ignored) throws Exception {
                // Not compared by loader: getClassLoader() of the engine's SPI class now answers the function's own.
                return System.identityHashCode(Class.forName("dev.embla.faas.spi.Context"));
              }
            }""")
        .source("dev.embla.faas.spi.Context", "package dev.embla.faas.spi; public interface Context {}")
        .zip(), tmp, "demo.Same::handle");

    assertThat(invoke(start(f, new Fixtures.Env(tmp)), "\"\""))
        .isEqualTo(String.valueOf(System.identityHashCode(dev.embla.faas.spi.Context.class)));
  }

  @Test
  void statics_arePerEnvironment_andInitRunsOncePerEnvironment() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Counter", """
        package demo;
        public class Counter {
          static int constructed;
          static int clinit;
          static { clinit++; }
          int calls;
          public Counter() { constructed++; }
          public String handle(String s) { calls++; return constructed + "/" + clinit + "/" + calls; }
        }"""), tmp, "demo.Counter::handle");

    ExecutionEnvironment a = start(f, new Fixtures.Env(tmp));
    ExecutionEnvironment b = start(f, new Fixtures.Env(tmp));

    assertThat(invoke(a, "\"\"")).isEqualTo("\"1/1/1\"");
    assertThat(invoke(a, "\"\"")).isEqualTo("\"1/1/2\"");
    assertThat(invoke(b, "\"\"")).isEqualTo("\"1/1/1\"");
  }

  @Test
  void contextClassLoader_isTheFunctionsDuringInvoke_andRestoredAfter() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Tccl", """
        package demo;
        public class Tccl {
          public boolean handle(String s) {
            return Thread.currentThread().getContextClassLoader() == Tccl.class.getClassLoader();
          }
        }"""), tmp, "demo.Tccl::handle");
    ClassLoader before = Thread.currentThread().getContextClassLoader();

    assertThat(invoke(start(f, new Fixtures.Env(tmp)), "\"\"")).isEqualTo("true");
    assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
  }

  @Test
  void resources_areFoundAtTheRootAndInLibJars() {
    PreparedFunction f = prepare(JavaFunctions.builder()
        .source("demo.Res", """
            package demo;
            import java.io.*;
            import java.nio.charset.StandardCharsets;
            import java.util.*;
            public class Res {
              public List<String> handle(String name) throws IOException {
                List<String> out = new ArrayList<>();
                try (InputStream in = Res.class.getClassLoader().getResourceAsStream("config.txt")) {
                  out.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                out.add(String.valueOf(Res.class.getResource("/lib/Helper.class") == null));
                try (InputStream in = Res.class.getResourceAsStream("/lib/Helper.class")) {
                  out.add(String.valueOf(in == null));
                }
                try (InputStream in = Thread.currentThread().getContextClassLoader()
                    .getResourceAsStream("lib/Helper.class")) {
                  out.add(String.valueOf(in.readAllBytes().length > 0));
                }
                out.add(String.valueOf(Collections.list(Res.class.getClassLoader().getResources("lib/Helper.class")).size()));
                out.add(new lib.Helper().hello());
                return out;
              }
            }""")
        .resource("config.txt", "from-root")
        .libJar("helper.jar", Map.of("lib.Helper",
            "package lib; public class Helper { public String hello() { return \"from-jar\"; } }"))
        .zip(), tmp, "demo.Res::handle");

    assertThat(invoke(start(f, new Fixtures.Env(tmp)), "\"\""))
        .isEqualTo("[\"from-root\",\"false\",\"false\",\"true\",\"1\",\"from-jar\"]");
  }

  @Test
  void shutdown_releasesTheLoader() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Echo",
        "package demo; public class Echo { public String handle(String s) { return s; } }"), tmp, "demo.Echo::handle");
    ExecutionEnvironment e = start(f, new Fixtures.Env(tmp));
    invoke(e, "\"x\"");

    e.shutdown(Duration.ofSeconds(2));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> invoke(e, "\"x\""))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("shut down");
  }
}
