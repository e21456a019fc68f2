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

  // Handler methods declared in generic superclasses and interfaces; each subclass binds the type variable.
  private static final byte[] GENERIC = JavaFunctions.builder()
      .source("example.Order", "package example; public record Order(String id, int qty) {}")
      .source("example.LambdaBase", """
          package example;
          import com.amazonaws.services.lambda.runtime.*;
          public abstract class LambdaBase<I> implements RequestHandler<I, String> {
            @Override public String handleRequest(I input, Context context) { return describe(input); }
            protected abstract String describe(I input);
          }""")
      .source("example.LambdaOrders", """
          package example;
          public class LambdaOrders extends LambdaBase<Order> {
            @Override protected String describe(Order o) { return o.id() + " x" + o.qty(); }
          }""")
      .source("example.EmblaBase", """
          package example;
          import dev.embla.faas.spi.*;
          public abstract class EmblaBase<I, O> implements RequestHandler<I, O> {
            @Override public O handle(I input, Context context) { return apply(input); }
            protected abstract O apply(I input);
          }""")
      .source("example.EmblaOrders", """
          package example;
          public class EmblaOrders extends EmblaBase<Order, EmblaOrders.Receipt> {
            public record Receipt(String order, int total) {}
            @Override protected Receipt apply(Order o) { return new Receipt(o.id(), 10 * o.qty()); }
          }""")
      .source("example.Counter", """
          package example;
          public class Counter extends EmblaBase<Long, Long> {
            @Override protected Long apply(Long n) { return n + 1; }
          }""")
      .source("example.Pipeline", """
          package example;
          public abstract class Pipeline<I> {
            public String run(I input) { return describe(input); }
            protected abstract String describe(I input);
          }""")
      .source("example.OrderPipeline", """
          package example;
          public class OrderPipeline extends Pipeline<Order> {
            @Override protected String describe(Order o) { return o.id(); }
          }""")
      .source("example.Labelled", """
          package example;
          public interface Labelled<I> {
            default String name(I input, dev.embla.faas.spi.Context context) { return label(input); }
            String label(I input);
          }""")
      .source("example.OrderLabels", """
          package example;
          public class OrderLabels implements Labelled<Order> {
            @Override public String label(Order o) { return "order " + o.id(); }
          }""")
      .source("example.Batches", """
          package example;
          public abstract class Batches<T> extends Pipeline<java.util.List<T>> {}""")
      .source("example.OrderBatches", """
          package example;
          public class OrderBatches extends Batches<Order> {
            @Override protected String describe(java.util.List<Order> orders) {
              return orders.size() + " orders, " + orders.stream().mapToInt(Order::qty).sum() + " items";
            }
          }""")
      .libJar("aws-lambda-java-core.jar", LambdaCompatibilityTest.LAMBDA_CORE)
      .zip();

  @Test
  void lambdaRequestHandler_inheritedFromAGenericBase_getsTheInputTypeTheSubclassBinds() {
    assertThat(invoke(generic("example.LambdaOrders"), "{\"id\":\"o-1\",\"qty\":3}")).isEqualTo("\"o-1 x3\"");
  }

  @Test
  void emblaRequestHandler_inheritedFromAGenericBase_getsTheInputTypeTheSubclassBinds() {
    assertThat(invoke(generic("example.EmblaOrders"), "{\"id\":\"o-1\",\"qty\":3}"))
        .isEqualTo("{\"order\":\"o-1\",\"total\":30}");
  }

  @Test
  void typeVariableBoundToAJdkType_takesTheSharedJdkReader() {
    var function = (JavaPreparedFunction) prepare(GENERIC, tmp, "example.Counter");

    // known at prepare, so Init neither looks the method up nor parses its signature
    assertThat(function.spec().jdkInputType()).isNotNull();
    assertThat(invoke(start(function, new Fixtures.Env(tmp)), "41")).isEqualTo("42");
  }

  @Test
  void methodHandler_inheritedFromAGenericSuperclassOrInterface_getsTheInputTypeTheSubclassBinds() {
    assertThat(invoke(generic("example.OrderPipeline::run"), "{\"id\":\"o-1\",\"qty\":3}")).isEqualTo("\"o-1\"");
    assertThat(invoke(generic("example.OrderLabels::name"), "{\"id\":\"o-2\"}")).isEqualTo("\"order o-2\"");
  }

  @Test
  void methodHandler_twoGenericLevelsUp_getsTheTypeBoundAtTheBottom() {
    ExecutionEnvironment env = generic("example.OrderBatches::run");

    assertThat(invoke(env, "[{\"id\":\"a\",\"qty\":2},{\"id\":\"b\",\"qty\":5}]")).isEqualTo("\"2 orders, 7 items\"");
    assertThatThrownBy(() -> invoke(env, "[{\"qty\":\"many\"}]"))
        .isInstanceOfSatisfying(FunctionFailure.class, f -> {
          assertThat(f.kind()).isEqualTo(FunctionFailure.Kind.BAD_PAYLOAD);
          assertThat(f.errorMessage()).startsWith("payload does not map to java.util.List<example.Order>: ");
        });
  }

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

  private ExecutionEnvironment generic(String handler) {
    return start(prepare(GENERIC, tmp, handler), new Fixtures.Env(tmp));
  }
}
