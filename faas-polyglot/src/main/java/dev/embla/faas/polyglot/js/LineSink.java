package dev.embla.faas.polyglot.js;

import dev.embla.faas.spi.runtime.FunctionOutput;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns bytes the context writes to its standard streams (GraalJS's own {@code print}, its warnings) into lines for
 * {@link FunctionOutput}. {@code console} does not come through here: the runtime layer sends whole lines.
 */
final class LineSink extends OutputStream {

  private final FunctionOutput output;
  private final FunctionOutput.Stream stream;
  /** The longest line sent as one; longer output is cut into lines of this many bytes. */
  static final int MAX_LINE = 256 * 1024;

  private byte[] buffer = new byte[0];
  private int count;

  LineSink(FunctionOutput output, FunctionOutput.Stream stream) {
    this.output = output;
    this.stream = stream;
  }

  @Override
  public synchronized void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] bytes, int offset, int length) {
    int start = offset;
    for (int i = offset; i < offset + length; i++) {
      if (bytes[i] == '\n') {
        append(bytes, start, i - start);
        emit();
        start = i + 1;
      }
    }
    append(bytes, start, offset + length - start);
  }

  /** Sends a pending partial line, at the end of each phase. */
  synchronized void flushPartial() {
    if (count > 0) {
      emit();
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
    if (count + length > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(count + length, Math.max(64, buffer.length * 2)));
    }
    System.arraycopy(bytes, offset, buffer, count, length);
    count += length;
  }

  private void emit() {
    int length = count > 0 && buffer[count - 1] == '\r' ? count - 1 : count;
    String line = new String(buffer, 0, length, StandardCharsets.UTF_8);
    count = 0;
    output.line(stream, line);
  }
}
