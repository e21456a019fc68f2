package dev.embla.faas.internal.java;

/**
 * Thrown by a preemption poll in function code once its environment has been cancelled. An {@link Error}, so that
 * ordinary {@code catch (Exception e)} blocks let it through; and since every later poll throws a new one, even
 * {@code catch (Throwable t) {}} inside a loop cannot keep the loop running. Engine-internal: function code cannot
 * name this class (its loader does not expose the engine's packages).
 */
final class InvocationCancelledError extends Error {

  private static final long serialVersionUID = 1L;

  InvocationCancelledError() {
    // No stack trace and no suppression: it is thrown at every poll of a cancelled environment, so it must be cheap.
    super("the execution environment was cancelled", null, false, false);
  }
}
