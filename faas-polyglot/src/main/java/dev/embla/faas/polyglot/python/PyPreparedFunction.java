package dev.embla.faas.polyglot.python;

import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.PreparedFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One version of a Python function: its handler string, checked against the code once, and the runtime that owns the
 * shared engine. GraalPy caches what it parses in that engine, keyed by source, so a second environment of the same
 * version imports the function's modules without parsing them again.
 */
final class PyPreparedFunction implements PreparedFunction {

  private static final Pattern IDENTIFIER = Pattern.compile("[\\p{L}_][\\p{L}\\p{N}_]*");

  private final FunctionDefinition definition;
  private final PyRuntimeProvider runtime;
  private final boolean needsOwnContext;

  private PyPreparedFunction(FunctionDefinition definition, PyRuntimeProvider runtime) {
    this.definition = definition;
    this.runtime = runtime;
    this.needsOwnContext = needsOwnContext(definition.environment());
  }

  // A blank context started with PyRuntimeProvider.BLANK_START_ENVIRONMENT; the function's variables reach it later,
  // through posix.environ. GraalPy's time module reads TZ from the context's own environment, so a function whose TZ
  // differs gets a context built with its variables. So do PYTHON*, GRAAL*, LANG and LC_*: GraalPy 25 embedded under
  // CONSTRAINED is not known to read them at start, but one that did would silently not apply on a blank context.
  static boolean needsOwnContext(Map<String, String> variables) {
    Map<String, String> blank = PyRuntimeProvider.BLANK_START_ENVIRONMENT;
    for (Map.Entry<String, String> v : variables.entrySet()) {
      if (readAtStart(v.getKey()) && !v.getValue().equals(blank.get(v.getKey()))) {
        return true;
      }
    }
    return !variables.entrySet().containsAll(blank.entrySet());
  }

  private static boolean readAtStart(String name) {
    return name.startsWith("PYTHON") || name.startsWith("GRAAL") || name.equals("LANG") || name.startsWith("LC_")
        || name.equals("TZ");
  }

  /**
   * Checks {@code app.handler} (or {@code src/app.handler}, {@code pkg.mod.handler}: Lambda's "module, then the
   * function after the last dot") against the code directory: the module must be a {@code .py} file or a package
   * directory there. Whether the function exists is known only once the module has run, at Init.
   */
  static PyPreparedFunction prepare(FunctionDefinition definition, PyRuntimeProvider runtime) {
    String handler = definition.handler();
    int dot = handler.lastIndexOf('.');
    if (dot <= 0 || dot == handler.length() - 1) {
      throw initFailure("Runtime.MalformedHandlerName",
          "Bad handler '" + handler + "': must be MODULE.FUNCTION, for example app.handler");
    }
    String module = handler.substring(0, dot).replace('/', '.');
    String function = handler.substring(dot + 1);
    List<String> parts = List.of(module.split("\\.", -1));
    if (!IDENTIFIER.matcher(function).matches() || !parts.stream().allMatch(p -> IDENTIFIER.matcher(p).matches())) {
      throw initFailure("Runtime.MalformedHandlerName",
          "Bad handler '" + handler + "': module and function must be Python identifiers, for example app.handler");
    }
    Path code = definition.codeDirectory();
    Path base = code.resolve(String.join("/", parts));
    if (!Files.isRegularFile(base.resolveSibling(parts.getLast() + ".py")) && !Files.isDirectory(base)) {
      String file = String.join("/", parts);
      throw initFailure("Runtime.ImportModuleError", "Unable to import module '" + handler.substring(0, dot)
          + "': No module named '" + module + "' (no " + file + ".py and no package " + file + "/ in the code)");
    }
    return new PyPreparedFunction(definition, runtime);
  }

  @Override
  public ExecutionEnvironment newEnvironment(EnvironmentContext context) {
    return new PyEnvironment(this, context);
  }

  /**
   * Returns true: every payload goes through {@code json.loads} (with {@code NaN} and {@code Infinity} refused), and
   * one it rejects comes back as {@link FunctionFailure.Kind#BAD_PAYLOAD}.
   */
  @Override
  public boolean checksPayloadSyntax() {
    return true;
  }

  FunctionDefinition definition() {
    return definition;
  }

  PyRuntimeProvider runtime() {
    return runtime;
  }

  /** Whether the function's variables include one GraalPy may read as it starts, so no blank context will do. */
  boolean needsOwnContext() {
    return needsOwnContext;
  }

  static FunctionFailure initFailure(String type, String message) {
    return new FunctionFailure(FunctionFailure.Kind.INIT, type, message, List.of(), null);
  }
}
