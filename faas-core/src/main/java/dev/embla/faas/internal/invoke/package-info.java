/**
 * The synchronous invocation path: payload checks, qualifier resolution, taking an environment from its pool,
 * Init on a cold start, Invoke under the watchdog's deadline, the Lambda error shape, and the START/END/REPORT log
 * lines. It runs function code on the caller's thread and never holds a lock while it does.
 */
package dev.embla.faas.internal.invoke;
