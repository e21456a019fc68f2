package dev.embla.faas.benchmarks;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.benchmarks.functions.NoopHandler;
import dev.embla.faas.internal.async.AsyncInvocations;
import dev.embla.faas.internal.engine.LocalEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Asynchronous invocation throughput: a no-op Java function fed through the durable queue (RocksDB, write-ahead log
 * on, no fsync), counting events accepted per second (calls of {@code invokeAsync} returning) and delivered per second
 * (accepted, invoked and deleted from the store, end to end). The goal is 50,000 events/s delivered on two
 * cores. Every event is checked off: the run fails if the queue finishes with fewer successes than events accepted.
 *
 * <pre>
 *   java -cp faas-benchmarks/target/benchmarks.jar dev.embla.faas.benchmarks.Drivers async [events] [producers]
 * </pre>
 */
final class AsyncThroughput {

  static final double GOAL_PER_SECOND = 50_000;
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private AsyncThroughput() {}

  static boolean run(int events, int producers) throws Exception {
    Path dir = Files.createTempDirectory("embla-async-bench-");
    try (FaasEngine engine = FaasEngine.builder().workDirectory(dir.resolve("work"))
        .asyncStoreDirectory(dir.resolve("queue")).maxQueuedAsyncEvents(Math.max(events, 1_000_000)).build()) {
      LocalEngine local = (LocalEngine) engine;
      engine.createFunction(
          FunctionConfig.builder("noop").runtime("java21").handler(NoopHandler.class.getName()).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOf(NoopHandler.class)));
      AsyncInvocations queue = local.asyncQueue();
      byte[] payload = "\"event\"".getBytes(StandardCharsets.UTF_8);

      trial(engine, queue, payload, Math.min(events, 100_000), producers); // warm-up: JIT, store, environments
      double[] r = trial(engine, queue, payload, events, producers);
      boolean ok = r[1] >= GOAL_PER_SECOND;
      System.out.printf(Locale.ROOT,
          "async: %,d events, %d producer thread(s), 2 dispatchers: accepted %,.0f events/s; delivered %,.0f "
              + "events/s end to end; 0 lost; process CPU %.1f us per event (goal >= %,.0f delivered/s: %s)%n",
          events, producers, r[0], r[1], r[2], GOAL_PER_SECOND, ok ? "met" : "MISSED");
      return ok;
    } finally {
      MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
    }
  }

  /**
   * Returns {accepted per second, delivered per second, process CPU microseconds per event}. The CPU figure is the
   * one to compare on a busy machine: on two cores, 50,000 events/s leaves 40 us of CPU per event.
   */
  private static double[] trial(FaasEngine engine, AsyncInvocations queue, byte[] payload, int events,
      int producers) throws InterruptedException {
    long succeededBefore = queue.succeededCount();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int share = events / producers + (p < events % producers ? 1 : 0);
      threads.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < share; i++) {
          engine.invokeAsync("noop", payload);
        }
      }));
    }
    long cpu0 = OS.getProcessCpuTime();
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    long accepted = System.nanoTime();
    long deadline = accepted + TimeUnit.MINUTES.toNanos(5);
    while (queue.pendingCount() > 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(queue.pendingCount() + " events not delivered after 5 minutes");
      }
      LockSupport.parkNanos(50_000);
    }
    long delivered = System.nanoTime();
    long cpu = OS.getProcessCpuTime() - cpu0;
    long succeeded = queue.succeededCount() - succeededBefore;
    if (succeeded != events) {
      throw new IllegalStateException("accepted " + events + " events, " + succeeded + " succeeded");
    }
    return new double[] {events / ((accepted - t0) / 1e9), events / ((delivered - t0) / 1e9), cpu / 1e3 / events};
  }
}
