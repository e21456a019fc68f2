package dev.embla.faas.polyglot;

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
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.io.FileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest contexts created ahead of need, before the function that will use one is known, so that a cold start does not
 * create its context on the caller's thread (OpenWhisk's "stem cell" containers, inside one JVM). One pool per
 * runtime: {@code nodejs} and {@code python3} each keep one for their shared engine.
 *
 * <p><b>Why.</b> Creating a context and initialising its language is most of a guest cold start's cost: nearly all of
 * a JavaScript one (and GraalJS creates the contexts of one engine one at a time, under a monitor, so in a burst every
 * caller queues there), and about two thirds of a Python one (docs/BENCHMARKS.md, stops 10 and 11). What is left for
 * the cold start is the function's own Init: loading its code and running its top level.
 *
 * <p><b>Isolation.</b> A blank context has run nothing but its runtime's first source (JavaScript: {@code 0}, to
 * initialise the realm; Python: the runtime layer's definition, which runs no function code); its file system and
 * output streams point nowhere until {@link Blank#bind} gives it its environment's, once. Each blank context serves
 * exactly one environment and is closed with it, so no function ever sees another's globals, files or output. The
 * runtime's factory builds it with the same sandbox as a context created on demand.
 *
 * <p><b>How many, and when.</b> One daemon thread keeps {@link Demand#target} contexts ready: the largest number of
 * cold starts seen within one second over about the last ten minutes (pre-initialised environments count: they are
 * cold starts), at least the runtime's minimum (or the maximum, if smaller) and at most the configured maximum (a
 * system property per runtime; 0 turns the pool off). It makes them only after the runtime's quiet time without a
 * cold start. JavaScript waits 50 ms: making a context takes the engine's locks, and a cold start's virtual thread
 * that blocks on one goes to the back of the scheduler's queue, so back-to-back cold starts create their contexts as
 * before and the pool serves the burst that follows a quiet spell. Python does not wait: its cold starts take tens of
 * milliseconds of their own thread's time, and the maker works on a core they leave idle.
 *
 * @param <A> what each context comes with from the runtime's factory: Python's, the guest thread it was made on and
 *     must run on; JavaScript's, nothing
 */
public final class BlankContexts<A> implements AutoCloseable {

  /**
   * Makes one blank context of the runtime's sandbox on the given (late-bound) file system and output streams, and
   * evaluates the runtime's first source in it, on the thread that will run it. If it throws, it has released what
   * it made.
   *
   * @param <A> what else a blank context comes with (Python: the thread it was made on and must run on)
   */
  @FunctionalInterface
  public interface Factory<A> {
    /** Returns the new context, the value of the first source, and the attachment. */
    Made<A> make(FileSystem files, OutputStream out, OutputStream err);
  }

  /**
   * A context a {@link Factory} made: the value of the runtime's first source, evaluated in it, and what else it comes
   * with (may be null).
   */
  public record Made<A>(Context context, Value first, A attachment) {

    /**
     * Evaluates {@code first} in the new context {@code c}, on the calling thread, and returns the result; if that
     * fails, closes {@code c} and rethrows, so a factory has released what it made.
     */
    public static <A> Made<A> evaluate(Context c, Source first, A attachment) {
      try {
        return new Made<>(c, c.eval(first), attachment);
      } catch (RuntimeException e) {
        GuestContexts.closeQuietly(c);
        throw e;
      }
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(BlankContexts.class);
  private static final long IDLE_RECHECK_NANOS = Duration.ofSeconds(1).toNanos();
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final String runtime;
  private final Factory<A> factory;
  private final Consumer<A> release;
  private final int max;
  private final Demand demand;
  private final ConcurrentLinkedDeque<Blank<A>> ready = new ConcurrentLinkedDeque<>();
  private final AtomicInteger readyCount = new AtomicInteger();
  private final AtomicInteger taken = new AtomicInteger();
  private final AtomicInteger drained = new AtomicInteger();
  private final Thread maker;
  private volatile boolean idle;
  private volatile boolean closed;

  /**
   * Starts keeping blank contexts ready; with {@code max} 0 nothing is started and {@link #take} always returns null.
   *
   * @param runtime the runtime's name, for the maker thread's name and the log
   * @param factory makes each context
   * @param release called with the attachment of a context closed unused, after it is closed
   * @param min how many to keep ready at least (capped at {@code max})
   * @param max how many to keep ready at most
   * @param quiet how long no cold start must have begun before the maker makes one
   */
  public BlankContexts(String runtime, Factory<A> factory, Consumer<A> release, int min, int max, Duration quiet,
      LongSupplier nanoClock) {
    if (max < 0 || min < 0) {
      throw new IllegalArgumentException("the least and most blank contexts must be >= 0, were " + min + ", " + max);
    }
    this.runtime = Objects.requireNonNull(runtime, "runtime");
    this.factory = Objects.requireNonNull(factory, "factory");
    this.release = Objects.requireNonNull(release, "release");
    this.max = max;
    this.demand = new Demand(nanoClock, Math.min(min, max), max, quiet.toNanos());
    if (max == 0) {
      maker = null;
    } else {
      maker = Thread.ofPlatform().daemon().name("embla-" + runtime + "-blank-contexts").unstarted(this::makeLoop);
      maker.start();
    }
  }

  /**
   * Reads the most blank contexts to keep from the system property {@code property}, or {@code defaultMax} if it is
   * unset; a value that is not a non-negative integer is refused, naming the property.
   */
  public static int configuredMax(String property, int defaultMax) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      return defaultMax;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(property + " must be a non-negative integer, was '" + v + "'");
  }

  /**
   * Returns a ready blank context for a cold start, or null when none is ready (the caller then creates a context
   * itself). Either way the cold start counts towards how many are kept ready.
   */
  public Blank<A> take() {
    if (maker == null || closed) {
      return null;
    }
    demand.coldStart();
    Blank<A> b = ready.pollFirst();
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
  public int ready() {
    return readyCount.get();
  }

  /** How many cold starts have been served a blank context so far. */
  public int taken() {
    return taken.get();
  }

  /** How many ready contexts were closed unused, by {@link #close}. */
  public int drained() {
    return drained.get();
  }

  /** How many the pool aims to keep ready now. */
  public int target() {
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
        // Cold starts are under way and the runtime asked for quiet: making a context now would contend with them for
        // the engine's locks (a virtual thread that blocks on one goes to the back of the scheduler's queue).
        LockSupport.parkNanos(this, busy);
        continue;
      }
      Blank<A> b;
      try {
        LateFileSystem files = new LateFileSystem();
        LateOutput out = new LateOutput();
        LateOutput err = new LateOutput();
        b = new Blank<>(factory.make(files, out, err), files, out, err);
      } catch (RuntimeException e) {
        if (closed) {
          break; // the engine closed under us
        }
        // Not expected; cold starts still work without the pool, so say so once in a while and back off.
        LOG.warn("{} runtime: could not create a blank context ahead of need; retrying in 1 s", runtime, e);
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
    for (Blank<A> b; (b = ready.pollFirst()) != null; ) {
      readyCount.decrementAndGet();
      GuestContexts.closeQuietly(b.made.context());
      release.accept(b.made.attachment());
      drained.incrementAndGet();
    }
  }

  /** A context that no function has used yet, and the handles that give it one environment's files and output. */
  public static final class Blank<A> {
    private final Made<A> made;
    private final LateFileSystem files;
    private final LateOutput out;
    private final LateOutput err;

    private Blank(Made<A> made, LateFileSystem files, LateOutput out, LateOutput err) {
      this.made = made;
      this.files = files;
      this.out = out;
      this.err = err;
    }

    /** Gives the context its environment's file system and output streams, once, and returns it. */
    public Context bind(FileSystem environmentFiles, OutputStream environmentOut, OutputStream environmentErr) {
      files.bind(Objects.requireNonNull(environmentFiles, "environmentFiles"));
      out.target = Objects.requireNonNull(environmentOut, "environmentOut");
      err.target = Objects.requireNonNull(environmentErr, "environmentErr");
      return made.context();
    }

    /** The value of the runtime's first source, evaluated when the context was made. */
    public Value first() {
      return made.first();
    }

    /** What the context came with, from the runtime's factory. */
    public A attachment() {
      return made.attachment();
    }

    /** The context, bound or not: for closing one that was taken and never bound. */
    public Context context() {
      return made.context();
    }

    // For tests: the context as it is before bind.
    Context unboundContext() {
      return made.context();
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
    private final LongSupplier clock;
    private final int min;
    private final int max;
    private final long[] times; // the last cold starts' times, oldest at head
    private int head;
    private int size;
    private final int[] peaks = new int[MINUTES]; // the largest one-second count seen in each of the last minutes
    private final long[] minuteOf = new long[MINUTES];
    private final boolean[] used = new boolean[MINUTES];
    private final long quietNanos;
    private long lastColdStart;

    Demand(LongSupplier clock, int min, int max, long quietNanos) {
      this.clock = clock;
      this.min = min;
      this.max = max;
      this.quietNanos = quietNanos;
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

    /** Nanoseconds until the quiet time will have passed without a cold start; 0 or less once it has. */
    synchronized long quietIn() {
      return lastColdStart + quietNanos - clock.getAsLong();
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
   * Output that goes nowhere until its environment's stream is bound, then to it: Python's {@code print} and
   * {@code sys.stdout}; for JavaScript, whose runtime layer writes the function's output through a host function, only
   * what GraalJS itself might print for the context.
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
