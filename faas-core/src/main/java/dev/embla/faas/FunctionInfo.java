package dev.embla.faas;

import java.time.Instant;
import java.util.Objects;

/**
 * What the registry knows about a function: its configuration and the identity of its code.
 *
 * @param config the function's current configuration
 * @param version the version described, {@code $LATEST} for the unpublished one
 * @param codeSha256 the SHA-256 of the code package, hex encoded; for a directory, of its files in path order, each
 *     framed by its path and content lengths
 * @param codeSize the size of the code package in bytes (zipped)
 * @param lastModified when the code or configuration last changed
 * @since 0.1
 */
public record FunctionInfo(
    FunctionConfig config, String version, String codeSha256, long codeSize, Instant lastModified) {

  /** Validates the components. */
  public FunctionInfo {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(codeSha256, "codeSha256");
    Objects.requireNonNull(lastModified, "lastModified");
  }

  /** Returns the function's name. */
  public String name() {
    return config.name();
  }
}
