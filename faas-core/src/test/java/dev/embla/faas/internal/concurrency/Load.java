package dev.embla.faas.internal.concurrency;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.TooManyRequestsException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Starts invocations on their own threads, all released by one latch, and collects what each got. */
final class Load implements AutoCloseable {

  private final ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory());
  private final List<Future<Object>> outcomes = new ArrayList<>();
  private final CountDownLatch go = new CountDownLatch(1);

  /** Adds {@code n} invocations of {@code ref}, waiting for {@link #go()}. */
  Load add(FaasEngine engine, String ref, int n) {
    for (int i = 0; i < n; i++) {
      outcomes.add(threads.submit(() -> {
        go.await();
        try {
          return engine.invoke(ref, "1");
        } catch (TooManyRequestsException e) {
          return e;
        }
      }));
    }
    return this;
  }

  /** Releases every invocation at once. */
  Load go() {
    go.countDown();
    return this;
  }

  /** Waits for every outcome: results and throttles, in submission order. */
  List<Object> outcomes() throws Exception {
    List<Object> all = new ArrayList<>();
    for (Future<Object> f : outcomes) {
      all.add(f.get(20, TimeUnit.SECONDS));
    }
    return all;
  }

  /** Returns the throttles among the outcomes. */
  List<TooManyRequestsException> throttles() throws Exception {
    return outcomes().stream().filter(o -> o instanceof TooManyRequestsException)
        .map(o -> (TooManyRequestsException) o).toList();
  }

  /** Returns the results among the outcomes. */
  List<InvocationResult> results() throws Exception {
    return outcomes().stream().filter(o -> o instanceof InvocationResult).map(o -> (InvocationResult) o).toList();
  }

  /** Returns how many invocations have finished, throttled or not. */
  long finished() {
    return outcomes.stream().filter(Future::isDone).count();
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
