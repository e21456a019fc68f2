package dev.embla.faas;

import java.time.Instant;
import java.util.Objects;

/**
 * A function's provisioned concurrency and how far the engine got with it (Lambda's
 * {@code GetProvisionedConcurrencyConfig} response).
 *
 * @param functionName the function's name
 * @param qualifier the version the environments belong to; {@code $LATEST} until versions exist
 * @param requested how many environments were asked for
 * @param allocated how many are initialised and kept warm now
 * @param status {@link Status#IN_PROGRESS} while environments are being initialised or retired, {@link Status#READY}
 *     once {@code allocated == requested}, {@link Status#FAILED} if one could not be initialised
 * @param statusReason why the status is {@link Status#FAILED}, otherwise empty
 * @param lastModified when the configuration last changed
 * @since 0.1
 */
public record ProvisionedConcurrencyConfig(
    String functionName, String qualifier, int requested, int allocated, Status status, String statusReason,
    Instant lastModified) {

  /** Where provisioning stands. */
  public enum Status {
    /** Environments are being initialised or retired. */
    IN_PROGRESS,
    /** Every requested environment is initialised and warm. */
    READY,
    /** An environment could not be initialised; {@link #statusReason()} says why. */
    FAILED
  }

  /** Validates the components. */
  public ProvisionedConcurrencyConfig {
    Objects.requireNonNull(functionName, "functionName");
    Objects.requireNonNull(qualifier, "qualifier");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(statusReason, "statusReason");
    Objects.requireNonNull(lastModified, "lastModified");
  }
}
