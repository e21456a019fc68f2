package dev.embla.faas.spi.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a runtime is told about one immutable function version.
 *
 * @param functionName the function's name
 * @param version {@code $LATEST} or a published version number
 * @param runtime the runtime identifier, for example {@code java21}
 * @param handler the handler string, for example {@code com.acme.Thumbnail::handle} or {@code index.handler}
 * @param codeDirectory the unpacked code package, read-only; the equivalent of Lambda's {@code /var/task}
 * @param codeSha256 the SHA-256 of the code package, hex encoded
 * @param memorySizeMb the configured memory size
 * @param timeout the invocation timeout
 * @param environment the environment variables a function sees: its own plus Lambda's reserved ones
 * @since 0.1
 */
public record FunctionDefinition(
    String functionName,
    String version,
    String runtime,
    String handler,
    Path codeDirectory,
    String codeSha256,
    int memorySizeMb,
    Duration timeout,
    Map<String, String> environment) {

  /** Validates that no component is null and copies the environment. */
  public FunctionDefinition {
    Objects.requireNonNull(functionName, "functionName");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(codeDirectory, "codeDirectory");
    Objects.requireNonNull(codeSha256, "codeSha256");
    Objects.requireNonNull(timeout, "timeout");
    environment = Map.copyOf(environment);
  }
}
