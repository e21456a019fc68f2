package dev.embla.faas.internal.java;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;
import dev.embla.faas.spi.StreamHandler;
import dev.embla.faas.spi.runtime.FunctionFailure;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.type.TypeFactory;

/**
 * A handler string resolved against a version's code at prepare: which class and method, and what each parameter
 * receives. Holds names only, never classes, so it does not pin the loader it was resolved with; each environment
 * binds it again on its own loader ({@link #bind}).
 *
 * <p>Accepted (Lambda's rules): {@code com.acme.Foo::method}, or {@code com.acme.Foo} implementing Embla's
 * {@link RequestHandler} or {@link StreamHandler} ({@code handle}) or Lambda's {@code RequestHandler} or
 * {@code RequestStreamHandler} ({@code handleRequest}). Public, non-bridge methods taking {@code (I)},
 * {@code (I, Context)}, {@code (InputStream, OutputStream)} or {@code (InputStream, OutputStream, Context)}, where
 * {@code Context} is Embla's or Lambda's; overloads resolve to the one with the most parameters. The input's type is
 * the one the handler class gives the parameter: a method declared in a generic superclass or interface
 * ({@code Base<I>}, with {@code OrderHandler extends Base<Order>}) takes what the class binds its type variables to,
 * as in Lambda.
 */
