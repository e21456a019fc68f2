package dev.embla.faas.spi.runtime;

import dev.embla.faas.spi.Context;
import java.time.Duration;

/**
 * One isolated instance of one function version. Its life is Lambda's: {@link #init} once, then many
 * {@link #invoke}s, then {@link #shutdown}. The engine guarantees that these calls never overlap for one environment
 * (unless the function allows several invocations per environment), and that {@link #invoke} is never called before
 * {@link #init} returned normally.
 *
 * <p>{@link #cancel} is the exception: the engine's watchdog calls it from another thread when a deadline passes, and
 * it must make the running {@code init} or {@code invoke} end promptly (by throwing anything). An environment that was
 * cancelled is never used again: the engine only calls {@link #shutdown} on it.
 *
 * @since 0.1
 */
public interface ExecutionEnvironment {

  /**
   * Runs the Init phase: loads the code and runs the function's own initialisation (static initialisers, the
   * handler's constructor, module top-level code).
   *
   * @throws FunctionFailure with {@link FunctionFailure.Kind#INIT} if the function's initialisation fails
   */
  void init();

  /**
   * Runs the handler once.
   *
   * @param payload the event as JSON bytes
   * @param context the invocation's context
   * @return the response as JSON bytes (or raw bytes for stream handlers)
   * @throws FunctionFailure if the handler failed or the payload did not map to its input
   */
  byte[] invoke(byte[] payload, Context context);

  /**
   * Stops the code now running in this environment, called from another thread when its deadline passes. Must not
   * block. The running {@code init} or {@code invoke} should end by throwing within a few milliseconds.
   */
  void cancel();

  /**
   * Runs the Shutdown phase (the function's shutdown hooks) and releases the environment's resources.
   *
   * @param bound how long the function's hooks may run before they are cancelled
   */
  void shutdown(Duration bound);

  /**
   * Returns whether this environment may take another invocation. A runtime returns false when the function did
   * something a real Lambda sandbox would not survive (tried to end its process, say), even if the invocation
   * itself completed; the engine then shuts the environment down instead of reusing it.
   */
  default boolean isReusable() {
    return true;
  }

  /**
   * Returns the number of bytes this environment holds beyond what the engine can measure itself, for the memory
   * figures in {@code REPORT} lines; {@code -1} if unknown.
   */
  default long retainedBytes() {
    return -1;
  }

  /**
   * Returns the thread this environment runs its guest code on, when that is not the thread that calls
   * {@link #init} and {@link #invoke} (a runtime that hands each phase to a thread of its own, so that
   * {@link #cancel} can answer the caller before the guest has finished stopping); {@code null}, the default, when
   * the guest runs on the caller's thread. The engine measures this thread's allocation for the allocation budget and
   * for {@code Max Memory Used}, so it must be a platform thread (the JVM reports no allocation for virtual ones),
   * started and alive when this is first called (just before {@link #init}), and the same until {@link #shutdown}.
   * Such a runtime may answer a cancelled phase's caller before its guest has stopped; {@link #shutdown} may then
   * arrive while that guest is still unwinding, and should wait for it, within its bound.
   *
   * @since 0.1
   */
  default Thread guestThread() {
    return null;
  }
}
