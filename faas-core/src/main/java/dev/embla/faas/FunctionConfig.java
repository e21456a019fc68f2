package dev.embla.faas;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A function's configuration, validated as Lambda validates it. Immutable; build one with {@link #builder(String)} and
 * derive a changed copy with {@link #toBuilder()}.
 *
 * <pre>{@code
 * FunctionConfig config = FunctionConfig.builder("thumbnail")
 *     .runtime("java21")
 *     .handler("com.acme.Thumbnail::handle")
 *     .memorySizeMb(512)
 *     .timeout(Duration.ofSeconds(10))
 *     .build();
 * }</pre>
 *
 * @since 0.1
 */
public final class FunctionConfig {

  /** The default invocation timeout, as in Lambda. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);
  /** The default Init timeout, as in Lambda. */
  public static final Duration DEFAULT_INIT_TIMEOUT = Duration.ofSeconds(10);
  /** The default memory size in megabytes, as in Lambda. */
  public static final int DEFAULT_MEMORY_SIZE_MB = 128;
  /** The default ephemeral storage ({@code /tmp}) size in megabytes, as in Lambda. */
  public static final int DEFAULT_EPHEMERAL_STORAGE_MB = 512;
  /** The most bytes all environment variable names and values may take together, as in Lambda. */
  public static final int MAX_ENVIRONMENT_BYTES = 4 * 1024;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]*");

  private final String name;
  private final String runtime;
  private final String handler;
  private final String description;
  private final int memorySizeMb;
  private final Duration timeout;
  private final Duration initTimeout;
  private final int ephemeralStorageMb;
  private final Map<String, String> environment;
  private final int maxConcurrencyPerEnvironment;

  private FunctionConfig(Builder b) {
    this.maxConcurrencyPerEnvironment = b.maxConcurrencyPerEnvironment;
    this.name = b.name;
    this.runtime = b.runtime;
    this.handler = b.handler;
    this.description = b.description;
    this.memorySizeMb = b.memorySizeMb;
    this.timeout = b.timeout;
    this.initTimeout = b.initTimeout;
    this.ephemeralStorageMb = b.ephemeralStorageMb;
    this.environment = Map.copyOf(b.environment);
  }

  /**
   * Starts a configuration for the function {@code name}.
   *
   * @param name the function's name, {@code [A-Za-z0-9_-]{1,64}}; validated by {@link Builder#build()}
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Returns a builder holding this configuration, to derive a changed copy. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.runtime = runtime;
    b.handler = handler;
    b.description = description;
    b.memorySizeMb = memorySizeMb;
    b.timeout = timeout;
    b.initTimeout = initTimeout;
    b.ephemeralStorageMb = ephemeralStorageMb;
    b.environment.putAll(environment);
    b.maxConcurrencyPerEnvironment = maxConcurrencyPerEnvironment;
    return b;
  }

  /** Returns the function's name. */
  public String name() {
    return name;
  }

  /** Returns the runtime identifier, for example {@code java21}, {@code nodejs} or {@code python3}. */
  public String runtime() {
    return runtime;
  }

  /** Returns the handler string, for example {@code com.acme.Thumbnail::handle}. */
  public String handler() {
    return handler;
  }

  /** Returns the description, possibly empty. */
  public String description() {
    return description;
  }

  /** Returns the memory size in megabytes, 128 to 10240. */
  public int memorySizeMb() {
    return memorySizeMb;
  }

  /** Returns the invocation timeout, 1 to 900 seconds. */
  public Duration timeout() {
    return timeout;
  }

  /** Returns the Init timeout. */
  public Duration initTimeout() {
    return initTimeout;
  }

  /** Returns the ephemeral storage ({@code /tmp}) size in megabytes, 512 to 10240. */
  public int ephemeralStorageMb() {
    return ephemeralStorageMb;
  }

  /** Returns the function's own environment variables. */
  public Map<String, String> environment() {
    return environment;
  }

  /**
   * Returns how many invocations one execution environment may run at once: 1 (Lambda's classic model) unless the
   * function declared itself thread-safe; see {@link Builder#maxConcurrencyPerEnvironment(int)}.
   */
  public int maxConcurrencyPerEnvironment() {
    return maxConcurrencyPerEnvironment;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FunctionConfig c
        && name.equals(c.name)
        && runtime.equals(c.runtime)
        && handler.equals(c.handler)
        && description.equals(c.description)
        && memorySizeMb == c.memorySizeMb
        && timeout.equals(c.timeout)
        && initTimeout.equals(c.initTimeout)
        && ephemeralStorageMb == c.ephemeralStorageMb
        && environment.equals(c.environment)
        && maxConcurrencyPerEnvironment == c.maxConcurrencyPerEnvironment;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, runtime, handler, memorySizeMb, timeout, environment);
  }

  @Override
  public String toString() {
    return "FunctionConfig{name=" + name + ", runtime=" + runtime + ", handler=" + handler
        + ", memorySizeMb=" + memorySizeMb + ", timeout=" + timeout + "}";
  }

  /**
   * Builds a {@link FunctionConfig}. Setters check their argument at once; {@link #build()} checks that the required
   * fields are present.
   */
  public static final class Builder {
    private final String name;
    private String runtime;
    private String handler;
    private String description = "";
    private int memorySizeMb = DEFAULT_MEMORY_SIZE_MB;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration initTimeout = DEFAULT_INIT_TIMEOUT;
    private int ephemeralStorageMb = DEFAULT_EPHEMERAL_STORAGE_MB;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private int maxConcurrencyPerEnvironment = 1;

    private Builder(String name) {
      this.name = name;
    }

    /** Sets the runtime identifier, for example {@code java21}. Required. */
    public Builder runtime(String runtime) {
      this.runtime = requireText("runtime", runtime);
      return this;
    }

    /** Sets the handler string. Required. */
    public Builder handler(String handler) {
      this.handler = requireText("handler", handler);
      return this;
    }

    /** Sets a description of up to 256 characters. */
    public Builder description(String description) {
      Objects.requireNonNull(description, "description");
      if (description.length() > 256) {
        throw invalid("description must be at most 256 characters, was %d", description.length());
      }
      this.description = description;
      return this;
    }

    /** Sets the memory size, 128 to 10240 MB. */
    public Builder memorySizeMb(int memorySizeMb) {
      if (memorySizeMb < 128 || memorySizeMb > 10240) {
        throw invalid("memorySize must be 128..10240 MB, was %d", memorySizeMb);
      }
      this.memorySizeMb = memorySizeMb;
      return this;
    }

    /** Sets the invocation timeout, 1 to 900 seconds in whole seconds. */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofSeconds(900)) > 0
          || timeout.toNanosPart() != 0) {
        throw invalid("timeout must be 1..900 whole seconds, was %s", format(timeout));
      }
      this.timeout = timeout;
      return this;
    }

    /** Sets the Init timeout, 1 to 900 seconds. */
    public Builder initTimeout(Duration initTimeout) {
      Objects.requireNonNull(initTimeout, "initTimeout");
      if (initTimeout.compareTo(Duration.ofSeconds(1)) < 0 || initTimeout.compareTo(Duration.ofSeconds(900)) > 0) {
        throw invalid("initTimeout must be 1..900 seconds, was %s", format(initTimeout));
      }
      this.initTimeout = initTimeout;
      return this;
    }

    /** Sets the ephemeral storage ({@code /tmp}) size, 512 to 10240 MB. */
    public Builder ephemeralStorageMb(int ephemeralStorageMb) {
      if (ephemeralStorageMb < 512 || ephemeralStorageMb > 10240) {
        throw invalid("ephemeralStorage must be 512..10240 MB, was %d", ephemeralStorageMb);
      }
      this.ephemeralStorageMb = ephemeralStorageMb;
      return this;
    }

    /**
     * Sets how many invocations one execution environment may run at once, 1 to 64 (Lambda Managed Instances'
     * {@code AWS_LAMBDA_MAX_CONCURRENCY}). Above 1 only for functions whose handler, and everything it shares
     * between invocations, is thread-safe; the runtime must support it too ({@code java21} does, JavaScript and
     * Python do not, and {@code createFunction} refuses them). Every concurrency limit still counts invocations; the
     * memory budget counts environments. Default: 1.
     */
    public Builder maxConcurrencyPerEnvironment(int invocations) {
      if (invocations < 1 || invocations > 64) {
        throw invalid("maxConcurrencyPerEnvironment must be 1..64, was %d", invocations);
      }
      this.maxConcurrencyPerEnvironment = invocations;
      return this;
    }

    /** Adds an environment variable; the name must be a valid identifier and not one of Lambda's reserved ones. */
    public Builder environment(String key, String value) {
      Objects.requireNonNull(key, "environment key");
      Objects.requireNonNull(value, "environment value");
      if (!ENV_KEY.matcher(key).matches()) {
        throw invalid("environment variable name must match [a-zA-Z][a-zA-Z0-9_]*, was '%s'", key);
      }
      if (ReservedVariables.isReserved(key)) {
        throw invalid("environment variable name '%s' is reserved", key);
      }
      environment.put(key, value);
      return this;
    }

    /** Replaces all environment variables with {@code variables}. */
    public Builder environment(Map<String, String> variables) {
      Map<String, String> previous = new LinkedHashMap<>(environment);
      environment.clear();
      try {
        variables.forEach(this::environment);
      } catch (RuntimeException e) {
        environment.clear();
        environment.putAll(previous); // all or nothing
        throw e;
      }
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @throws InvalidConfigurationException naming the field and value that are invalid
     */
    public FunctionConfig build() {
      if (name == null || !NAME.matcher(name).matches()) {
        throw invalid("functionName must match [A-Za-z0-9_-]{1,64}, was '%s'", name);
      }
      if (runtime == null) {
        throw invalid("runtime is required for function '%s'", name);
      }
      if (handler == null) {
        throw invalid("handler is required for function '%s'", name);
      }
      int bytes = 0;
      for (Map.Entry<String, String> e : environment.entrySet()) {
        bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length
            + e.getValue().getBytes(StandardCharsets.UTF_8).length;
      }
      if (bytes > MAX_ENVIRONMENT_BYTES) {
        throw invalid("environment variables must total at most 4096 bytes, were %d", bytes);
      }
      return new FunctionConfig(this);
    }

    private static String requireText(String field, String value) {
      if (value == null || value.isBlank()) {
        throw invalid("%s must not be empty, was '%s'", field, value);
      }
      return value.strip();
    }

    private static String format(Duration d) {
      return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static InvalidConfigurationException invalid(String format, Object... args) {
      return new InvalidConfigurationException(String.format(Locale.ROOT, format, args));
    }
  }

  /** Lambda's reserved environment variable names, which functions read but may not set. */
  static final class ReservedVariables {
    private static final java.util.Set<String> RESERVED = java.util.Set.of(
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR");

    private ReservedVariables() {}

    static boolean isReserved(String key) {
      return RESERVED.contains(key);
    }
  }
}
