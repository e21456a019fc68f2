package dev.embla.faas.internal.router;

import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An {@link Invoker} that records every call and answers with a behaviour the test sets; by default it succeeds
 * with {@code "ok"}.
 */
public final class FakeInvoker implements Invoker {

  /** What the fake does with one call. */
  @FunctionalInterface
  public interface Behaviour {
    /** Answers one call, or throws as the engine would. */
    InvocationResult answer(String functionRef, String payload) throws Exception;
  }

  /** One recorded call. */
  public record Call(String functionRef, String payload) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final java.util.Map<String, Integer> recursionStops = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile Behaviour behaviour = (ref, payload) -> success("\"ok\"");

  /** Sets what later calls do. */
  public FakeInvoker answer(Behaviour behaviour) {
    this.behaviour = behaviour;
    return this;
  }

  @Override
  public InvocationResult invoke(String functionRef, byte[] payload) {
    String text = new String(payload, StandardCharsets.UTF_8);
    calls.add(new Call(functionRef, text));
    try {
      return behaviour.answer(functionRef, text);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns the calls made so far, oldest first. */
  public List<Call> calls() {
    return List.copyOf(calls);
  }

  @Override
  public void recursionStopped(String functionName, int events) {
    recursionStops.merge(functionName, events, Integer::sum);
  }

  /** Returns the events recursive loop detection stopped, by function name. */
  public java.util.Map<String, Integer> recursionStops() {
    return java.util.Map.copyOf(recursionStops);
  }

  /** Returns how many calls were made. */
  public int count() {
    return calls.size();
  }

  /** Returns a successful result with the given JSON payload. */
  public static InvocationResult success(String payload) {
    return new InvocationResult(UUID.randomUUID().toString(), "$LATEST", payload.getBytes(StandardCharsets.UTF_8),
        null, 1_000_000, -1, 64);
  }

  /** Returns a handler error result, as the engine returns when the handler throws. */
  public static InvocationResult failure(String errorType, String message) {
    FunctionError error = new FunctionError(FunctionError.Kind.HANDLER, errorType, message, List.of());
    return new InvocationResult(UUID.randomUUID().toString(), "$LATEST",
        error.toJson().getBytes(StandardCharsets.UTF_8), error, 1_000_000, -1, 64);
  }
}
