package dev.embla.faas;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An alias of a function, validated as Lambda validates it: a name such as {@code live} that points at a published
 * version (or {@code $LATEST}), and optionally sends a share of its traffic to one other published version. Immutable;
 * build one with {@link #builder(String)} and derive a changed copy with {@link #toBuilder()}.
 *
 * <pre>{@code
 * engine.createAlias("thumbnail", AliasConfig.builder("live").functionVersion("3").build());
 * // canary: 10% of "live" goes to version 4
 * engine.updateAlias("thumbnail", AliasConfig.builder("live").functionVersion("3")
 *     .additionalVersionWeight("4", 0.1).build());
 * }</pre>
 *
 * @since 0.1
 */
public final class AliasConfig {

  /** Lambda's alias name pattern: letters, digits, {@code -} and {@code _}, not all digits (those are versions). */
  private static final Pattern NAME = Pattern.compile("(?!^[0-9]+$)([a-zA-Z0-9_-]+)");
  private static final Pattern VERSION = Pattern.compile("\\$LATEST|[0-9]+");
  private static final Pattern PUBLISHED_VERSION = Pattern.compile("[0-9]+");

  private final String name;
  private final String functionVersion;
  private final String description;
  private final Map<String, Double> additionalVersionWeights;

  private AliasConfig(Builder b) {
    this.name = b.name;
    this.functionVersion = b.functionVersion;
    this.description = b.description;
    this.additionalVersionWeights = b.additionalVersion == null
        ? Map.of() : Map.of(b.additionalVersion, b.additionalWeight);
  }

  /**
   * Starts an alias named {@code name}.
   *
   * @param name the alias's name: 1 to 128 of {@code [a-zA-Z0-9_-]}, not all digits; validated by
   *     {@link Builder#build()}
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Returns a builder holding this alias, to derive a changed copy. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.functionVersion = functionVersion;
    b.description = description;
    additionalVersionWeights.forEach((v, w) -> {
      b.additionalVersion = v;
      b.additionalWeight = w;
    });
    return b;
  }

  /** Returns the alias's name, for example {@code live}. */
  public String name() {
    return name;
  }

  /** Returns the version the alias points at: a published version number or {@code $LATEST}. */
  public String functionVersion() {
    return functionVersion;
  }

  /** Returns the description, possibly empty. */
  public String description() {
    return description;
  }

  /**
   * Returns Lambda's {@code RoutingConfig.AdditionalVersionWeights}: at most one other published version and the share
   * of the alias's invocations (0.0 to 1.0) it receives; empty when all traffic goes to {@link #functionVersion()}.
   */
  public Map<String, Double> additionalVersionWeights() {
    return additionalVersionWeights;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AliasConfig c
        && name.equals(c.name)
        && functionVersion.equals(c.functionVersion)
        && description.equals(c.description)
        && additionalVersionWeights.equals(c.additionalVersionWeights);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, functionVersion, description, additionalVersionWeights);
  }

  @Override
  public String toString() {
    return "AliasConfig{name=" + name + ", functionVersion=" + functionVersion
        + (additionalVersionWeights.isEmpty() ? "" : ", additionalVersionWeights=" + additionalVersionWeights) + "}";
  }

  /**
   * Builds an {@link AliasConfig}. Setters check their argument at once; {@link #build()} checks the name, that the
   * version is set, and that a weighted alias is consistent.
   */
  public static final class Builder {
    private final String name;
    private String functionVersion;
    private String description = "";
    private String additionalVersion;
    private double additionalWeight;

    private Builder(String name) {
      this.name = name;
    }

    /** Sets the version the alias points at: a published version number or {@code $LATEST}. Required. */
    public Builder functionVersion(String functionVersion) {
      if (functionVersion == null || !VERSION.matcher(functionVersion).matches()) {
        throw invalid("functionVersion must be $LATEST or a version number, was '%s'", functionVersion);
      }
      this.functionVersion = functionVersion;
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

    /**
     * Sends {@code weight} (0.0 to 1.0) of the alias's invocations to the published version {@code version} instead
     * of {@link #functionVersion(String)}, as Lambda's weighted aliases do. One additional version at most; a second
     * call replaces the first.
     */
    public Builder additionalVersionWeight(String version, double weight) {
      if (version == null || !PUBLISHED_VERSION.matcher(version).matches()) {
        throw invalid("additional version must be a published version number, was '%s'", version);
      }
      if (!(weight >= 0.0 && weight <= 1.0)) {
        throw invalid("additional version weight must be 0.0..1.0, was %s", weight);
      }
      this.additionalVersion = version;
      this.additionalWeight = weight;
      return this;
    }

    /** Removes the additional version, so that all of the alias's traffic goes to its version. */
    public Builder clearAdditionalVersionWeights() {
      this.additionalVersion = null;
      this.additionalWeight = 0;
      return this;
    }

    /** Validates and builds the alias. */
    public AliasConfig build() {
      if (name == null || name.isEmpty() || name.length() > 128 || !NAME.matcher(name).matches()) {
        throw invalid("alias name must be 1..128 characters of [a-zA-Z0-9_-] and not all digits, was '%s'", name);
      }
      if (functionVersion == null) {
        throw invalid("functionVersion of alias '%s' must be set", name);
      }
      if (additionalVersion != null && functionVersion.equals("$LATEST")) {
        throw invalid("alias '%s' with an additional version must point at a published version, was $LATEST", name);
      }
      if (additionalVersion != null && additionalVersion.equals(functionVersion)) {
        throw invalid("additional version of alias '%s' must differ from its version, both were %s", name,
            functionVersion);
      }
      return new AliasConfig(this);
    }

    private static InvalidConfigurationException invalid(String format, Object... args) {
      return new InvalidConfigurationException(String.format(Locale.ROOT, format, args));
    }
  }
}
