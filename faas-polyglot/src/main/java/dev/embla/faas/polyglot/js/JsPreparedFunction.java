package dev.embla.faas.polyglot.js;

import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.polyglot.SandboxFileSystem;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.PreparedFunction;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;

/**
 * One version of a JavaScript function: its resolved handler file and export, and the {@link Source}s of its files.
 * Sources of the function's code are built once per version and handed to every environment, so the shared engine's
 * code cache finds them and a second environment does not parse the function again.
 */
final class JsPreparedFunction implements PreparedFunction {

  // Node wraps a CommonJS file the same way; on one line, so that the file's line numbers stay right.
  private static final String WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
  private static final String WRAPPER_TAIL = "\n})";
  private static final Path TASK = Path.of(SandboxFileSystem.TASK_ROOT);

  private final FunctionDefinition definition;
  private final Engine engine;
  private final BlankContexts<Void> blankContexts;
  private final String entry; // guest path, for example /var/task/index.js
  private final boolean module;
  private final List<String> exportPath;
  // The function's code only (/var/task, read-only for this version's life), by guest path
  private final ConcurrentMap<String, Source> sources = new ConcurrentHashMap<>();

  private JsPreparedFunction(FunctionDefinition definition, Engine engine, BlankContexts<Void> blankContexts, String entry,
      boolean module, List<String> exportPath) {
    this.definition = definition;
    this.engine = engine;
    this.blankContexts = blankContexts;
    this.entry = entry;
    this.module = module;
    this.exportPath = exportPath;
  }

  /**
   * Resolves {@code index.handler} (or {@code src/app.handlers.main}, Lambda's "file up to the first dot of its last
   * path segment, then the export") against the code directory.
   */
  static JsPreparedFunction prepare(FunctionDefinition definition, Engine engine, BlankContexts<Void> blankContexts) {
    String handler = definition.handler();
    int slash = handler.lastIndexOf('/');
    int dot = handler.indexOf('.', slash + 1);
    if (dot <= slash + 1 || dot == handler.length() - 1 || handler.startsWith("/") || handler.contains("..")) {
      throw initFailure("Runtime.MalformedHandlerName",
          "handler must be FILE.EXPORT, for example index.handler, was '" + handler + "'");
    }
    String file = handler.substring(0, dot);
    List<String> exportPath = List.of(handler.substring(dot + 1).split("\\."));
    Path code = definition.codeDirectory();
    for (String ext : new String[] {".js", ".mjs", ".cjs"}) {
      Path candidate = code.resolve(file + ext).normalize();
      if (candidate.startsWith(code) && Files.isRegularFile(candidate)) {
        JsPreparedFunction prepared = new JsPreparedFunction(definition, engine, blankContexts,
            SandboxFileSystem.TASK_ROOT + "/" + file + ext, ext.equals(".mjs"), exportPath);
        prepared.parseEntry();
        return prepared;
      }
    }
    throw initFailure("Runtime.ImportModuleError",
        "Cannot find module '" + file + "': no " + file + ".js, " + file + ".mjs or " + file + ".cjs in the code");
  }

  /**
   * Parses the entry file into the engine's code cache, in a throwaway context built like an environment's, so that
   * the first cold starts of a new version find it parsed. Otherwise, in a burst, every caller but the first would
   * wait for the first to parse it, each giving up its carrier and rejoining the back of the scheduler's queue
   * (BENCHMARKS, stop 11). Running nothing: a file that does not parse fails at Init, as in Lambda.
   */
  private void parseEntry() {
    SandboxFileSystem files = new SandboxFileSystem(definition.codeDirectory(), () -> {
      throw new IllegalStateException("no /tmp while a function is prepared");
    });
    try {
      Source source = module ? moduleSource(files) : commonJsSource(files, entry);
      try (Context c = JsRuntimeProvider.newContext(engine, files, OutputStream.nullOutputStream(),
          OutputStream.nullOutputStream())) {
        c.parse(source);
      }
    } catch (RuntimeException e) {
      // A syntax error, an unreadable file, or a context that could not be made: registration only warms the cache,
      // and the environment's Init reports any of these in Lambda's shape
    }
  }

  @Override
  public ExecutionEnvironment newEnvironment(EnvironmentContext context) {
    return new JsEnvironment(this, context);
  }

  /**
   * Returns true: every payload goes through {@code JSON.parse}, and one it rejects comes back as
   * {@link FunctionFailure.Kind#BAD_PAYLOAD}.
   */
  @Override
  public boolean checksPayloadSyntax() {
    return true;
  }

  FunctionDefinition definition() {
    return definition;
  }

  Engine engine() {
    return engine;
  }

  BlankContexts<Void> blankContexts() {
    return blankContexts;
  }

  String entry() {
    return entry;
  }

  boolean isModule() {
    return module;
  }

  List<String> exportPath() {
    return exportPath;
  }

  /** Returns the ES module source of the entry file. */
  Source moduleSource(SandboxFileSystem files) {
    Source s = sources.get(entry);
    return s != null ? s : cache(entry, build(entry, read(files, entry), "application/javascript+module", true));
  }

  /**
   * Returns a CommonJS file's source, wrapped in Node's module function. A file of the function's code is read once
   * per version; any other (one in {@code /tmp}) is read again at every call, from {@code files}.
   */
  Source commonJsSource(SandboxFileSystem files, String guestPath) {
    if (!isCode(guestPath)) {
      // /tmp is the environment's own and writable: a source kept per version would hand one environment's file to
      // another, and a rewritten file's old text to the one that rewrote it. Not cached in the engine either, since
      // its text may be different at every call.
      return build(guestPath, WRAPPER_HEAD + read(files, guestPath) + WRAPPER_TAIL, "application/javascript", false);
    }
    Source s = sources.get(guestPath);
    return s != null ? s
        : cache(guestPath, build(guestPath, WRAPPER_HEAD + read(files, guestPath) + WRAPPER_TAIL,
            "application/javascript", true));
  }

  // Lexically, as SandboxFileSystem maps it: /var/task/../tmp/m.js is a file in /tmp.
  private static boolean isCode(String guestPath) {
    return TASK.resolve(guestPath).normalize().startsWith(TASK);
  }

  // Not computeIfAbsent: in a burst of cold starts of a new function every caller asks for the same file at once, and
  // computeIfAbsent would make all but one wait on the map bin's monitor while that one reads the file. A waiting
  // virtual thread gives up its carrier and rejoins the scheduler's queue behind every other caller, so each of them
  // paid the whole burst's length (BENCHMARKS, stop 11). Two callers may read the file; the first Source wins, and both
  // are equal (same content and name), so GraalJS parses it once either way.
  private Source cache(String guestPath, Source built) {
    Source previous = sources.putIfAbsent(guestPath, built);
    return previous != null ? previous : built;
  }

  private static Source build(String guestPath, String text, String mimeType, boolean cached) {
    // A File-based source carries the guest path, so relative imports resolve through the sandbox file system
    // and stack traces show /var/task/...; the content is given, so the host's file system is never read here.
    return Source.newBuilder("js", new File(guestPath)).content(text).mimeType(mimeType).cached(cached).buildLiteral();
  }

  private static String read(SandboxFileSystem files, String guestPath) {
    try {
      return Files.readString(files.readable(Path.of(guestPath)), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static FunctionFailure initFailure(String type, String message) {
    return new FunctionFailure(FunctionFailure.Kind.INIT, type, message, List.of(), null);
  }
}
