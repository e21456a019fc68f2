package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PayloadMappingTest {

  @TempDir Path tmp;

  private ExecutionEnvironment function(String className, String source, String handler) {
    return start(prepare(JavaFunctions.zipOf(className, source), tmp, handler), new Fixtures.Env(tmp));
  }

  @Test
  void pojoInputAndOutput_throughRequestHandler() {
    ExecutionEnvironment env = function("demo.Greeter", """
        package demo;
        import dev.embla.faas.spi.*;
        public class Greeter implements RequestHandler<Greeter.In, Greeter.Out> {
          public static class In { public String name; public int times; }
          public static class Out {
            private final String text;
            Out(String text) { this.text = text; }
            public String getText() { return text; }
          }
          @Override public Out handle(In in, Context context) {
            return new Out(context.getFunctionName() + ": " + ("hi " + in.name + " ").repeat(in.times).strip());
          }
        }""", "demo.Greeter");

    assertThat(invoke(env, "{\"name\":\"ada\",\"times\":2,\"ignored\":true}"))
        .isEqualTo("{\"text\":\"fn: hi ada hi ada\"}");
  }

  @Test
  void recordInputAndOutput() {
    ExecutionEnvironment env = function("demo.Sum", """
        package demo;
        public class Sum {
          public record Pair(int a, int b) {}
          public record Total(int sum, String label) {}
          public Total handle(Pair p) { return new Total(p.a() + p.b(), "sum"); }
        }""", "demo.Sum::handle");

    assertThat(invoke(env, "{\"a\":2,\"b\":40}")).isEqualTo("{\"sum\":42,\"label\":\"sum\"}");
  }

  @Test
  void genericMapAndListInputs_useTheDeclaredElementTypes() {
    ExecutionEnvironment env = function("demo.Gen", """
        package demo;
        import java.util.*;
        import dev.embla.faas.spi.Context;
        public class Gen {
          public record Item(String sku) {}
          public Map<String, Integer> handle(List<Item> items, Context ctx) {
            Map<String, Integer> counts = new TreeMap<>();
            for (Item i : items) counts.merge(i.sku(), 1, Integer::sum);
            return counts;
          }
        }""", "demo.Gen::handle");

    assertThat(invoke(env, "[{\"sku\":\"b\"},{\"sku\":\"a\"},{\"sku\":\"b\"}]")).isEqualTo("{\"a\":1,\"b\":2}");
  }

  @Test
  void mapOfJdkTypes_andListResultOfFunctionTypes() {
    ExecutionEnvironment env = function("demo.Keys", """
        package demo;
        import java.util.*;
        public class Keys {
          public record Key(String name) {}
          public List<Key> handle(Map<String, Object> in) {
            List<Key> keys = new ArrayList<>();
            for (String k : new TreeSet<>(in.keySet())) keys.add(new Key(k));
            return keys;
          }
        }""", "demo.Keys::handle");

    assertThat(invoke(env, "{\"y\":1,\"x\":{\"nested\":[1,2]}}")).isEqualTo("[{\"name\":\"x\"},{\"name\":\"y\"}]");
  }

  @Test
  void stringIntAndNullResults() {
    ExecutionEnvironment strings = function("demo.Upper", """
        package demo;
        public class Upper {
          public String handle(String s) { return s.equals("none") ? null : s.toUpperCase(); }
        }""", "demo.Upper::handle");
    ExecutionEnvironment ints = function("demo.Twice",
        "package demo; public class Twice { public static int handle(int x) { return 2 * x; } }",
        "demo.Twice::handle");

    assertThat(invoke(strings, "\"abc\"")).isEqualTo("\"ABC\"");
    assertThat(invoke(strings, "\"none\"")).isEqualTo("null");
    assertThat(invoke(ints, "21")).isEqualTo("42");
  }

  @Test
  void streamHandlers_getRawBytes_withAndWithoutContext() {
    ExecutionEnvironment spi = function("demo.Rev", """
        package demo;
        import java.io.*;
        import dev.embla.faas.spi.*;
        public class Rev implements StreamHandler {
          @Override public void handle(InputStream in, OutputStream out, Context ctx) throws IOException {
            out.write(new StringBuilder(new String(in.readAllBytes())).reverse().toString().getBytes());
          }
        }""", "demo.Rev");
    ExecutionEnvironment plain = function("demo.Copy", """
        package demo;
        import java.io.*;
        public class Copy {
          public void copy(InputStream in, OutputStream out) throws IOException { in.transferTo(out); out.write('!'); }
        }""", "demo.Copy::copy");

    assertThat(invoke(spi, "not json at all")).isEqualTo("lla ta nosj ton");
    assertThat(invoke(plain, "raw")).isEqualTo("raw!");
  }

  @Test
  void badPayload_isABadPayloadFailureNamingTheInputType() {
    ExecutionEnvironment env = function("demo.Sum", """
        package demo;
        public class Sum {
          public record Pair(int a, int b) {}
          public int handle(Pair p) { return p.a() + p.b(); }
        }""", "demo.Sum::handle");

    assertThatThrownBy(() -> invoke(env, "{\"a\":\"not a number\"}"))
        .isInstanceOfSatisfying(FunctionFailure.class, f -> {
          assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.BAD_PAYLOAD);
          assertThat(f.errorType()).isEqualTo("Runtime.UnmarshalError");
          assertThat(f.errorMessage()).contains("demo.Sum$Pair").contains("not a number");
        });
    assertThatThrownBy(() -> invoke(env, "{broken"))
        .isInstanceOfSatisfying(FunctionFailure.class,
            f -> assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.BAD_PAYLOAD));
    // the environment stays usable
    assertThat(invoke(env, "{\"a\":1,\"b\":2}")).isEqualTo("3");
  }

  @Test
  void handlerException_isAHandlerFailureWithTypeMessageAndFrames() {
    ExecutionEnvironment env = function("demo.Boom", """
        package demo;
        public class Boom {
          public String handle(String s) {
            return check(s);
          }
          private String check(String s) {
            throw new IllegalArgumentException("bad input: " + s);
          }
        }""", "demo.Boom::handle");

    assertThatThrownBy(() -> invoke(env, "\"x\""))
        .isInstanceOfSatisfying(FunctionFailure.class, f -> {
          assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.HANDLER);
          assertThat(f.errorType()).isEqualTo("java.lang.IllegalArgumentException");
          assertThat(f.errorMessage()).isEqualTo("bad input: x");
          assertThat(f.stackTraceLines()).containsExactly("demo.Boom.check(Boom.java:7)", "demo.Boom.handle(Boom.java:4)");
        });
  }

  @Test
  void functionThrowingTheRuntimesOwnExceptionTypes_isStillAHandlerFailure() {
    ExecutionEnvironment env = function("demo.Sly", """
        package demo;
        import dev.embla.faas.spi.runtime.FunctionFailure;
        import java.util.List;
        import java.util.concurrent.CancellationException;
        public class Sly {
          public String handle(String s) {
            if (s.equals("exit")) throw new FunctionFailure(FunctionFailure.Kind.EXIT, "x", "y", List.of(), null);
            throw new CancellationException("not really");
          }
        }""", "demo.Sly::handle");

    assertThatThrownBy(() -> invoke(env, "\"exit\"")).isInstanceOfSatisfying(FunctionFailure.class, f -> {
      assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.HANDLER);
      assertThat(f.errorType()).isEqualTo(FunctionFailure.class.getName());
    });
    assertThatThrownBy(() -> invoke(env, "\"cancel\"")).isInstanceOfSatisfying(FunctionFailure.class, f -> {
      assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.HANDLER);
      assertThat(f.errorMessage()).isEqualTo("not really");
    });
  }

  @Test
  void initFailure_isAnInitFailureWithTheFunctionsException() {
    var function = prepare(JavaFunctions.zipOf("demo.Fragile", """
        package demo;
        public class Fragile {
          static final String CONFIG = load();
          static String load() { throw new IllegalStateException("no config"); }
          public String handle(String s) { return s; }
        }"""), tmp, "demo.Fragile::handle");
    ExecutionEnvironment env = function.newEnvironment(new Fixtures.Env(tmp));

    assertThatThrownBy(env::init).isInstanceOfSatisfying(FunctionFailure.class, f -> {
      assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.INIT);
      assertThat(f.errorType()).isEqualTo("java.lang.IllegalStateException");
      assertThat(f.errorMessage()).isEqualTo("no config");
      assertThat(f.stackTraceLines()).first().isEqualTo("demo.Fragile.load(Fragile.java:4)");
    });
  }

  @Test
  void constructorFailure_isAnInitFailure() {
    var function = prepare(JavaFunctions.zipOf("demo.Ctor", """
        package demo;
        public class Ctor {
          public Ctor() { throw new UnsupportedOperationException("nope"); }
          public String handle(String s) { return s; }
        }"""), tmp, "demo.Ctor::handle");

    assertThatThrownBy(() -> function.newEnvironment(new Fixtures.Env(tmp)).init())
        .isInstanceOfSatisfying(FunctionFailure.class, f -> {
          assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.INIT);
          assertThat(f.errorType()).isEqualTo("java.lang.UnsupportedOperationException");
        });
  }
}
