package dev.embla.faas.cli;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvalidCodeException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvalidRequestContentException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.RequestTooLargeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code embla} command line. {@code embla invoke} registers one function from a code package in an embedded
 * engine, invokes it once and prints the response, like {@code sam local invoke} without a container.
 *
 * <p>Streams and exit codes are part of the contract, so that scripts can use it:
 * <ul>
 *   <li>stdout: the response payload, or the function error's JSON; nothing else;
 *   <li>stderr: the engine's log ({@code START}, the function's output, {@code END}, {@code REPORT}) and the CLI's
 *       own messages;
 *   <li>{@value #EXIT_OK} the function returned, {@value #EXIT_FUNCTION_ERROR} the function failed (threw, timed
 *       out, failed Init), {@value #EXIT_USAGE} the request was wrong (arguments, a missing file, a bad package or
 *       configuration, a payload that is not JSON), {@value #EXIT_INTERNAL} the engine itself failed.
 * </ul>
 *
 * @since 0.1
 */
public final class Main {

  /** Exit code: the function returned a response. */
  public static final int EXIT_OK = 0;
  /** Exit code: the function failed; its error JSON is on stdout. */
  public static final int EXIT_FUNCTION_ERROR = 1;
  /** Exit code: the command, a file, the code package or the configuration was wrong; nothing was invoked. */
  public static final int EXIT_USAGE = 2;
  /** Exit code: the engine failed in a way that is not the caller's nor the function's fault. */
  public static final int EXIT_INTERNAL = 3;

  /** The name the function gets when none can be derived from the code's file name. */
  static final String DEFAULT_FUNCTION_NAME = "cli-function";

  static final String USAGE = """
      usage: embla invoke --handler <handler> --code <zip|jar|dir> [options]
             embla help

      Runs a function once in an embedded engine and prints its response on stdout.
      Logs (START, the function's output, END, REPORT) go to stderr.

      options:
        --runtime <id>       java21 (default), nodejs or python3
        --handler <handler>  java21: com.acme.Handler or com.acme.Handler::method
                             nodejs: index.handler (exports.handler of index.js, index.mjs or index.cjs)
                             python3: app.handler (function handler of app.py)
        --code <path>        the function's code: a zip, a jar, or a directory laid out like one
        --event <file>       the event, a JSON file
        --payload <json>     the event, inline (default: {})
        --timeout <s>        invocation timeout in seconds, 1..900 (default 3)
        --memory <mb>        memory size in MB, 128..10240 (default 128)
        --init-timeout <s>   Init timeout in seconds, 1..900 (default 10)
        --env KEY=VALUE      an environment variable for the function; repeatable

      exit codes: 0 response, 1 function error (error JSON on stdout), 2 bad request, 3 engine failure
      """;

  /** The runtimes that are warmed up before the function is created: GraalPy's, whose first start is slow. */
  private static final java.util.Set<String> PYTHON_RUNTIMES = java.util.Set.of("python3", "python3.12");

  private Main() {}

  /** Runs the command line and exits with its exit code. */
  public static void main(String[] args) {
    // System.exit only here: run() stays callable from tests and from other Java code.
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command line.
   *
   * @param args the arguments, starting with the command ({@code invoke} or {@code help})
   * @param out where the response goes
   * @param err where messages and usage go
   * @return the exit code: {@link #EXIT_OK}, {@link #EXIT_FUNCTION_ERROR}, {@link #EXIT_USAGE} or
   *     {@link #EXIT_INTERNAL}
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    List<String> argList = Arrays.asList(args);
    if (argList.isEmpty()) {
      return usageError(err, "no command given");
    }
    String command = argList.getFirst();
    if (command.equals("help") || argList.contains("--help") || argList.contains("-h")) {
      out.print(USAGE);
      return EXIT_OK;
    }
    if (!command.equals("invoke")) {
      return usageError(err, "unknown command '" + command + "'");
    }
    InvokeArguments invoke;
    try {
      invoke = InvokeArguments.parse(argList.subList(1, argList.size()));
    } catch (UsageException e) {
      return usageError(err, e.getMessage());
    }
    return invoke(invoke, out, err);
  }

  private static int invoke(InvokeArguments a, PrintStream out, PrintStream err) {
    // Missing files are checked here rather than left to the engine, so the message names the option.
    if (!Files.exists(a.code())) {
      return fail(err, "code not found: " + a.code() + " (--code)");
    }
    byte[] payload;
    if (a.eventFile() != null) {
      if (!Files.isRegularFile(a.eventFile())) {
        return fail(err, "event file not found: " + a.eventFile() + " (--event)");
      }
      try {
        payload = Files.readAllBytes(a.eventFile());
      } catch (IOException e) {
        return fail(err, "cannot read event file " + a.eventFile() + ": " + e.getMessage());
      }
    } else {
      payload = (a.payload() == null ? "{}" : a.payload()).getBytes(StandardCharsets.UTF_8);
    }

    FunctionConfig config;
    try {
      FunctionConfig.Builder builder = FunctionConfig.builder(functionName(a.code()))
          .runtime(a.runtime())
          .handler(a.handler());
      if (a.timeoutSeconds() != null) {
        builder.timeout(Duration.ofSeconds(a.timeoutSeconds()));
      }
      if (a.initTimeoutSeconds() != null) {
        builder.initTimeout(Duration.ofSeconds(a.initTimeoutSeconds()));
      }
      if (a.memoryMb() != null) {
        builder.memorySizeMb(a.memoryMb());
      }
      builder.environment(a.environment());
      config = builder.build();
    } catch (InvalidConfigurationException e) {
      return fail(err, "invalid configuration: " + e.getMessage());
    }

    // A short grace period: a CLI that was asked to stop should not hang for the library's 30-second default.
    FaasEngine.Builder engineBuilder = FaasEngine.builder().shutdownGracePeriod(Duration.ofSeconds(2));
    if (PYTHON_RUNTIMES.contains(a.runtime())) {
      // GraalPy's first context of a process takes seconds: start it before the function's Init, whose timeout is
      // meant for the function's own initialisation, not the language's
      engineBuilder.warmUpRuntime(a.runtime());
    }
    try (FaasEngine engine = engineBuilder.build()) {
      engine.createFunction(config, FunctionCode.fromPath(a.code()));
      InvocationResult result = engine.invoke(config.name(), payload);
      if (result.isError()) {
        out.println(result.error().orElseThrow().toJson());
        out.flush();
        return EXIT_FUNCTION_ERROR;
      }
      out.println(result.payloadAsString());
      out.flush();
      return EXIT_OK;
    } catch (InvalidCodeException e) {
      return fail(err, "invalid code package " + a.code() + ": " + e.getMessage());
    } catch (InvalidConfigurationException e) {
      return fail(err, "invalid configuration: " + e.getMessage());
    } catch (InvalidRequestContentException e) {
      return fail(err, "invalid event: " + e.getMessage());
    } catch (RequestTooLargeException e) {
      return fail(err, "event too large: " + e.getMessage());
    } catch (FaasException e) {
      // Not the caller's fault nor the function's (a typed engine error such as a throttle): one line is enough.
      err.println("embla: engine failure: " + e);
      return EXIT_INTERNAL;
    } catch (RuntimeException e) {
      // A bug in the engine: the stack trace is what a bug report needs, and exit 1 must keep meaning "function error".
      err.println("embla: engine failure: " + e);
      e.printStackTrace(err);
      return EXIT_INTERNAL;
    }
  }

  /**
   * Derives the function's name from the code's file name ({@code build/hello-function.zip} gives
   * {@code hello-function}), so that log lines say which package ran; {@value #DEFAULT_FUNCTION_NAME} if nothing
   * usable is left.
   */
  static String functionName(Path code) {
    Path fileName = code.toAbsolutePath().normalize().getFileName();
    if (fileName == null) {
      return DEFAULT_FUNCTION_NAME;
    }
    String name = fileName.toString().replaceFirst("(?i)\\.(zip|jar)$", "").replaceAll("[^A-Za-z0-9_-]", "-");
    if (name.length() > 64) {
      name = name.substring(0, 64);
    }
    return name.isEmpty() || name.chars().allMatch(c -> c == '-') ? DEFAULT_FUNCTION_NAME : name;
  }

  private static int usageError(PrintStream err, String message) {
    err.println("embla: " + message);
    err.println();
    err.print(USAGE);
    return EXIT_USAGE;
  }

  private static int fail(PrintStream err, String message) {
    err.println("embla: " + message);
    return EXIT_USAGE;
  }
}
