package dev.embla.faas.internal.java;

import dev.embla.faas.spi.Context;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;

/**
 * Backs a {@link Proxy} of Lambda's {@code com.amazonaws.services.lambda.runtime.Context} (and of its
 * {@code LambdaLogger}) with Embla's {@link Context}, so that functions written for Lambda run unmodified. The proxy
 * class is defined in the function's loader, next to the interface the function bundles in {@code lib/}.
 *
 * <p>Methods Embla has no value for ({@code getIdentity}, {@code getClientContext}) return null; interface default
 * methods run as written.
 */
final class LambdaContextAdapter implements InvocationHandler {

  private final Context context;
  private final String functionName;
  private final String logStream;
  private Object logger;

  private LambdaContextAdapter(Context context, String logStream) {
    this.context = context;
    this.functionName = context.getFunctionName();
    this.logStream = logStream;
  }

  /** Returns a proxy of {@code lambdaContextType} for this invocation's {@code context}. */
  static Object create(Class<?> lambdaContextType, Context context, String logStream) {
    return Proxy.newProxyInstance(lambdaContextType.getClassLoader(), new Class<?>[] {lambdaContextType},
        new LambdaContextAdapter(context, logStream));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    switch (method.getName()) {
      case "getAwsRequestId": return context.getAwsRequestId();
      case "getFunctionName": return functionName;
      case "getFunctionVersion": return context.getFunctionVersion();
      case "getInvokedFunctionArn": return context.getInvokedFunctionArn();
      case "getMemoryLimitInMB": return context.getMemoryLimitInMB();
      case "getRemainingTimeInMillis": return context.getRemainingTimeInMillis();
      case "getLogGroupName": return "/aws/lambda/" + functionName;
      case "getLogStreamName": return logStream;
      case "getLogger":
        if (logger == null) {
          Class<?> type = method.getReturnType();
          logger = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, this::log);
        }
        return logger;
      case "toString": return "LambdaContext[" + context.getAwsRequestId() + "]";
      case "hashCode": return System.identityHashCode(proxy);
      case "equals": return proxy == args[0];
      default:
        if (method.isDefault()) {
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        return defaultValue(method.getReturnType());
    }
  }

  // LambdaLogger: log(String), log(byte[]), and in newer versions log(String, LogLevel); the message comes first.
  private Object log(Object proxy, Method method, Object[] args) throws Throwable {
    switch (method.getName()) {
      case "toString": return "LambdaLogger[" + context.getAwsRequestId() + "]";
      case "hashCode": return System.identityHashCode(proxy);
      case "equals": return proxy == args[0];
      default:
        if (args != null && args.length > 0) {
          if (args[0] instanceof String s) {
            context.getLogger().log(s);
            return null;
          }
          if (args[0] instanceof byte[] b) {
            context.getLogger().log(new String(b, StandardCharsets.UTF_8));
            return null;
          }
        }
        if (method.isDefault()) {
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        return defaultValue(method.getReturnType());
    }
  }

  private static Object defaultValue(Class<?> type) {
    if (!type.isPrimitive() || type == void.class) {
      return null;
    }
    if (type == boolean.class) {
      return false;
    }
    if (type == char.class) {
      return '\0';
    }
    if (type == long.class) {
      return 0L;
    }
    if (type == float.class) {
      return 0f;
    }
    if (type == double.class) {
      return 0d;
    }
    if (type == byte.class) {
      return (byte) 0;
    }
    if (type == short.class) {
      return (short) 0;
    }
    return 0;
  }
}
