package dev.embla.faas.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parsed arguments of {@code embla invoke}. Parsing checks only the shape of the command line; the engine
 * validates the values themselves (memory range, handler, code), so the CLI never disagrees with it.
 *
 * @param runtime the runtime identifier
 * @param handler the handler string
 * @param code the code package: a zip, a jar or a directory
 * @param eventFile the file holding the event, or null
 * @param payload the event given inline, or null
 * @param timeoutSeconds the invocation timeout in seconds, or null for the engine's default
 * @param memoryMb the memory size in megabytes, or null for the engine's default
 * @param initTimeoutSeconds the Init timeout in seconds, or null for the engine's default
 * @param environment the function's environment variables, in the order given
 */
record InvokeArguments(String runtime, String handler, Path code, Path eventFile, String payload,
    Integer timeoutSeconds, Integer memoryMb, Integer initTimeoutSeconds, Map<String, String> environment) {

  /** The runtime used when {@code --runtime} is not given: the only one every engine has. */
  static final String DEFAULT_RUNTIME = "java21";

  /**
   * Parses the arguments that follow {@code invoke}. Options take their value as the next argument or after
   * {@code =} ({@code --timeout 5}, {@code --timeout=5}).
   *
   * @throws UsageException naming the option that is missing, unknown, repeated or malformed
   */
  static InvokeArguments parse(List<String> args) throws UsageException {
    String runtime = null;
    String handler = null;
    String code = null;
    String event = null;
    String payload = null;
    Integer timeout = null;
    Integer memory = null;
    Integer initTimeout = null;
    Map<String, String> environment = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String option = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        option = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (!option.startsWith("--")) {
        throw new UsageException("unexpected argument '" + arg + "'");
      }
      if (!List.of("--runtime", "--handler", "--code", "--event", "--payload", "--timeout", "--memory", "--env",
          "--init-timeout").contains(option)) {
        throw new UsageException("unknown option '" + option + "'");
      }
      if (value == null) {
        if (i + 1 >= args.size()) {
          throw new UsageException("option " + option + " needs a value");
        }
        value = args.get(++i);
      }
      switch (option) {
        case "--runtime" -> runtime = once(option, runtime, value);
        case "--handler" -> handler = once(option, handler, value);
        case "--code" -> code = once(option, code, value);
        case "--event" -> event = once(option, event, value);
        case "--payload" -> payload = once(option, payload, value);
        case "--timeout" -> timeout = once(option, timeout, integer(option, value, "seconds"));
        case "--memory" -> memory = once(option, memory, integer(option, value, "megabytes"));
        case "--init-timeout" -> initTimeout = once(option, initTimeout, integer(option, value, "seconds"));
        case "--env" -> {
          int sep = value.indexOf('=');
          if (sep <= 0) {
            throw new UsageException("option --env needs KEY=VALUE, was '" + value + "'");
          }
          environment.put(value.substring(0, sep), value.substring(sep + 1));
        }
        default -> throw new AssertionError(option);
      }
    }
    if (handler == null) {
      throw new UsageException("option --handler is required");
    }
    if (code == null) {
      throw new UsageException("option --code is required");
    }
    if (event != null && payload != null) {
      throw new UsageException("give the event with --event <file> or --payload <json>, not both");
    }
    return new InvokeArguments(runtime == null ? DEFAULT_RUNTIME : runtime, handler, Path.of(code),
        event == null ? null : Path.of(event), payload, timeout, memory, initTimeout, Map.copyOf(environment));
  }

  private static <T> T once(String option, T current, T value) throws UsageException {
    if (current != null) {
      throw new UsageException(String.format(Locale.ROOT, "option %s was already given as '%s'", option, current));
    }
    return value;
  }

  private static Integer integer(String option, String value, String unit) throws UsageException {
    try {
      return Integer.valueOf(value.strip());
    } catch (NumberFormatException e) {
      throw new UsageException("option " + option + " needs a whole number of " + unit + ", was '" + value + "'");
    }
  }
}
