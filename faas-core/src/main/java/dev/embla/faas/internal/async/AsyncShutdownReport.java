package dev.embla.faas.internal.async;

import java.nio.file.Path;

/**
 * What closing the asynchronous queue left unfinished.
 *
 * @param undelivered events accepted and not finished, still in the store for the next engine that opens it
 * @param dispatchersStillRunning dispatcher threads that had not finished their event when the bound ran out (their
 *     events stay in the store too)
 * @param store the store's directory, or null if it was never opened
 * @param durable false if the store lives in a temporary work directory that the engine deletes
 */
public record AsyncShutdownReport(int undelivered, int dispatchersStillRunning, Path store, boolean durable) {}
