package dev.embla.faas.internal.registry;

import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import java.time.Instant;

/**
 * One immutable revision of a function: its configuration, its code, the runtime's preparation of them, and the pool
 * of environments that run it. {@code $LATEST} is a revision that a code or configuration update replaces (the old
 * one is retired, so its environments finish what they are doing and shut down); each published version is a
 * revision of its own, with its own pool, until it is deleted.
 *
 * @param config the configuration
 * @param code the stored code
 * @param definition what the runtime was told, including the version
 * @param pool the environments of this revision
 * @param lastModified when this revision was made
 */
public record FunctionVersion(
    FunctionConfig config, StoredCode code, FunctionDefinition definition, EnvironmentPool pool,
    Instant lastModified) {

  /** The unpublished version, the one that code and configuration updates change. */
  public static final String LATEST = "$LATEST";

  /** Returns the version this revision is: {@code $LATEST} or a published version number. */
  public String version() {
    return definition.version();
  }

  /** Returns the public description of this revision. */
  public FunctionInfo info() {
    return new FunctionInfo(config, version(), code.sha256(), code.zippedSize(), lastModified);
  }
}
