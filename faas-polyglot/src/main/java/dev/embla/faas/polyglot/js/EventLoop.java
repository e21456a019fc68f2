package dev.embla.faas.polyglot.js;

import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import org.graalvm.polyglot.Value;

/**
 * One environment's timers ({@code setTimeout}, {@code setInterval}, {@code setImmediate}), run by
 * {@link JsEnvironment} on the invoking thread. Timers fire in due order, ties in the order they were set, as in
 * Node. Promise jobs need no queue here: GraalJS runs them each time a call from the host returns.
 *
 * <p>Used by one thread at a time (the environment's), so not synchronised.
 */
final class EventLoop {

  /** One pending timer. */
  static final class Timer implements Comparable<Timer> {
    final int id;
    final Value callback;
    final long intervalNanos;
    long due;
    long sequence;

    Timer(int id, Value callback, long intervalNanos) {
      this.id = id;
      this.callback = callback;
      this.intervalNanos = intervalNanos;
    }

    @Override
    public int compareTo(Timer o) {
      int c = Long.compare(due - o.due, 0); // nanoTime order: compare differences, not values
      return c != 0 ? c : Long.compare(sequence, o.sequence);
    }
  }

  private final PriorityQueue<Timer> queue = new PriorityQueue<>();
  private final Map<Integer, Timer> live = new HashMap<>();
  private int nextId = 1;
  private long nextSequence;

  /** Adds a timer due in {@code delayMillis}; returns its id. */
  int add(Value callback, long delayMillis, boolean repeat) {
    long delayNanos = delayMillis * 1_000_000L;
    Timer t = new Timer(nextId++, callback, repeat ? Math.max(delayNanos, 1_000_000L) : -1);
    t.due = System.nanoTime() + delayNanos;
    t.sequence = nextSequence++;
    queue.add(t);
    live.put(t.id, t);
    return t.id;
  }

  /** Cancels a timer; unknown ids are ignored, as {@code clearTimeout} ignores them. */
  void clear(int id) {
    Timer t = live.remove(id);
    if (t != null) {
      queue.remove(t);
    }
  }

  /** Returns the timer due first, or null if none is pending. */
  Timer peek() {
    return queue.peek();
  }

  /**
   * Removes the first timer for firing; an interval is put back for its next run before it fires, so that a
   * {@code clearInterval} from inside its own callback takes effect.
   */
  Timer take() {
    Timer t = queue.poll();
    if (t == null) {
      return null;
    }
    if (t.intervalNanos > 0) {
      t.due = System.nanoTime() + t.intervalNanos;
      t.sequence = nextSequence++;
      queue.add(t);
    } else {
      live.remove(t.id);
    }
    return t;
  }

  /** Forgets every timer (at shutdown). */
  void clearAll() {
    queue.clear();
    live.clear();
  }
}
