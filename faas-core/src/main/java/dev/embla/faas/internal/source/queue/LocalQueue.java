package dev.embla.faas.internal.source.queue;

import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.spi.source.SourceRecord;
import java.time.Duration;
import java.util.List;

/** Placeholder; replaced by the in-memory queue. */
public final class LocalQueue implements InMemoryQueue {
  public LocalQueue(String name, Duration visibilityTimeout, int capacity) {}

  @Override public String name() { return ""; }
  @Override public String send(String body) { throw new UnsupportedOperationException(); }
  @Override public int approximateNumberOfMessages() { return 0; }
  @Override public int approximateNumberOfMessagesNotVisible() { return 0; }
  @Override public String describe() { return ""; }
  @Override public List<SourceRecord> receive(int maxRecords, Duration maxWait) { return List.of(); }
  @Override public byte[] toEvent(List<SourceRecord> batch) { return new byte[0]; }
  @Override public void acknowledge(List<SourceRecord> records) {}
  @Override public void release(List<SourceRecord> records, String reason) {}
}
