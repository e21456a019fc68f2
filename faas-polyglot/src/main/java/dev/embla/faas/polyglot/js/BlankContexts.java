package dev.embla.faas.polyglot.js;

import dev.embla.faas.polyglot.GuestContexts;
import dev.embla.faas.polyglot.SandboxFileSystem;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.io.FileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GraalJS contexts created ahead of need, before the function that will use one is known, so that a JavaScript cold
 * start does not create its context on the caller's thread (OpenWhisk's "stem cell" containers, inside one JVM).
 *
 * <p><b>Why.</b> Creating a context and initialising its realm is nearly all of a JavaScript cold start's cost, and
 * GraalJS creates the contexts of one engine one at a time, under a monitor: in a burst of N cold starts every caller
 * queues there (docs/BENCHMARKS.md, stop 10). Evaluating a function's module and calling it on a ready context takes
 * microseconds and does not queue.
 *
 * <p><b>Isolation.</b> A blank context has run nothing but {@code 0} (to initialise its realm); its file system and
 * output streams point nowhere until {@link Blank#bind} gives it its environment's, once. Each blank context serves
 * exactly one environment and is closed with it, so no function ever sees another's globals, files or output. Its
 * configuration is the same sandbox as a context created on demand ({@link #newContext}).
 *
 * <p><b>How many, and when.</b> One daemon thread keeps {@link Demand#target} contexts ready: the largest number of
 * cold starts seen within one second over about the last ten minutes (pre-initialised environments count: they are
 * cold starts), at least {@value #MIN_READY} (or the maximum, if smaller) and at most the configured maximum (system
 * property {@value #MAX_PROPERTY}, default {@value #DEFAULT_MAX}, 0 turns the pool off). It makes them
 * only after {@value Demand#QUIET_MILLIS} ms without a cold start: making a context takes the engine's locks, and a
 * cold start's virtual thread that blocks on one goes to the back of the scheduler's queue. So back-to-back cold
 * starts create their contexts as before, and the pool serves the burst that follows a quiet spell. A blank context
 * holds about 45 KB of heap, so the default maximum is about 11 MB.
 */
final class BlankContexts implements AutoCloseable {

  /** The system property that sets the most blank contexts kept ready; 0 creates every context on demand. */
  static final String MAX_PROPERTY = "embla.nodejs.blankContexts";

  static final int DEFAULT_MAX = 256;
  static final int MIN_READY = 8;

  private static final Logger LOG = LoggerFactory.getLogger(BlankContexts.class);
  private static final Source REALM = Source.newBuilder("js", "0", "embla-blank.js").cached(true).buildLiteral();
  private static final long IDLE_RECHECK_NANOS = Duration.ofSeconds(1).toNanos();
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final Engine engine;
  private final int max;
  private final Demand demand;
  private final ConcurrentLinkedDeque<Blank> ready = new ConcurrentLinkedDeque<>();
  private final AtomicInteger readyCount = new AtomicInteger();
  private final AtomicInteger taken = new AtomicInteger();
  private final AtomicInteger drained = new AtomicInteger();
  private final Thread maker;
  private volatile boolean idle;
  private volatile boolean closed;

  /**
   * Starts keeping blank contexts of {@code engine} ready; with {@code max} 0 nothing is started and {@link #take}
   * always returns null.
   */
  BlankContexts(Engine engine, int max, LongSupplier nanoClock) {
    if (max < 0) {
      throw new IllegalArgumentException("the most blank contexts must be >= 0, was " + max);
    }
    this.engine = engine;
    this.max = max;
    this.demand = new Demand(nanoClock, Math.min(MIN_READY, max), max);
    if (max == 0) {
      maker = null;
    } else {
      maker = Thread.ofPlatform().daemon().name("embla-nodejs-blank-contexts").unstarted(this::makeLoop);
      maker.start();
    }
  }

  /** Reads {@value #MAX_PROPERTY}; a value that is not a non-negative integer is refused, naming the property. */
  static int configuredMax() {
    String v = System.getProperty(MAX_PROPERTY);
    if (v == null || v.isBlank()) {
      return DEFAULT_MAX;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(MAX_PROPERTY + " must be a non-negative integer, was '" + v + "'");
  }

  /**
   * Returns a ready blank context for a cold start, or null when none is ready (the caller then creates one with
   * {@link #newContext}). Either way the cold start counts towards how many are kept ready.
   */
  Blank take() {
    if (maker == null || closed) {
      return null;
    }
    demand.coldStart();
    Blank b = ready.pollFirst();
    if (b != null) {
      readyCount.decrementAndGet();
      taken.incrementAndGet();
    }
    if (idle) {
      LockSupport.unpark(maker);
    }
    return b;
  }

  /** How many blank contexts are ready now. */
  int ready() {
    return readyCount.get();
  }

  /** How many cold starts have been served a blank context so far. */
  int taken() {
    return taken.get();
  }

  /** How many ready contexts were closed unused, by {@link #close}. */
  int drained() {
    return drained.get();
  }

  /** How many the pool aims to keep ready now. */
  int target() {
    return demand.target();
  }

  /**
   * Stops making contexts and closes the ready ones; returns once the maker thread has ended (it finishes the context
   * it may be making, a few milliseconds) so that no context it made is still open.
   */
  @Override
  public void close() {
    closed = true;
    if (maker != null) {
      LockSupport.unpark(maker);
      try {
        maker.join(CLOSE_WAIT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the engine's close closes what is left
      }
    }
    drain();
  }

  /** Creates a context with the sandbox every JavaScript environment gets ({@link GuestContexts#sandboxed}). */
  static Context newContext(Engine engine, FileSystem files, OutputStream out, OutputStream err) {
    return GuestContexts.sandboxed("js", engine, files, out, err)
        .option("js.esm-eval-returns-exports", "true")
        .build();
  }

  private void makeLoop() {
    while (!closed) {
      if (readyCount.get() >= demand.target()) {
        idle = true; // take() wakes only an idle maker: one in its quiet wait re-checks by itself
        if (readyCount.get() >= demand.target() && !closed) {
          LockSupport.parkNanos(this, IDLE_RECHECK_NANOS);
        }
        idle = false;
        continue;
      }
      long busy = demand.quietIn();
      if (busy > 0) {
        // Cold starts are under way: making a context now would contend with them for the engine's locks (and a
        // virtual thread that blocks on one goes to the back of the scheduler's queue), so wait until they stop.
        LockSupport.parkNanos(this, busy);
        continue;
      }
      Blank b;
      Context c = null;
      try {
        LateFileSystem files = new LateFileSystem();
        LateOutput out = new LateOutput();
        LateOutput err = new LateOutput();
        c = newContext(engine, files, out, err);
        c.eval(REALM);
        b = new Blank(c, files, out, err);
      } catch (RuntimeException e) {
        if (c != null) {
          GuestContexts.closeQuietly(c);
        }
        if (closed) {
          break; // the engine closed under us
        }
        // Not expected; cold starts still work without the pool, so say so once in a while and back off.
        LOG.warn("nodejs runtime: could not create a blank context ahead of need; retrying in 1 s", e);
        LockSupport.parkNanos(this, IDLE_RECHECK_NANOS);
        continue;
      }
      ready.addLast(b);
      readyCount.incrementAndGet();
      if (closed) {
        break;
      }
    }
    drain();
  }

  private void drain() {
    for (Blank b; (b = ready.pollFirst()) != null; ) {
      readyCount.decrementAndGet();
      GuestContexts.closeQuietly(b.context);
      drained.incrementAndGet();
    }
  }

  /** A context that no function has used yet, and the handles that give it one environment's files and output. */
  static final class Blank {
    private final Context context;
    private final LateFileSystem files;
    private final LateOutput out;
    private final LateOutput err;

    private Blank(Context context, LateFileSystem files, LateOutput out, LateOutput err) {
      this.context = context;
      this.files = files;
      this.out = out;
      this.err = err;
    }

    /** Gives the context its environment's file system and output streams, once, and returns it. */
    Context bind(FileSystem environmentFiles, OutputStream environmentOut, OutputStream environmentErr) {
      files.bind(Objects.requireNonNull(environmentFiles, "environmentFiles"));
      out.target = Objects.requireNonNull(environmentOut, "environmentOut");
      err.target = Objects.requireNonNull(environmentErr, "environmentErr");
      return context;
    }

    // For tests: the context as it is before bind.
    Context unboundContext() {
      return context;
    }
  }

  /**
   * Cold starts per second, remembered per minute for about ten minutes. The count is over a sliding second (the cold
   * starts of the last second, however a burst falls on the clock), kept as a ring of the last {@code max} cold
   * starts' times, since the pool never aims higher than that.
   */
  static final class Demand {
    private static final long SECOND = 1_000_000_000L;
    private static final long MINUTE = 60 * SECOND;
    private static final int MINUTES = 10;
    static final long QUIET_MILLIS = 50;

    private final LongSupplier clock;
    private final int min;
    private final int max;
    private final long[] times; // the last cold starts' times, oldest at head
    private int head;
    private int size;
    private final int[] peaks = new int[MINUTES]; // the largest one-second count seen in each of the last minutes
    private final long[] minuteOf = new long[MINUTES];
    private final boolean[] used = new boolean[MINUTES];
    private long lastColdStart;

    Demand(LongSupplier clock, int min, int max) {
      this.clock = clock;
      this.min = min;
      this.max = max;
      this.times = new long[Math.max(1, max)];
      lastColdStart = clock.getAsLong() - SECOND;
    }

    synchronized void coldStart() {
      long now = clock.getAsLong();
      lastColdStart = now;
      while (size > 0 && now - times[head] >= SECOND) {
        head = (head + 1) % times.length;
        size--;
      }
      if (size == times.length) { // full: the oldest makes way, the count stays at the cap
        head = (head + 1) % times.length;
        size--;
      }
      times[(head + size) % times.length] = now;
      size++;
      long minute = Math.floorDiv(now, MINUTE);
      int slot = (int) Math.floorMod(minute, MINUTES);
      if (!used[slot] || minuteOf[slot] != minute) {
        used[slot] = true;
        minuteOf[slot] = minute;
        peaks[slot] = 0;
      }
      peaks[slot] = Math.max(peaks[slot], size);
    }

    /** Nanoseconds until {@value #QUIET_MILLIS} ms will have passed without a cold start; 0 or less once they have. */
    synchronized long quietIn() {
      return lastColdStart + QUIET_MILLIS * 1_000_000L - clock.getAsLong();
    }

    /**
     * The number to keep ready: the largest peak of this minute and the nine before it, within [min, max] (so a peak
     * counts for between nine and ten minutes).
     */
    synchronized int target() {
      long minute = Math.floorDiv(clock.getAsLong(), MINUTE);
      int peak = 0;
      for (int i = 0; i < MINUTES; i++) {
        if (used[i] && minute - minuteOf[i] < MINUTES) {
          peak = Math.max(peak, peaks[i]);
        }
      }
      return Math.max(min, Math.min(max, peak));
    }
  }

  /**
   * Output that goes nowhere until its environment's stream is bound. The runtime layer writes the function's output
   * through a host function, not these streams; they carry what GraalJS itself might print for the context.
   */
  private static final class LateOutput extends OutputStream {
    volatile OutputStream target;

    @Override
    public void write(int b) throws IOException {
      OutputStream t = target;
      if (t != null) {
        t.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      OutputStream t = target;
      if (t != null) {
        t.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      OutputStream t = target;
      if (t != null) {
        t.flush();
      }
    }
  }

  /**
   * A file system with no files until its environment's {@link SandboxFileSystem} is bound; from then on every call
   * goes to it. Path parsing needs no files and answers as the sandbox does, since the context asks for it while it is
   * being created.
   */
  private static final class LateFileSystem implements FileSystem {
    private volatile FileSystem target;

    void bind(FileSystem files) {
      if (target != null) {
        throw new IllegalStateException("a blank context serves one environment");
      }
      target = files;
    }

    private FileSystem files(Path path) throws IOException {
      FileSystem t = target;
      if (t == null) {
        throw new NoSuchFileException(String.valueOf(path));
      }
      return t;
    }

    @Override
    public Path parsePath(URI uri) {
      FileSystem t = target;
      return t != null ? t.parsePath(uri) : SandboxFileSystem.parseGuestUri(uri);
    }

    @Override
    public Path parsePath(String path) {
      FileSystem t = target;
      return t != null ? t.parsePath(path) : Path.of(path);
    }

    @Override
    public void setCurrentWorkingDirectory(Path currentWorkingDirectory) {
      FileSystem t = target;
      if (t != null) {
        t.setCurrentWorkingDirectory(currentWorkingDirectory);
      } else {
        SandboxFileSystem.checkWorkingDirectory(currentWorkingDirectory);
      }
    }

    @Override
    public Path toAbsolutePath(Path path) {
      FileSystem t = target;
      return t != null ? t.toAbsolutePath(path) : SandboxFileSystem.absoluteGuestPath(path);
    }

    @Override
    public void checkAccess(Path path, Set<? extends AccessMode> modes, LinkOption... linkOptions) throws IOException {
      files(path).checkAccess(path, modes, linkOptions);
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
      files(dir).createDirectory(dir, attrs);
    }

    @Override
    public void delete(Path path) throws IOException {
      files(path).delete(path);
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return files(path).newByteChannel(path, options, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
        throws IOException {
      return files(dir).newDirectoryStream(dir, filter);
    }

    @Override
    public Path toRealPath(Path path, LinkOption... linkOptions) throws IOException {
      return files(path).toRealPath(path, linkOptions);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
        throws IOException {
      return files(path).readAttributes(path, attributes, options);
    }
  }
}
