package dev.embla.faas.internal.async;

import dev.embla.faas.internal.recursion.HopChain;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One accepted asynchronous event with its delivery state, as the queue keeps it in memory and in the store (the value
 * under its sequence number).
 *
 * <p>The value's layout is a version byte and then big-endian fields in a fixed order (strings and byte arrays with an
 * int length before them, -1 for null): RocksDB stores opaque bytes, and this is the smallest, fastest encoding of a
 * flat record, written into one exactly sized array. Fields added since the first release go after the payload and may
 * be absent: a release that does not know them stops reading at the payload, so a store stays readable by the release
 * before and after (an older engine must never fail to start on events a newer one wrote). The version byte, which
 * {@link #decode} checks, changes only for a change an older reader must refuse.
 *
 * @param seq the store key: the order events were accepted in
 * @param requestId the request id every attempt of this event runs with
 * @param functionRef the function reference it was accepted for
 * @param payload the event; null in memory while a large event waits ({@link #lean()})
 * @param acceptedAtMillis when it was accepted, on the engine's clock; its age is counted from here
 * @param invocations how many times the function ran with it (Lambda's {@code approximateInvokeCount})
 * @param throttles how many attempts were throttled or found no function (not counted as retries)
 * @param nextAttemptAtMillis when it is next due, on the engine's clock
 * @param chain the recursion guard's hop counts
 * @param afterRecursionStop true for a record produced because the guard stopped an event: if the guard stops this
 *     one too, it is logged and dropped instead of forwarded, so that a failure destination in the loop cannot loop
 * @param lastError the last attempt's error JSON, or null; for the failure record after a restart
 * @param lastExecutedVersion the version the last attempt ran, or null if none ran (or the event was stored by a
 *     release that did not keep it); for the failure record's {@code executedVersion}, after a restart too
 */
record QueuedEvent(
    long seq,
    String requestId,
    String functionRef,
    byte[] payload,
    long acceptedAtMillis,
    int invocations,
    int throttles,
    long nextAttemptAtMillis,
    HopChain chain,
    boolean afterRecursionStop,
    byte[] lastError,
    String lastExecutedVersion) {

  private static final byte VERSION = 1;

  /**
   * Payloads up to this size stay in memory while the event waits; larger ones are dropped from the in-memory copy
   * and read back from the store when the event is dispatched, so that a backlog of large events costs disk, not heap.
   */
  static final int INLINE_PAYLOAD_BYTES = 1024;

  /** Returns this event as it waits in memory: without its payload if that is large ({@code payload} then null). */
  QueuedEvent lean() {
    if (payload == null || payload.length <= INLINE_PAYLOAD_BYTES) {
      return this;
    }
    return new QueuedEvent(seq, requestId, functionRef, null, acceptedAtMillis, invocations, throttles,
        nextAttemptAtMillis, chain, afterRecursionStop, lastError, lastExecutedVersion);
  }

  /** Returns the function's name, without a qualifier. */
  String functionName() {
    return HopChain.functionOf(functionRef);
  }

  /**
   * Returns this event after one more invocation, of {@code executedVersion} (null if no version ran), that failed with
   * {@code error} (null for a success), due again at {@code nextAt}.
   */
  QueuedEvent failed(byte[] error, String executedVersion, long nextAt) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations + 1, throttles, nextAt,
        chain, afterRecursionStop, error, executedVersion);
  }

  /** Returns this event after an attempt that did not run the function (throttled, no such function yet). */
  QueuedEvent deferred(long nextAt) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations, throttles + 1, nextAt,
        chain, afterRecursionStop, lastError, lastExecutedVersion);
  }

  /** Returns this event due at {@code at}. */
  QueuedEvent dueAt(long at) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations, throttles, at, chain,
        afterRecursionStop, lastError, lastExecutedVersion);
  }

  byte[] encode() {
    byte[] id = requestId.getBytes(StandardCharsets.UTF_8);
    byte[] ref = functionRef.getBytes(StandardCharsets.UTF_8);
    byte[] executed = lastExecutedVersion == null ? null : lastExecutedVersion.getBytes(StandardCharsets.UTF_8);
    byte[][] names = new byte[chain.size()][];
    int size = 1 + 4 + id.length + 4 + ref.length + 8 + 4 + 4 + 8 + 1 + 2
        + 4 + (lastError == null ? 0 : lastError.length) + 4 + payload.length
        + 4 + (executed == null ? 0 : executed.length);
    for (int i = 0; i < names.length; i++) {
      names[i] = chain.function(i).getBytes(StandardCharsets.UTF_8);
      size += 4 + names[i].length + 4;
    }
    ByteBuffer out = ByteBuffer.allocate(size); // big-endian, exactly sized: one allocation, no copy
    out.put(VERSION);
    putBytes(out, id);
    putBytes(out, ref);
    out.putLong(acceptedAtMillis).putInt(invocations).putInt(throttles).putLong(nextAttemptAtMillis)
        .put((byte) (afterRecursionStop ? 1 : 0)).putShort((short) names.length);
    for (int i = 0; i < names.length; i++) {
      putBytes(out, names[i]);
      out.putInt(chain.count(i));
    }
    putBytes(out, lastError);
    putBytes(out, payload);
    putBytes(out, executed); // after the payload: see the class comment
    return out.array();
  }

  static QueuedEvent decode(long seq, byte[] value) {
    try {
      ByteBuffer in = ByteBuffer.wrap(value);
      byte version = in.get();
      if (version != VERSION) {
        throw new IllegalStateException("queued event " + seq + " has layout version " + version + ", expected "
            + VERSION);
      }
      String requestId = string(in);
      String functionRef = string(in);
      long accepted = in.getLong();
      int invocations = in.getInt();
      int throttles = in.getInt();
      long next = in.getLong();
      boolean afterStop = in.get() != 0;
      int n = in.getShort();
      String[] functions = new String[n];
      int[] counts = new int[n];
      for (int i = 0; i < n; i++) {
        functions[i] = string(in);
        counts[i] = in.getInt();
      }
      byte[] lastError = getBytes(in);
      byte[] payload = getBytes(in);
      byte[] executed = in.hasRemaining() ? getBytes(in) : null; // absent when an earlier release wrote the event
      return new QueuedEvent(seq, requestId, functionRef, payload == null ? new byte[0] : payload, accepted,
          invocations, throttles, next, HopChain.of(functions, counts), afterStop, lastError,
          executed == null ? null : new String(executed, StandardCharsets.UTF_8));
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new IllegalStateException("queued event " + seq + " is truncated or corrupt", e);
    }
  }

  private static void putBytes(ByteBuffer out, byte[] b) {
    if (b == null) {
      out.putInt(-1);
    } else {
      out.putInt(b.length).put(b);
    }
  }

  private static byte[] getBytes(ByteBuffer in) {
    int n = in.getInt();
    if (n < 0) {
      return null;
    }
    if (n > in.remaining()) { // a damaged length: fail as truncated rather than allocate up to 2 GB first
      throw new BufferUnderflowException();
    }
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }

  private static String string(ByteBuffer in) {
    byte[] b = getBytes(in);
    if (b == null) {
      throw new IllegalArgumentException("missing string");
    }
    return new String(b, StandardCharsets.UTF_8);
  }
}
