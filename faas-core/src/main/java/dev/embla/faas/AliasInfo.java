package dev.embla.faas;

import java.util.Objects;

/**
 * What the registry knows about an alias: the function it belongs to, its configuration, and its ARN.
 *
 * @param functionName the function the alias belongs to
 * @param config the alias's name, version, description and weights
 * @param aliasArn the alias's ARN, the function's ARN with the alias name as qualifier; what a function invoked
 *     through the alias sees as {@code invokedFunctionArn}
 * @since 0.1
 */
public record AliasInfo(String functionName, AliasConfig config, String aliasArn) {

  /** Validates the components. */
  public AliasInfo {
    Objects.requireNonNull(functionName, "functionName");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(aliasArn, "aliasArn");
  }

  /** Returns the alias's name. */
  public String name() {
    return config.name();
  }

  /** Returns the version the alias points at. */
  public String functionVersion() {
    return config.functionVersion();
  }
}
