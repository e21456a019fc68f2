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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;

/**
 * One version of a JavaScript function: its resolved handler file and export, and the {@link Source}s of its files.
 * Sources are built once per version and handed to every environment, so the shared engine's code cache finds them
 * and a second environment does not parse the function again.
 */
final class JsPreparedFunction implements PreparedFunction {

  // Node wraps a CommonJS file the same way; on one line, so that the file's line numbers stay right.
  private static final String WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
  private static final String WRAPPER_TAIL = "\n})";

  private final FunctionDefinition definition;
  private final Engine engine;
  private final BlankContexts<Void> blankContexts;
  private final String entry; // guest path, for example /var/task/index.js
  private final boolean module;
  private final List<String> exportPath;
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
        return new JsPreparedFunction(definition, engine, blankContexts,
            SandboxFileSystem.TASK_ROOT + "/" + file + ext, ext.equals(".mjs"), exportPath);
      }
    }
    throw initFailure("Runtime.ImportModuleError",
        "Cannot find module '" + file + "': no " + file + ".js, " + file + ".mjs or " + file + ".cjs in the code");
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
    return sources.computeIfAbsent(entry, p -> build(p, read(files, p), "application/javascript+module"));
  }

  /** Returns a CommonJS file's source, wrapped in Node's module function. */
  Source commonJsSource(SandboxFileSystem files, String guestPath) {
    return sources.computeIfAbsent(guestPath,
        p -> build(p, WRAPPER_HEAD + read(files, p) + WRAPPER_TAIL, "application/javascript"));
  }

  private static Source build(String guestPath, String text, String mimeType) {
    // A File-based source carries the guest path, so relative imports resolve through the sandbox file system
    // and stack traces show /var/task/...; the content is given, so the host's file system is never read here.
    return Source.newBuilder("js", new File(guestPath)).content(text).mimeType(mimeType).cached(true).buildLiteral();
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
