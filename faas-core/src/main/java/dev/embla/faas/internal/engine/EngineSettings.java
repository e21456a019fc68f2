package dev.embla.faas.internal.engine;

import dev.embla.faas.KeepAlivePolicy;
import dev.embla.faas.Ticker;
import dev.embla.faas.internal.async.AsyncSettings;
import dev.embla.faas.internal.concurrency.ConcurrencySettings;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The engine's immutable settings, as validated by {@link dev.embla.faas.FaasEngine.Builder}.
 *
 * @param workDirectory null for a temporary directory owned (and deleted) by the engine
 * @param keepAlive the fixed keep-alive, or the default when another policy is set; sets the maintenance period
 * @param keepAlivePolicy decides how long idle environments are kept and when one is pre-warmed
 * @param allocationBudgetFactor each phase's allocation budget as a multiple of the function's memory size; 0 for none
 * @param warmUpRuntimes the runtimes whose providers are warmed up when the engine is built
 * @param concurrency the concurrency limit, unreserved floor and environment memory budget
 * @param async the asynchronous queue's settings
 */
public record EngineSettings(
    Ticker ticker,
    Clock clock,
    Duration keepAlive,
    Duration shutdownGracePeriod,
    int maxPayloadBytes,
    int maxResponseBytes,
    long maxZippedCodeBytes,
    long maxUnzippedCodeBytes,
    Path workDirectory,
    List<RuntimeProvider> runtimes,
    long maxLogBytesPerInvocation,
    KeepAlivePolicy keepAlivePolicy,
    double allocationBudgetFactor,
    Set<String> warmUpRuntimes,
    ConcurrencySettings concurrency,
    AsyncSettings async) {}
