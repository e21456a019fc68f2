package dev.embla.faas.internal.registry;

import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import java.time.Instant;

/**
 * One immutable revision of a function: its configuration, its code, the runtime's preparation of them, and the pool
 * of environments that run it. A code or configuration update makes a new revision; the old one is retired, so its
 * environments finish what they are doing and shut down.
 *
 * @param config the configuration
 * @param code the stored code
 * @param definition what the runtime was told
 * @param pool the environments of this revision
 * @param lastModified when this revision was made
 */
public record FunctionVersion(
    FunctionConfig config, StoredCode code, FunctionDefinition definition, EnvironmentPool pool,
    Instant lastModified) {

  /** The only version there is until versions are published. */
  public static final String LATEST = "$LATEST";

  /** Returns the public description of this revision. */
  public FunctionInfo info() {
    return new FunctionInfo(config, LATEST, code.sha256(), code.zippedSize(), lastModified);
  }
}
