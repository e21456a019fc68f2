package dev.embla.examples.host;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.EventSources;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.spi.source.InvocationOutcome;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The example host application ({@code ./embla demo}): embeds an engine on its embedded defaults, registers the two
 * handlers of {@code hello-function.zip}, invokes one cold and then warm, connects a schedule and a queue, shows what
 * happened, and closes the engine. It finishes by itself in a few seconds.
 *
 * @since 0.1
 */
public final class HostApp {

  /** The code package the demo runs, expected in the functions directory. */
  public static final String FUNCTION_ZIP = "hello-function.zip";

  /** How long a failed order message stays invisible before the queue delivers it again. */
  static final Duration VISIBILITY_TIMEOUT = Duration.ofSeconds(2);

  /** How long the demo waits for the queue's deliveries and redelivery before it reports what it saw. */
  static final Duration QUEUE_WAIT = Duration.ofSeconds(12);

  private HostApp() {}

  /**
   * What the demo observed, for its caller and its tests.
   *
   * @param greetings the payloads of the two direct invocations, in order
   * @param firstColdStart whether the first invocation created its environment
   * @param secondColdStart whether the second invocation created its environment
   * @param initDuration the first invocation's Init duration, or null if it reported none
   * @param scheduledInvocations the outcomes of the scheduled invocations, in order
   * @param ordersSucceeded how many queue invocations succeeded
   * @param ordersFailed how many queue invocations failed (the poison message, once per delivery)
   * @param messagesLeft the messages still in the queue when the demo ended (the poison one, never deleted)
   */
  public record Summary(List<String> greetings, boolean firstColdStart, boolean secondColdStart,
      Duration initDuration, List<InvocationOutcome> scheduledInvocations, long ordersSucceeded, long ordersFailed,
      int messagesLeft) {

    /** Copies the lists. */
    public Summary {
      greetings = List.copyOf(greetings);
      scheduledInvocations = List.copyOf(scheduledInvocations);
    }
  }

  /**
   * Runs the demo on the functions in {@code args[0]} (default {@code examples/host-app/target/functions}) and exits
   * 0, or 2 if the function package is missing.
   */
  public static void main(String[] args) {
    int exitCode = launch(args, System.out, System.err);
    // Exit explicitly: the engine is closed, but a function or a library may have left a non-daemon thread behind.
    System.exit(exitCode);
  }

  /** Does what {@link #main} does, short of exiting; returns the exit code. */
  static int launch(String[] args, PrintStream out, PrintStream err) {
    Path functions = Path.of(args.length > 0 ? args[0] : "examples/host-app/target/functions");
    if (!Files.isRegularFile(functions.resolve(FUNCTION_ZIP))) {
      err.println("host-app: " + functions.resolve(FUNCTION_ZIP) + " not found; build it with "
          + "'./mvnw package -pl examples/host-app -am' or run './embla demo'");
      return 2;
    }
    run(functions, out);
    return 0;
  }

  /**
   * Runs the demo.
   *
   * @param functionsDir the directory holding {@value #FUNCTION_ZIP}
   * @param out where the demo narrates what happens
   * @return what the demo observed
   */
  public static Summary run(Path functionsDir, PrintStream out) {
    FunctionCode code = FunctionCode.fromZip(functionsDir.resolve(FUNCTION_ZIP));
    // Embedded defaults, except a short grace period: nothing is in flight when the demo closes the engine.
    try (FaasEngine engine = FaasEngine.builder().shutdownGracePeriod(Duration.ofSeconds(5)).build()) {
      // One package, two functions: a function is code plus configuration, and the handler is configuration.
      engine.createFunction(FunctionConfig.builder("hello").runtime("java21")
          .handler("dev.embla.examples.hello.HelloHandler").build(), code);
      engine.createFunction(FunctionConfig.builder("orders").runtime("java21")
          .handler("dev.embla.examples.hello.OrderHandler").timeout(Duration.ofSeconds(10)).build(), code);
      out.println("== registered " + engine.listFunctions().size() + " functions from " + FUNCTION_ZIP);

      out.println("== invoking 'hello' twice: the first creates an environment, the second reuses it");
      InvocationResult cold = engine.invoke("hello", "{\"name\":\"Ada\"}");
      describe(out, "first ", cold);
      InvocationResult warm = engine.invoke("hello", "{\"name\":\"Grace\"}");
      describe(out, "second", warm);

      List<InvocationOutcome> ticks = runSchedule(engine, out);
      QueueRun queue = runQueue(engine, out);

      Summary summary = new Summary(List.of(cold.payloadAsString(), warm.payloadAsString()), cold.isColdStart(),
          warm.isColdStart(), cold.initDuration().orElse(null), ticks, queue.succeeded, queue.failed,
          queue.messagesLeft);
      out.println("== closing the engine: every environment shuts down");
      return summary;
    }
  }

