package dev.embla.faas.polyglot;

import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.FunctionOutputStream;
import java.util.Locale;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.SandboxPolicy;
import org.slf4j.Logger;

/**
 * Builds the one shared polyglot {@link Engine} of a runtime of this module, configured the same way for every
 * language, and says once in the host's log whether guest code will be compiled or only interpreted.
 *
 * <p>Shared by the runtimes of this module; not an API for hosts.
 */
public final class PolyglotEngines {

  private PolyglotEngines() {}

  /**
   * Builds an engine for one language under {@link SandboxPolicy#CONSTRAINED}, with the engine's own output sent to
   * {@code log}, and logs whether it runs compiled (INFO) or interpreted (WARN, with the flags that fix it).
   *
   * @param languageId the polyglot language id, {@code js} or {@code python}
   * @param runtime the runtime's name in log lines, for example {@code nodejs}
   * @param implementation the language implementation's name in log lines, for example {@code GraalJS}
   * @param log the runtime provider's logger
   * @return the new engine; the caller closes it
   */
  public static Engine newEngine(String languageId, String runtime, String implementation, Logger log) {
    return newEngine(languageId, runtime, implementation, log, java.util.Map.of());
  }

  /**
   * Builds the shared engine of one language, as {@link #newEngine(String, String, String, Logger)} does, with extra
   * language options (for example, globals a runtime does not want every context to build).
   */
  public static Engine newEngine(String languageId, String runtime, String implementation, Logger log,
      java.util.Map<String, String> options) {
    Engine engine = Engine.newBuilder(languageId)
        .options(options)
        // The strictest policy the community builds support; each context repeats it (they must match).
        .sandbox(SandboxPolicy.CONSTRAINED)
        // What the engine itself prints (not a function's output: contexts have their own streams) goes to the
        // host's log, never to the host's standard streams; the policy requires the redirection.
        .out(new FunctionOutputStream((stream, line) -> log.info("{}: {}", implementation, line),
            FunctionOutput.Stream.STDOUT))
        .err(new FunctionOutputStream((stream, line) -> log.warn("{}: {}", implementation, line),
            FunctionOutput.Stream.STDERR))
        // On a stock JDK without the Graal compiler flags GraalVM prints a multi-line warning to stderr for every
        // engine; the host's log gets one line instead, below, where the operator can act on it.
        .option("engine.WarnInterpreterOnly", "false")
        // The engine runs invocations on virtual threads; with the Graal compiler enabled, GraalVM 25 prints a
        // multi-line "experimental on HotSpot" warning for that, meant for tools (debuggers) and languages that
        // materialise caller frames, which these runtimes do not use. The option itself is experimental.
        .allowExperimentalOptions(true)
        .option("engine.WarnVirtualThreadSupport", "false")
        .build();
    String name = engine.getImplementationName();
    if (name.toLowerCase(Locale.ROOT).contains("interpreted")) {
      log.warn("{} runtime: {} {} runs on the {} runtime, without a compiler (about 15-25x slower on hot code); "
          + "start the JVM with -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI and the Graal compiler on the "
          + "upgrade module path to compile guest code", runtime, implementation, engine.getVersion(), name);
    } else {
      log.info("{} runtime: {} {} on {} (compiled)", runtime, implementation, engine.getVersion(), name);
    }
    return engine;
  }
}
