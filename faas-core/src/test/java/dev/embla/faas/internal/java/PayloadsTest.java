package dev.embla.faas.internal.java;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.ObjectReader;

class PayloadsTest {

  @SuppressWarnings("unused") // read by reflection: two declarations of the same JDK type
  private static void first(Map<String, List<Integer>> in) {}

  @SuppressWarnings("unused")
  private static void second(Map<String, List<Integer>> in) {}

  @SuppressWarnings("unused") // a type no other test asks a reader for, so the calls below are its first
  private static void raced(Map<Short, List<Byte>> in) {}

  /** Defined again in a throwaway loader: a handler whose input type is JDK-only but has a wildcard. */
  public static final class WildcardHandler {
    /** The handler method. */
    public static void handle(Map<String, ? extends Number> in) {}
  }

  /** A generic base whose handler subclass binds one variable to a JDK type and one to a class of its own. */
  public static class GenericBase<A, B> {
    /** The handler method, inherited. */
    public void take(List<A> list, A[] array, B own) {}
  }

  /** The handler class. */
  public static final class BoundHandler extends GenericBase<String, PayloadsTest> {}

  private static Type parameterOf(String method) throws NoSuchMethodException {
    return PayloadsTest.class.getDeclaredMethod(method, Map.class).getGenericParameterTypes()[0];
  }

  @Test
  void jdkReader_isSharedByEveryDeclarationOfTheSameType() throws Exception {
    // As two versions (two class loaders) of a handler would see it: equal, but not the same Type object
    Type a = parameterOf("first");
    Type b = parameterOf("second");
    assertThat(a).isNotSameAs(b).isEqualTo(b);

    ObjectReader reader = Payloads.jdkReader(a);

    assertThat(Payloads.jdkReader(b)).isSameAs(reader);
    Map<String, List<Integer>> value = reader.readValue("{\"k\":[1,2]}");
    assertThat(value).containsEntry("k", List.of(1, 2));
  }

  @Test
  void jdkReader_racingFirstCallsAllGetTheSameReader() throws Exception {
    int threads = 16;
    Type type = parameterOf("raced");
    CountDownLatch start = new CountDownLatch(1);
    Set<ObjectReader> seen = ConcurrentHashMap.newKeySet();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> calls = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        calls.add(pool.submit(() -> {
          start.await();
          seen.add(Payloads.jdkReader(type));
          return null;
        }));
      }
      start.countDown();
      for (Future<?> call : calls) {
        call.get(30, TimeUnit.SECONDS);
      }
    }

    assertThat(seen).hasSize(1).containsExactly(Payloads.jdkReader(type));
  }

  @Test
  void isJdkType_ofATypeResolvedAgainstTheHandlerClass_looksAtEveryClassItHolds() throws Exception {
    Method take = GenericBase.class.getMethod("take", List.class, Object[].class, Object.class);

    assertThat(Payloads.isJdkType(HandlerSpec.inputType(BoundHandler.class, take, 0))).as("List<String>").isTrue();
    assertThat(Payloads.isJdkType(HandlerSpec.inputType(BoundHandler.class, take, 2))).as("PayloadsTest").isFalse();
    // String[], but Jackson's array type keeps the bindings it was resolved in, PayloadsTest among them; as a key
    // (equal to a plain String[]) it would keep that class in the map every version shares
    assertThat(Payloads.isJdkType(HandlerSpec.inputType(BoundHandler.class, take, 1))).as("String[]").isFalse();
  }

  @Test
  void jdkReader_keepsNoHandlersClassLoaderAlive() throws Exception {
    // A reflective wildcard type refers to the method it was read from, and so to the handler's class and loader:
    // the shared cache must not keep it.
    WeakReference<ClassLoader> loader = readWildcardInputOfAThrowawayLoader();

    for (int i = 0; i < 50 && loader.get() != null; i++) {
      System.gc();
    }

    assertThat(loader.get()).as("the handler's class loader, after a reader for its input type was made").isNull();
  }

  private static WeakReference<ClassLoader> readWildcardInputOfAThrowawayLoader() throws Exception {
    ClassLoader throwaway = new Throwaway(WildcardHandler.class);
    Class<?> handler = Class.forName(WildcardHandler.class.getName(), true, throwaway);
    Type input = handler.getMethod("handle", Map.class).getGenericParameterTypes()[0];
    assertThat(handler.getClassLoader()).isSameAs(throwaway);
    assertThat(Payloads.isJdkType(input)).isTrue();

    Map<String, Number> value = Payloads.jdkReader(input).readValue("{\"n\":1}");

    assertThat(value).containsEntry("n", 1);
    return new WeakReference<>(throwaway);
  }

  /** Defines one class from its bytes; everything else from the platform loader (the JDK). */
  private static final class Throwaway extends ClassLoader {
    private final String name;
    private final byte[] bytes;

    Throwaway(Class<?> cls) throws IOException {
      super(ClassLoader.getPlatformClassLoader());
      this.name = cls.getName();
      try (InputStream in = cls.getResourceAsStream("/" + name.replace('.', '/') + ".class")) {
        this.bytes = in.readAllBytes();
      }
    }

    @Override
    protected Class<?> findClass(String className) throws ClassNotFoundException {
      if (!className.equals(name)) {
        throw new ClassNotFoundException(className);
      }
      return defineClass(className, bytes, 0, bytes.length);
    }
  }
}
