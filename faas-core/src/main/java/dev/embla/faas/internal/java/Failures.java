package dev.embla.faas.internal.java;

import dev.embla.faas.spi.runtime.FunctionFailure;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.List;

/** Builds {@link FunctionFailure}s in Lambda's shape from the function's throwables. */
final class Failures {

  private Failures() {}

  /**
   * Returns a failure naming the function's top-level exception, as Lambda's Java runtime reports it: its class, its
   * message and its frames down to the handler call. The throwable itself is not kept (it would pin the function's
   * class loader in whatever the engine records).
   */
  static FunctionFailure of(FunctionFailure.Kind kind, Throwable thrown) {
    Throwable t = unwrap(thrown);
    return new FunctionFailure(kind, t.getClass().getName(), t.getMessage(), frames(t), null);
  }

  /** Returns a failure that is not an exception of the function's own, such as a handler that does not exist. */
  static FunctionFailure of(FunctionFailure.Kind kind, String errorType, String message) {
    return new FunctionFailure(kind, errorType, message, List.of(), null);
  }

  /** Strips the wrappers that reflection and class initialisation put around the function's own exception. */
  static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while ((current instanceof InvocationTargetException
            || current instanceof ExceptionInInitializerError
            || current instanceof UndeclaredThrowableException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  /** Returns frames as {@code com.acme.Foo.handle(Foo.java:12)}, cut where the engine called the function. */
  static List<String> frames(Throwable t) {
    StackTraceElement[] trace = t.getStackTrace();
    int end = trace.length;
    for (int i = 0; i < trace.length; i++) {
      if (trace[i].getClassName().startsWith("dev.embla.faas.internal.")) {
        end = i;
        break;
      }
    }
    while (end > 0 && isReflection(trace[end - 1].getClassName())) {
      end--;
    }
    List<String> lines = new ArrayList<>(end);
    for (int i = 0; i < end; i++) {
      StackTraceElement e = trace[i];
      String where;
      if (e.isNativeMethod()) {
        where = "Native Method";
      } else if (e.getFileName() == null) {
        where = "Unknown Source";
      } else {
        where = e.getLineNumber() >= 0 ? e.getFileName() + ":" + e.getLineNumber() : e.getFileName();
      }
      lines.add(e.getClassName() + "." + e.getMethodName() + "(" + where + ")");
    }
    return lines;
  }

  private static boolean isReflection(String className) {
    return className.startsWith("jdk.internal.reflect.") || className.startsWith("java.lang.reflect.")
        || className.startsWith("java.lang.invoke.");
  }
}
