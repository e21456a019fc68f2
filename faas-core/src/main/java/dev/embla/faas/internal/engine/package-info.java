/**
 * The engine object that ties the registry, the pools, the invocation path and the event router together. It owns
 * lifecycle (start, close) and nothing else.
 */
package dev.embla.faas.internal.engine;
