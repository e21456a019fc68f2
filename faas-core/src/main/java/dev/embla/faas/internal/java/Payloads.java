package dev.embla.faas.internal.java;

import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.ResolvedRecursiveType;

/**
 * JSON mapping of payloads and results. Jackson caches (de)serializers by class, so a mapper that ever saw a
 * function's own class would keep that function's class loader alive: the shared mapper only ever sees JDK types,
 * and function types go through a mapper owned by their environment.
 */
final class Payloads {

  /** The mapper for JDK types only; shared by every version and environment. */
  static final JsonMapper SHARED = newMapper();

  static final byte[] NULL = {'n', 'u', 'l', 'l'};

  // Readers for JDK-only input types, shared by every version. Keyed by Jackson's JavaType, which names classes only
  // (all of them the JDK's), not by the reflective Type: a wildcard's Type refers to the method it was read from, and
  // so to the function's class loader. As many entries as distinct JDK input types among the handlers ever
  // registered; a host that registers code from untrusted tenants bounds that with its own limits on registrations.
  private static final ConcurrentHashMap<JavaType, ObjectReader> JDK_READERS = new ConcurrentHashMap<>();

  // How many values isJdkValue looks at before it assumes the worst; serialising visits them all anyway.
  private static final int SCAN_BUDGET = 10_000;

  private Payloads() {}

  /** Returns a mapper configured like Lambda's serializer: unknown properties ignored, declaration order kept. */
  static JsonMapper newMapper() {
    return dev.embla.faas.internal.json.Json.mapper()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        // one document per payload, as Lambda's Invoke API requires; lets the engine skip its own syntax check
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
        .build();
  }

  /**
   * Returns the shared reader for {@code type}, which must name JDK classes only ({@link #isJdkType}). Never blocks:
   * racing first calls each build a reader and one is kept. (A {@code computeIfAbsent} here made every environment's
   * first call that arrived while another built the reader wait on a monitor; a virtual thread that waits on a monitor
   * leaves its carrier and queues again behind every other runnable one, which in a burst of cold starts is
   * milliseconds.)
   */
  static ObjectReader jdkReader(Type type) {
    JavaType key = SHARED.constructType(type);
    ObjectReader reader = JDK_READERS.get(key);
    if (reader == null) {
      reader = SHARED.readerFor(key);
      ObjectReader raced = JDK_READERS.putIfAbsent(key, reader);
      if (raced != null) {
        reader = raced;
      }
    }
    return reader;
  }

  /** Returns whether every class named by {@code type} is the JDK's. */
  static boolean isJdkType(Type type) {
    return switch (type) {
      case Class<?> c -> isJdkClass(c);
      case ParameterizedType p -> {
        if (!isJdkType(p.getRawType())) {
          yield false;
        }
        for (Type argument : p.getActualTypeArguments()) {
          if (!isJdkType(argument)) {
            yield false;
          }
        }
        yield true;
      }
      case GenericArrayType a -> isJdkType(a.getGenericComponentType());
      case WildcardType w -> allJdk(w.getUpperBounds()) && allJdk(w.getLowerBounds());
      // A type variable references its declaring class, possibly the function's: never a key of a shared cache.
      case TypeVariable<?> v -> false;
      // A type variable resolved against the handler class (HandlerSpec.inputType). Its bindings are checked too: an
      // array type keeps those of the class it was resolved in, and a key must not hold a function's class. A
      // self-reference is left to the environment's mapper rather than followed.
      case ResolvedRecursiveType r -> false;
      case JavaType j -> isJdkClass(j.getRawClass()) && allJdk(j.getBindings().getTypeParameters())
          && (j.getContentType() == null || isJdkType(j.getContentType()))
          && (j.getKeyType() == null || isJdkType(j.getKeyType()));
      default -> false;
    };
  }

  /** Returns whether {@code value} and everything it contains (as far as Jackson will look) are JDK objects. */
  static boolean isJdkValue(Object value) {
    return isJdkValue(value, new int[] {SCAN_BUDGET});
  }

  private static boolean isJdkValue(Object value, int[] budget) {
    if (value == null) {
      return true;
    }
    if (--budget[0] < 0 || !isJdkClass(value.getClass())) {
      return false;
    }
    switch (value) {
      case Map<?, ?> map -> {
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!isJdkValue(e.getKey(), budget) || !isJdkValue(e.getValue(), budget)) {
            return false;
          }
        }
      }
      case Collection<?> collection -> {
        for (Object element : collection) {
          if (!isJdkValue(element, budget)) {
            return false;
          }
        }
      }
      case Optional<?> optional -> {
        return isJdkValue(optional.orElse(null), budget);
      }
      default -> {
        if (value.getClass().isArray() && !value.getClass().getComponentType().isPrimitive()) {
          int length = Array.getLength(value);
          for (int i = 0; i < length; i++) {
            if (!isJdkValue(Array.get(value, i), budget)) {
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  /** Returns how {@code type} is named in messages: {@code java.util.List<com.acme.Order>}. */
  static String typeName(Type type) {
    return type instanceof JavaType j ? j.toCanonical() : type.getTypeName();
  }

  private static boolean allJdk(List<? extends Type> types) {
    for (Type t : types) {
      if (!isJdkType(t)) {
        return false;
      }
    }
    return true;
  }

  private static boolean allJdk(Type[] types) {
    for (Type t : types) {
      if (!isJdkType(t)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isJdkClass(Class<?> c) {
    ClassLoader loader = c.getClassLoader();
    return loader == null || loader == ClassLoader.getPlatformClassLoader();
  }
}
