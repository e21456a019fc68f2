/**
 * The concurrency gate: the engine-wide concurrency limit, reserved and provisioned concurrency, the environment
 * memory budget and throttling. It decides whether an invocation may run and whether an environment may exist; it
 * never creates, runs or pools environments itself (that is {@code internal.pool} and {@code internal.invoke}).
 */
package dev.embla.faas.internal.concurrency;