  private static void describe(PrintStream out, String label, InvocationResult r) {
    out.printf(Locale.ROOT, "   %s: %s%n          %s, duration %.1f ms%s%n", label, r.payloadAsString(),
        r.isColdStart() ? "cold start" : "warm", r.duration().toNanos() / 1e6,
        r.initDuration().map(d -> String.format(Locale.ROOT, ", init %.1f ms", d.toNanos() / 1e6)).orElse(""));
  }

  private static List<InvocationOutcome> runSchedule(FaasEngine engine, PrintStream out) {
    out.println("== connecting 'hello' to schedule rate(1 minute), then moving time 3 minutes forward");
    ManualTimeSchedule schedule = new ManualTimeSchedule(
        EventSources.schedule("rate(1 minute)"), Instant.now().truncatedTo(ChronoUnit.MINUTES));
    try (EventSourceConnection ignored = engine.connect(schedule, "hello")) {
      // connect starts a push source at once; the wait only covers an engine that starts it on another thread
      await(() -> schedule.pendingTimers() > 0, Duration.ofSeconds(5));
      for (int minute = 1; minute <= 3; minute++) {
        schedule.advance(Duration.ofMinutes(1));
      }
    }
    List<InvocationOutcome> ticks = schedule.outcomes();
    for (InvocationOutcome tick : ticks) {
      out.println("   scheduled: " + new String(tick.payload(), StandardCharsets.UTF_8));
    }
    out.println("   " + ticks.size() + " scheduled invocations in 3 minutes of schedule time");
    return ticks;
  }

  /** What the queue part of the demo saw. */
  private record QueueRun(long succeeded, long failed, int messagesLeft) {}

  private static QueueRun runQueue(FaasEngine engine, PrintStream out) {
    out.println("== connecting 'orders' to queue 'orders' (visibility timeout " + VISIBILITY_TIMEOUT.toSeconds()
        + " s, one message per batch) and sending 4 orders, one poison");
    InMemoryQueue queue = EventSources.queue("orders", VISIBILITY_TIMEOUT, 100);
    List<String> bodies = new ArrayList<>(List.of(
        "{\"orderId\":\"o-1\",\"amount\":12.50}",
        "{\"orderId\":\"o-2\",\"amount\":7.25}",
        "{\"orderId\":\"o-3\",\"poison\":true}",
        "{\"orderId\":\"o-4\",\"amount\":30.00}"));
    // One message per batch, so the poison message fails alone and the good ones are not delivered again with it.
    try (EventSourceConnection orders = engine.connect(queue, "orders", new BatchOptions(1, Duration.ZERO))) {
      for (String body : bodies) {
        out.println("   sent " + queue.send(body) + ": " + body);
      }
      // Three good orders succeed once each; the poison one fails, comes back after the visibility timeout, fails
      // again. Waiting for that second failure is what shows redelivery.
      boolean seen = await(() -> orders.succeeded() >= 3 && orders.failed() >= 2, QUEUE_WAIT);
      long succeeded = orders.succeeded();
      long failed = orders.failed();
      int left = queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible();
      out.printf(Locale.ROOT, "   %d order invocations succeeded, %d failed (the poison order, delivered %d times)"
          + "; %d message(s) still in the queue%s%n", succeeded, failed, failed, left,
          seen ? "" : " [gave up waiting after " + QUEUE_WAIT.toSeconds() + " s]");
      return new QueueRun(succeeded, failed, left);
    }
  }

  /** Polls {@code condition} until it holds or {@code limit} passes; returns whether it held. */
  private static boolean await(BooleanSupplier condition, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }
}
