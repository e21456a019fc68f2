package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ShutdownTest {

  @TempDir Path tmp;

  @Test
  void shutdown_runsTheHandlersHookAndRuntimeHooks_withTheFunctionsContextLoader() {
    Fixtures.Env out = new Fixtures.Env(tmp);
    ExecutionEnvironment env = start(prepare(JavaFunctions.zipOf("demo.Tidy", source()), tmp, "demo.Tidy::handle"), out);
    invoke(env, "\"x\"");

    env.shutdown(Duration.ofSeconds(2));

    assertThat(out.lines).containsExactly(
        "STDOUT onShutdown tccl=true",
        "STDERR ShutdownHook.onShutdown failed: java.lang.IllegalStateException: cleanup failed",
        "STDOUT runtime hook");
  }

  @Test
  void shutdown_stopsHooksThatOutliveTheBound() {
    Fixtures.Env out = new Fixtures.Env(tmp);
    ExecutionEnvironment env = start(prepare(JavaFunctions.zipOf("demo.Forever", """
        package demo;
        import dev.embla.faas.spi.ShutdownHook;
        public class Forever implements ShutdownHook {
          public Forever() {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
              try { Thread.sleep(60_000); } catch (InterruptedException e) { while (true) { } }
            }));
          }
          public String handle(String s) { return s; }
          @Override public void onShutdown() {
            long x = 1;
            while (x != 0) { try { x = x * 3 + 1; } catch (Throwable t) { } }
          }
        }"""), tmp, "demo.Forever::handle"), out);

    long start = System.nanoTime();
    env.shutdown(Duration.ofMillis(200));
    long took = Duration.ofNanos(System.nanoTime() - start).toMillis();

    assertThat(took).isBetween(190L, 1_000L);
    assertThat(out.lines).containsExactly(
        "STDERR ShutdownHook.onShutdown did not finish within 200 ms and was cancelled");
    assertThat(Thread.interrupted()).isFalse();
  }

  @Test
  void shutdown_stopsThreadsTheFunctionStartedInInit() throws Exception {
    // The function publishes its counters and threads through a JDK-typed map the test can read.
    ExecutionEnvironment env = start(prepare(JavaFunctions.zipOf("demo.Spawner", """
        package demo;
        import java.util.concurrent.*;
        import java.util.concurrent.atomic.AtomicLong;
        public class Spawner {
          static final AtomicLong BUSY = new AtomicLong();
          static final AtomicLong TICKS = new AtomicLong();
          public Spawner() {
            Thread busy = new Thread(() -> { while (true) { BUSY.incrementAndGet(); } });
            busy.setDaemon(true);
            busy.start();
            BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
            Thread blocked = new Thread(() -> {
              while (true) {
                try { queue.take(); } catch (InterruptedException ignored) { }
              }
            });
            blocked.setDaemon(true);
            blocked.start();
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
              Thread t = new Thread(r);
              t.setDaemon(true);
              return t;
            });
            // A lambda, not TICKS::incrementAndGet: a method reference to a JDK method runs no function code to poll.
            timer.scheduleAtFixedRate(() -> TICKS.incrementAndGet(), 0, 1, TimeUnit.MILLISECONDS);
            System.getProperties().put("embla.test.busy", BUSY);
            System.getProperties().put("embla.test.ticks", TICKS);
            System.getProperties().put("embla.test.busyThread", busy);
            System.getProperties().put("embla.test.blockedThread", blocked);
            System.getProperties().put("embla.test.timer", timer);
          }
          public String handle(String s) { return s; }
        }"""), tmp, "demo.Spawner::handle"), new Fixtures.Env(tmp));
    try {
      invoke(env, "\"x\"");
      java.util.concurrent.atomic.AtomicLong busy =
          (java.util.concurrent.atomic.AtomicLong) System.getProperties().get("embla.test.busy");
      java.util.concurrent.atomic.AtomicLong ticks =
          (java.util.concurrent.atomic.AtomicLong) System.getProperties().get("embla.test.ticks");
      Thread busyThread = (Thread) System.getProperties().get("embla.test.busyThread");
      Thread blockedThread = (Thread) System.getProperties().get("embla.test.blockedThread");
      long before = busy.get();
      long waitUntil = System.nanoTime() + 5_000_000_000L; // two shared cores: the thread may wait for one
      while (busy.get() == before && System.nanoTime() < waitUntil) {
        Thread.sleep(5);
      }
      assertThat(busy.get()).isGreaterThan(before);

      env.shutdown(Duration.ofSeconds(2));

      busyThread.join(5_000);
      blockedThread.join(5_000);
      assertThat(busyThread.isAlive()).isFalse();
      assertThat(blockedThread.isAlive()).isFalse();
      long busyAfter = busy.get();
      Thread.sleep(50); // the timer's next ticks, had it survived
      long ticksAfter = ticks.get();
      Thread.sleep(100);
      assertThat(busy.get()).isEqualTo(busyAfter);
      assertThat(ticks.get()).isEqualTo(ticksAfter);
    } finally {
      // The timer's idle worker is parked inside the JDK and never polls: it would keep the loader, and so the
      // pending-cancel count other tests wait on, alive for the rest of this JVM.
      Object timer = System.getProperties().get("embla.test.timer");
      if (timer instanceof java.util.concurrent.ExecutorService executor) {
        executor.shutdownNow();
      }
      for (String key : new String[] {"busy", "ticks", "busyThread", "blockedThread", "timer"}) {
        System.getProperties().remove("embla.test." + key);
      }
    }
  }

  private static String source() {
    return """
        package demo;
        import dev.embla.faas.spi.ShutdownHook;
        public class Tidy implements ShutdownHook {
          public Tidy() {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("runtime hook")));
            Thread removed = new Thread(() -> System.out.println("removed hook"));
            Runtime.getRuntime().addShutdownHook(removed);
            Runtime.getRuntime().removeShutdownHook(removed);
          }
          public String handle(String s) { return s; }
          @Override public void onShutdown() {
            System.out.println("onShutdown tccl=" + (Thread.currentThread().getContextClassLoader() == Tidy.class.getClassLoader()));
            throw new IllegalStateException("cleanup failed");
          }
        }""";
  }
}