record HandlerSpec(
    String className, String methodName, List<String> parameterTypes, List<Arg> arguments, boolean isStatic,
    Dispatch dispatch, Type jdkInputType) {

  /** What one handler parameter receives. */
  enum Arg { INPUT, CONTEXT, LAMBDA_CONTEXT, INPUT_STREAM, OUTPUT_STREAM }

  /** How the handler is called: through Embla's interfaces when it implements them, otherwise by reflection. */
  enum Dispatch { REQUEST_HANDLER, STREAM_HANDLER, REFLECTION }

  static final String LAMBDA_CONTEXT = "com.amazonaws.services.lambda.runtime.Context";
  private static final String LAMBDA_REQUEST_HANDLER = "com.amazonaws.services.lambda.runtime.RequestHandler";
  private static final String LAMBDA_STREAM_HANDLER = "com.amazonaws.services.lambda.runtime.RequestStreamHandler";
  private static final String SHAPES =
      "(I), (I, Context), (InputStream, OutputStream) or (InputStream, OutputStream, Context)";
  private static final Pattern CLASS_NAME =
      Pattern.compile("\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*");
  private static final Pattern METHOD_NAME = Pattern.compile("\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*");
  private static final Map<String, Class<?>> PRIMITIVES = Map.of(
      "boolean", boolean.class, "byte", byte.class, "char", char.class, "short", short.class, "int", int.class,
      "long", long.class, "float", float.class, "double", double.class);

  /** A handler bound to one environment's loader: the class is initialised and the instance constructed. */
  record Bound(Method method, Object instance, Arg[] arguments, Type inputType, Dispatch dispatch) {}

  /** Splits {@code handler} into class and method (the method may be null). */
  static String[] parse(String handler) {
    String h = handler.strip();
    int sep = h.indexOf("::");
    String cls = sep < 0 ? h : h.substring(0, sep);
    String method = sep < 0 ? null : h.substring(sep + 2);
    if (!CLASS_NAME.matcher(cls).matches() || (method != null && !METHOD_NAME.matcher(method).matches())) {
      throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.IllegalArgumentException",
          "handler must be \"com.acme.Class::method\" or \"com.acme.Class\", was \"" + handler + "\"");
    }
    return new String[] {cls, method};
  }

  /**
   * Resolves the handler on {@code cls}, loaded but not initialised.
   *
   * @throws FunctionFailure of kind INIT naming the class and method if no usable handler exists
   */
  static HandlerSpec resolve(Class<?> cls, String requestedMethod) {
    String className = cls.getName();
    String name = requestedMethod;
    if (name == null) {
      if (RequestHandler.class.isAssignableFrom(cls) || StreamHandler.class.isAssignableFrom(cls)) {
        name = "handle";
      } else if (implementsNamed(cls, LAMBDA_REQUEST_HANDLER) || implementsNamed(cls, LAMBDA_STREAM_HANDLER)) {
        name = "handleRequest";
      } else {
        throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.NoSuchMethodException",
            "handler class " + className + " implements neither dev.embla.faas.spi.RequestHandler, StreamHandler nor "
                + "Lambda's RequestHandler or RequestStreamHandler; name the method as " + className + "::method");
      }
    }
    String methodName = name;
    List<Method> named = Arrays.stream(cls.getMethods())
        .filter(m -> m.getName().equals(methodName) && !m.isBridge() && !m.isSynthetic())
        .toList();
    List<Method> usable = new ArrayList<>();
    for (Method m : named) {
      if (arguments(m) != null) {
        usable.add(m);
      }
    }
    if (usable.isEmpty()) {
      throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.NoSuchMethodException", named.isEmpty()
          ? "handler class " + className + " has no public method " + methodName
          : "public method " + className + "::" + methodName + " takes none of the supported parameter lists " + SHAPES);
    }
    // Most parameters first; ties in a stable order so every environment binds the same method.
    usable.sort(Comparator.comparingInt(Method::getParameterCount).reversed()
        .thenComparing(Method::toGenericString));
    Method method = usable.get(0);
    Arg[] args = arguments(method);
    boolean isStatic = Modifier.isStatic(method.getModifiers());
    if (!isStatic) {
      if (Modifier.isAbstract(cls.getModifiers())) {
        throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.InstantiationException",
            "handler class " + className + " is abstract; make it concrete or make " + methodName + " static");
      }
      try {
        cls.getConstructor();
      } catch (NoSuchMethodException e) {
        throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.NoSuchMethodException",
            "handler class " + className + " needs a public no-argument constructor, or " + methodName
                + " must be static");
      }
    }
    List<String> parameterTypes = Arrays.stream(method.getParameterTypes()).map(Class::getName).toList();
    int input = Arrays.asList(args).indexOf(Arg.INPUT);
    Type inputType = input < 0 ? null : inputType(cls, method, input);
    // A JDK-only input type (String, Map<String, Object>, ...) is the same Type in every loader, so environments
    // can skip the reflective method lookup and generic-signature parse at Init.
    Type jdkInputType = inputType != null && Payloads.isJdkType(inputType) ? inputType : null;
    return new HandlerSpec(className, methodName, parameterTypes, List.of(args), isStatic,
        dispatch(cls, method, args, usable), jdkInputType);
  }

  /**
   * Loads and initialises the handler class on {@code loader}, finds the method and constructs the instance: the
   * function's own Init. Exceptions are the function's (or a class the code package lacks) and propagate.
   */
  Bound bind(ClassLoader loader) throws ReflectiveOperationException {
    // Loading and linking (which a constructor lookup forces: HotSpot links a class before reflecting on it) run no
    // function code and take HotSpot's JVM-wide mutexes: under the definition gate. The static initialisers run
    // after, outside it. A linkage error here is thrown again, as it would be without the gate, just below.
    try {
      DefinitionGate.INSTANCE.run(() -> Class.forName(className, false, loader).getConstructors());
    } catch (LinkageError e) {
      // reported by the initialisation below
    }
    Class<?> cls = Class.forName(className, true, loader);
    if (dispatch != Dispatch.REFLECTION && (jdkInputType != null || !arguments.contains(Arg.INPUT))) {
      // Called through Embla's interface: no Method needed, and the input type is known from prepare.
      Constructor<?> constructor = cls.getConstructor();
      constructor.trySetAccessible();
      return new Bound(null, constructor.newInstance(), arguments.toArray(Arg[]::new), jdkInputType, dispatch);
    }
    Class<?>[] types = new Class<?>[parameterTypes.size()];
    for (int i = 0; i < types.length; i++) {
      String t = parameterTypes.get(i);
      Class<?> primitive = PRIMITIVES.get(t);
      types[i] = primitive != null ? primitive : Class.forName(t, false, loader);
    }
    Method method = cls.getMethod(methodName, types);
    // A public method of a package-private class: the function's unnamed module is open, so this succeeds.
    method.trySetAccessible();
    Object instance = null;
    if (!isStatic) {
      Constructor<?> constructor = cls.getConstructor();
      constructor.trySetAccessible();
      instance = constructor.newInstance();
    }
    Arg[] args = arguments.toArray(Arg[]::new);
    int input = arguments.indexOf(Arg.INPUT);
    Type inputType = input < 0 ? null : jdkInputType != null ? jdkInputType : inputType(cls, method, input);
    return new Bound(method, instance, args, inputType, dispatch);
  }

  /**
   * Returns the type of parameter {@code index} of {@code method} as {@code cls} sees it: a type variable of the
   * generic superclass or interface that declares the method (however far up) becomes what {@code cls}'s hierarchy
   * binds it to, as a Jackson {@link JavaType}; a variable nothing binds becomes its bound, as before. A parameter
   * that is a plain class, or a method {@code cls} declares itself, needs nothing resolved and costs nothing more.
   */
  static Type inputType(Class<?> cls, Method method, int index) {
    Type declared = method.getGenericParameterTypes()[index];
    if (declared instanceof Class<?> || method.getDeclaringClass() == cls) {
      return declared;
    }
    // A factory of its own: a TypeFactory caches the classes it has seen, and these are the function's (the shared
    // mapper must only ever see the JDK's; see Payloads).
    TypeFactory types = TypeFactory.createDefaultInstance();
    JavaType declaring = types.constructType(cls).findSuperType(method.getDeclaringClass());
    return declaring == null ? declared : types.resolveMemberType(declared, declaring.getBindings());
  }

  private static Dispatch dispatch(Class<?> cls, Method method, Arg[] args, List<Method> usable) {
    if (Modifier.isStatic(method.getModifiers()) || !method.getName().equals("handle")) {
      return Dispatch.REFLECTION;
    }
    if (RequestHandler.class.isAssignableFrom(cls) && Arrays.equals(args, new Arg[] {Arg.INPUT, Arg.CONTEXT})
        && usable.stream().filter(m -> m.getParameterCount() == 2).count() == 1) {
      // the only handle(I, Context): the one RequestHandler.handle dispatches to
      return Dispatch.REQUEST_HANDLER;
    }
    if (StreamHandler.class.isAssignableFrom(cls)
        && Arrays.equals(args, new Arg[] {Arg.INPUT_STREAM, Arg.OUTPUT_STREAM, Arg.CONTEXT})) {
      return Dispatch.STREAM_HANDLER;
    }
    return Dispatch.REFLECTION;
  }

  private static Arg[] arguments(Method m) {
    Class<?>[] p = m.getParameterTypes();
    return switch (p.length) {
      case 1 -> context(p[0]) == null ? new Arg[] {Arg.INPUT} : null;
      case 2 -> {
        if (p[0] == InputStream.class && p[1] == OutputStream.class) {
          yield new Arg[] {Arg.INPUT_STREAM, Arg.OUTPUT_STREAM};
        }
        Arg ctx = context(p[1]);
        yield ctx != null && context(p[0]) == null ? new Arg[] {Arg.INPUT, ctx} : null;
      }
      case 3 -> {
        Arg ctx = context(p[2]);
        yield p[0] == InputStream.class && p[1] == OutputStream.class && ctx != null
            ? new Arg[] {Arg.INPUT_STREAM, Arg.OUTPUT_STREAM, ctx}
            : null;
      }
      default -> null;
    };
  }

  private static Arg context(Class<?> type) {
    if (type == Context.class) {
      return Arg.CONTEXT;
    }
    return type.getName().equals(LAMBDA_CONTEXT) ? Arg.LAMBDA_CONTEXT : null;
  }

  private static boolean implementsNamed(Class<?> cls, String interfaceName) {
    for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
      for (Class<?> i : c.getInterfaces()) {
        if (i.getName().equals(interfaceName) || implementsNamed(i, interfaceName)) {
          return true;
        }
      }
    }
    return false;
  }
}
