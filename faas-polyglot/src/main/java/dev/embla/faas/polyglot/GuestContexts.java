package dev.embla.faas.polyglot;

import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.SandboxPolicy;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.io.FileSystem;
import org.graalvm.polyglot.io.IOAccess;
import org.graalvm.polyglot.proxy.ProxyArray;

/** What the JavaScript and Python environments do alike with their contexts and their runtime layer's source. */
public final class GuestContexts {

  private GuestContexts() {}

  /**
   * Returns the environment variables a guest sees: its function's, with the paths and the log stream as the guest
   * sees them, never the host's (the engine sets {@code LAMBDA_TASK_ROOT} to the host's code directory, which does not
   * exist in the sandbox and would tell the function about the host).
   */
  public static Map<String, String> guestVariables(FunctionDefinition definition, EnvironmentContext env) {
    Map<String, String> vars = new LinkedHashMap<>(definition.environment());
    vars.put("LAMBDA_TASK_ROOT", SandboxFileSystem.TASK_ROOT);
    vars.put("LAMBDA_RUNTIME_DIR", "/var/runtime");
    vars.put("AWS_LAMBDA_LOG_STREAM_NAME", env.logStreamName());
    return vars;
  }

  /** Returns {@code variables} as the runtime layers take them: key, value, key, value, ... */
  public static ProxyArray pairs(Map<String, String> variables) {
    List<Object> pairs = new ArrayList<>(variables.size() * 2);
    variables.forEach((k, v) -> {
      pairs.add(k);
      pairs.add(v);
    });
    return ProxyArray.fromList(pairs);
  }

  /**
   * Starts a context builder with the sandbox every guest environment gets, secure by default and said explicitly: the
   * CONSTRAINED policy, no host class lookup, threads, processes, native code or host environment variables; the only
   * files are those {@code files} maps, the working directory is {@code /var/task}, and output goes to the
   * environment's streams. Host objects are reachable only through the proxies the runtime layer is given. The
   * runtime adds its language's own options.
   */
  public static Context.Builder sandboxed(String language, Engine engine, FileSystem files, OutputStream out,
      OutputStream err) {
    return Context.newBuilder(language)
        .engine(engine)
        .sandbox(SandboxPolicy.CONSTRAINED)
        .allowHostClassLookup(name -> false)
        .allowCreateThread(false)
        .allowCreateProcess(false)
        .allowNativeAccess(false)
        .allowEnvironmentAccess(EnvironmentAccess.NONE)
        .allowIO(IOAccess.newBuilder().fileSystem(files).build())
        .out(out)
        .err(err)
        .currentWorkingDirectory(Path.of(SandboxFileSystem.TASK_ROOT));
  }

  /** Closes a context with cancellation, ignoring a context that is already closed or closing. */
  public static void closeQuietly(Context c) {
    try {
      c.close(true);
    } catch (RuntimeException ignored) {
      // already closed, or closing a cancelled context: it is gone either way
    }
  }

  /**
   * Loads a runtime layer shipped as a resource next to {@code owner}, as a cached source, so that the shared engine
   * parses it once for every context.
   *
   * @param name the source's name, as guest stack traces show it
   */
  public static Source cachedResource(Class<?> owner, String language, String resource, String name) {
    try (InputStream in = owner.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " missing from the classpath");
      }
      return Source.newBuilder(language, new String(in.readAllBytes(), StandardCharsets.UTF_8), name)
          .cached(true).buildLiteral();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
