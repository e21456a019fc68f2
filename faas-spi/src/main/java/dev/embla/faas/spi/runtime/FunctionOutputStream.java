package dev.embla.faas.spi.runtime;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns the bytes a function writes to standard output or error into lines for a {@link FunctionOutput}: what every
 * runtime needs between a guest's byte stream and the engine's log. Holds only the current partial line; its buffer
 * is allocated on first write and trimmed after each flush, so an idle environment keeps almost nothing. A line
 * longer than {@link #MAX_LINE} bytes is cut, so output without newlines cannot grow the buffer without bound.
 * Thread-safe.
 *
 * @since 0.1
 */
public final class FunctionOutputStream extends OutputStream {

  private static final byte[] EMPTY = new byte[0];
  private static final int KEEP = 1024;

  private final FunctionOutput output;
  private final FunctionOutput.Stream stream;
  /** The longest line sent as one, in bytes (CloudWatch's event limit); longer output is cut into such lines. */
  public static final int MAX_LINE = 256 * 1024;

  private byte[] buffer = EMPTY;
  private int count;

  /**
   * Creates a stream.
   *
   * @param output where lines go
   * @param stream which stream the lines are reported as
   */
  public FunctionOutputStream(FunctionOutput output, FunctionOutput.Stream stream) {
    this.output = output;
    this.stream = stream;
  }

  @Override
  public synchronized void write(int b) {
    if (b == '\n') {
      emit();
    } else {
      append(new byte[] {(byte) b}, 0, 1);
    }
  }

  @Override
  public synchronized void write(byte[] bytes, int offset, int length) {
    int end = offset + length;
    int start = offset;
    for (int i = offset; i < end; i++) {
      if (bytes[i] == '\n') {
        append(bytes, start, i - start);
        emit();
        start = i + 1;
      }
    }
    append(bytes, start, end - start);
  }

  /** Sends a pending partial line as a line of its own; runtimes call it at the end of each phase. */
  public synchronized void flushPartial() {
    if (count > 0) {
      emit();
    }
    if (buffer.length > KEEP) {
      buffer = EMPTY;
    }
  }

  private void append(byte[] bytes, int offset, int length) {
    // A line is cut at MAX_LINE bytes (CloudWatch's event limit), so output without newlines cannot grow a buffer
    // without bound.
    while (count + length > MAX_LINE) {
      int take = MAX_LINE - count;
      appendUnchecked(bytes, offset, take);
      emit();
      offset += take;
      length -= take;
    }
    appendUnchecked(bytes, offset, length);
  }

  private void appendUnchecked(byte[] bytes, int offset, int length) {
    if (length == 0) {
      return;
    }
    if (count + length > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(count + length, Math.max(64, buffer.length * 2)));
    }
    System.arraycopy(bytes, offset, buffer, count, length);
    count += length;
  }

  private void emit() {
    int length = count;
    if (length > 0 && buffer[length - 1] == '\r') {
      length--;
    }
    String line = new String(buffer, 0, length, StandardCharsets.UTF_8);
    count = 0;
    output.line(stream, line);
  }
}
