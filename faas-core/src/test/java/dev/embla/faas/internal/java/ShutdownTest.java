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
