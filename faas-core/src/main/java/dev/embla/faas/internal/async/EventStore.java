package dev.embla.faas.internal.async;

import dev.embla.faas.FaasException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The durable part of the asynchronous queue: one RocksDB database whose keys are events' sequence numbers (8 bytes,
 * big-endian, so iteration is acceptance order) and whose values are {@link QueuedEvent#encode() encoded events}.
 *
 * <p>Durability: every write goes to RocksDB's write-ahead log before it returns. Without {@code sync} the log is in
 * the operating system's page cache, so a write survives the process being killed (the kernel still writes the page)
 * but not a power loss or kernel crash; with {@code sync} each write is fsync'ed and survives both.
 *
 * <p>Thread-safety: RocksDB is thread-safe. A closed RocksDB handle must never be used (the native object is gone), so
 * the queue guards every call with its own lock and never calls this after {@link #close}.
 */
final class EventStore implements AutoCloseable {

  static {
    RocksDB.loadLibrary();
  }

  private final Path directory;
  private final Options options;
  private final WriteOptions writeOptions;
  private final RocksDB db;

  private EventStore(Path directory, Options options, WriteOptions writeOptions, RocksDB db) {
    this.directory = directory;
    this.options = options;
    this.writeOptions = writeOptions;
    this.db = db;
  }

  /** Opens (creating if needed) the store in {@code directory}. */
  static EventStore open(Path directory, boolean sync) {
    Options options = new Options()
        .setCreateIfMissing(true)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
        .setKeepLogFileNum(2)
        // producers and dispatchers write at once; pipelining lets one group's WAL write overlap the next's memtable
        .setEnablePipelinedWrite(true);
    WriteOptions writeOptions = new WriteOptions().setSync(sync).setDisableWAL(false);
    try {
      Files.createDirectories(directory);
      return new EventStore(directory, options, writeOptions, RocksDB.open(options, directory.toString()));
    } catch (RocksDBException e) {
      options.close();
      writeOptions.close();
      throw new FaasException("cannot open the asynchronous event store in " + directory + ": " + e.getMessage(), e);
    } catch (IOException e) {
      options.close();
      writeOptions.close();
      throw new UncheckedIOException("cannot create the asynchronous event store directory " + directory, e);
    }
  }

  Path directory() {
    return directory;
  }

  void put(long seq, byte[] value) {
    try {
      db.put(writeOptions, key(seq), value);
    } catch (RocksDBException e) {
      throw new FaasException("cannot write asynchronous event " + seq + " to " + directory + ": " + e.getMessage(), e);
    }
  }

  /** Deletes {@code count} events in one write. */
  void deleteAll(long[] seqs, int count) {
    try (WriteBatch batch = new WriteBatch()) {
      for (int i = 0; i < count; i++) {
        batch.delete(key(seqs[i]));
      }
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw new FaasException("cannot delete " + count + " asynchronous events from " + directory + ": "
          + e.getMessage(), e);
    }
  }

  /** Returns an event as stored, or null if it is not (deleted). */
  QueuedEvent get(long seq) {
    try {
      byte[] value = db.get(key(seq));
      return value == null ? null : QueuedEvent.decode(seq, value);
    } catch (RocksDBException e) {
      throw new FaasException("cannot read asynchronous event " + seq + " from " + directory + ": " + e.getMessage(),
          e);
    }
  }

  /** Calls {@code each} with every stored event, in acceptance order. */
  void forEach(Consumer<QueuedEvent> each) {
    try (RocksIterator it = db.newIterator()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        each.accept(QueuedEvent.decode(seq(it.key()), it.value()));
      }
    }
  }

  @Override
  public void close() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      // closing flushes what it can; the WAL already holds every acknowledged write
    }
    db.close();
    writeOptions.close();
    options.close();
  }

  private static byte[] key(long seq) {
    byte[] k = new byte[8];
    for (int i = 7; i >= 0; i--) {
      k[i] = (byte) seq;
      seq >>>= 8;
    }
    return k;
  }

  private static long seq(byte[] key) {
    long s = 0;
    for (byte b : key) {
      s = (s << 8) | (b & 0xFF);
    }
    return s;
  }
}
