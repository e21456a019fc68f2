package dev.embla.faas.internal.async;

import dev.embla.faas.FaasException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Consumer;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable part of the asynchronous queue: one RocksDB database whose keys are events' sequence numbers (8 bytes,
 * big-endian, so iteration is acceptance order) and whose values are {@link QueuedEvent#encode() encoded events}.
 *
 * <p>Durability: every write goes to RocksDB's write-ahead log before it returns. Without {@code sync} the log is in
 * the operating system's page cache, so a write survives the process being killed (the kernel still writes the page)
 * but not a power loss or kernel crash; with {@code sync} each write is fsync'ed and survives both.
 *
 * <p>A value that does not decode is moved, at start, to the key {@code quarantine:} (ASCII) followed by its 8-byte key:
 * kept for whoever investigates, out of the way of every later start. Those keys sort after any sequence number the
 * queue will reach, and are told from events by their length.
 *
 * <p>Thread-safety: RocksDB is thread-safe. A closed RocksDB handle must never be used (the native object is gone), so
 * the queue guards every call with its own lock and never calls this after {@link #close}.
 */
final class EventStore implements AutoCloseable {

  static {
    RocksDB.loadLibrary();
  }

  private static final Logger LOG = LoggerFactory.getLogger(EventStore.class);
  private static final byte[] QUARANTINE = "quarantine:".getBytes(StandardCharsets.US_ASCII);

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

  /**
   * Calls {@code each} with every stored event, in acceptance order, at the queue's start, and returns the sequence
   * number for the next event: above every key in the store, quarantined ones too, so that neither a stored event nor a
   * quarantined value is ever overwritten.
   *
   * <p>A value that does not decode (written by a release with a layout this one refuses, or damaged) is quarantined
   * and logged at WARN with its key: were it thrown, every later start would fail on it the same way; were it deleted,
   * an event a later release could read would be lost.
   *
   * @throws FaasException if the store could not be read to the end (an I/O error, a damaged file): a scan that stops
   *     early would hand out sequence numbers that events still on disk hold
   */
  long recover(Consumer<QueuedEvent> each) {
    long next = 0;
    try (RocksIterator it = db.newIterator()) { // reads a snapshot: quarantining during the scan does not disturb it
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (key.length == 8) {
          long seq = seq(key);
          next = Math.max(next, seq + 1);
          byte[] value = it.value();
          QueuedEvent e;
          try {
            e = QueuedEvent.decode(seq, value);
          } catch (RuntimeException ex) {
            quarantine(key, value, ex);
            continue;
          }
          each.accept(e);
        } else if (key.length == QUARANTINE.length + 8 && Arrays.equals(key, 0, QUARANTINE.length, QUARANTINE, 0,
            QUARANTINE.length)) {
          next = Math.max(next, seq(Arrays.copyOfRange(key, QUARANTINE.length, key.length)) + 1);
        } else {
          LOG.warn("asynchronous event store in {}: key {} is neither an event nor a quarantined one; left as it is",
              directory, HexFormat.of().formatHex(key));
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw new FaasException("cannot read the asynchronous event store in " + directory + ": " + e.getMessage()
          + "; not started, as sequence numbers that stored events hold could be reused", e);
    }
    return next;
  }

  private void quarantine(byte[] key, byte[] value, RuntimeException why) throws RocksDBException {
    byte[] aside = quarantineKey(key);
    try (WriteBatch batch = new WriteBatch()) { // one write: the value is under one key or the other, never neither
      batch.put(aside, value);
      batch.delete(key);
      db.write(writeOptions, batch);
    }
    LOG.warn("asynchronous event store in {}: the event under key {} does not decode ({}); it is not delivered, and "
        + "its {} bytes are kept under key 'quarantine:' followed by that key", directory,
        HexFormat.of().formatHex(key), why.getMessage(), value.length);
  }

  /** Returns the value {@link #recover} set aside for a sequence number, or null if there is none; for tests. */
  byte[] quarantined(long seq) {
    try {
      return db.get(quarantineKey(key(seq)));
    } catch (RocksDBException e) {
      throw new FaasException("cannot read quarantined event " + seq + " from " + directory + ": " + e.getMessage(),
          e);
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

  private static byte[] quarantineKey(byte[] key) {
    byte[] aside = Arrays.copyOf(QUARANTINE, QUARANTINE.length + key.length);
    System.arraycopy(key, 0, aside, QUARANTINE.length, key.length);
    return aside;
  }

  private static long seq(byte[] key) {
    long s = 0;
    for (byte b : key) {
      s = (s << 8) | (b & 0xFF);
    }
    return s;
  }
}
