package dev.embla.faas.internal.async;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One accepted asynchronous event with its delivery state, as the queue keeps it in memory and in the store (the value
 * under its sequence number).
 *
 * <p>The value's layout is a version byte and then {@link DataOutputStream} fields in a fixed order: RocksDB stores
 * opaque bytes, and this is the smallest, fastest encoding of a flat record (no schema evolution is needed beyond the
 * version byte, which {@link #decode} checks).
 *
 * @param seq the store key: the order events were accepted in
 * @param requestId the request id every attempt of this event runs with
 * @param functionRef the function reference it was accepted for
 * @param payload the event
 * @param acceptedAtMillis when it was accepted, on the engine's clock; its age is counted from here
 * @param invocations how many times the function ran with it (Lambda's {@code approximateInvokeCount})
 * @param throttles how many attempts were throttled or found no function (not counted as retries)
 * @param nextAttemptAtMillis when it is next due, on the engine's clock
 * @param chain the recursion guard's hop counts
 * @param afterRecursionStop true for a record produced because the guard stopped an event: if the guard stops this
 *     one too, it is logged and dropped instead of forwarded, so that a failure destination in the loop cannot loop
 * @param lastError the last attempt's error JSON, or null; for the failure record after a restart
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
    byte[] lastError) {

  private static final byte VERSION = 1;

  /** Returns the function's name, without a qualifier. */
  String functionName() {
    int colon = functionRef.indexOf(':');
    return colon < 0 ? functionRef : functionRef.substring(0, colon);
  }

  /** Returns this event after one more invocation that failed with {@code error}, due again at {@code nextAt}. */
  QueuedEvent failed(byte[] error, long nextAt) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations + 1, throttles, nextAt,
        chain, afterRecursionStop, error);
  }

  /** Returns this event after an attempt that did not run the function (throttled, no such function yet). */
  QueuedEvent deferred(long nextAt) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations, throttles + 1, nextAt,
        chain, afterRecursionStop, lastError);
  }

  /** Returns this event due at {@code at}. */
  QueuedEvent dueAt(long at) {
    return new QueuedEvent(seq, requestId, functionRef, payload, acceptedAtMillis, invocations, throttles, at, chain,
        afterRecursionStop, lastError);
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + payload.length + functionRef.length());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeUTF(requestId);
      out.writeUTF(functionRef);
      out.writeLong(acceptedAtMillis);
      out.writeInt(invocations);
      out.writeInt(throttles);
      out.writeLong(nextAttemptAtMillis);
      out.writeBoolean(afterRecursionStop);
      out.writeShort(chain.size());
      for (int i = 0; i < chain.size(); i++) {
        out.writeUTF(chain.function(i));
        out.writeInt(chain.count(i));
      }
      writeBytes(out, lastError);
      writeBytes(out, payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
    }
    return bytes.toByteArray();
  }

  static QueuedEvent decode(long seq, byte[] value) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException("queued event " + seq + " has layout version " + version + ", expected "
            + VERSION);
      }
      String requestId = in.readUTF();
      String functionRef = in.readUTF();
      long accepted = in.readLong();
      int invocations = in.readInt();
      int throttles = in.readInt();
      long next = in.readLong();
      boolean afterStop = in.readBoolean();
      int n = in.readShort();
      String[] functions = new String[n];
      int[] counts = new int[n];
      for (int i = 0; i < n; i++) {
        functions[i] = in.readUTF();
        counts[i] = in.readInt();
      }
      byte[] lastError = readBytes(in);
      byte[] payload = readBytes(in);
      return new QueuedEvent(seq, requestId, functionRef, payload == null ? new byte[0] : payload, accepted,
          invocations, throttles, next, HopChain.of(functions, counts), afterStop, lastError);
    } catch (IOException e) {
      throw new IllegalStateException("queued event " + seq + " is truncated or corrupt", e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    if (b == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(b.length);
      out.write(b);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    return in.readNBytes(n);
  }
}
