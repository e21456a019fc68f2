package dev.embla.faas.internal.engine;

import dev.embla.faas.Ticker;
import dev.embla.faas.internal.async.AsyncSettings;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The engine's immutable settings, as validated by {@link dev.embla.faas.FaasEngine.Builder}.
 *
 * @param workDirectory null for a temporary directory owned (and deleted) by the engine
 * @param async the asynchronous queue's settings
 */
public record EngineSettings(
    Ticker ticker,
    Clock clock,
    Duration keepAlive,
    Duration shutdownGracePeriod,
    int maxPayloadBytes,
    long maxZippedCodeBytes,
    long maxUnzippedCodeBytes,
    Path workDirectory,
    List<RuntimeProvider> runtimes,
    long maxLogBytesPerInvocation,
    AsyncSettings async) {}
