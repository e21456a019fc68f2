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
import dev.embla.faas.spi.source.PushEventSource;
import dev.embla.faas.spi.source.SourceContext;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * The example host application ({@code ./embla demo}): embeds an engine on its embedded defaults, registers the two
 * handlers of {@code hello-function.zip}, invokes one cold and then warm, connects a schedule and a queue, then does
 * the same with a JavaScript function ({@value #JS_FUNCTION_DIR}, run by the {@code nodejs} runtime) and a second
 * queue, then connects a Python function ({@value #PY_FUNCTION_DIR}, run by the {@code python3} runtime, warmed up
 * when the engine is built) to a schedule and a third queue, shows what happened, and closes the engine. It finishes
 * by itself in a few seconds.
 *
 * <p>The engine's wall clock is a {@link DemoClock} that the demo moves by hand: minute by minute for the schedule,
 * and past the visibility timeout for the queue's redelivery, so neither has to be waited for in real time.
 *
 * @since 0.1
 */
public final class HostApp {

  /** The code package the demo runs, expected in the functions directory. */
  public static final String FUNCTION_ZIP = "hello-function.zip";

  /** The JavaScript function the demo runs, a directory holding {@code index.js}, expected in the functions directory. */
  public static final String JS_FUNCTION_DIR = "js-orders";

  /** The orders the demo sends to the JavaScript function's queue. */
  static final List<String> JS_ORDERS = List.of(
      "{\"orderId\":\"js-1\",\"amount\":4.10}",
      "{\"orderId\":\"js-2\",\"amount\":19.99}",
      "{\"orderId\":\"js-3\",\"amount\":0.91}");

  /** The Python function the demo runs, a directory holding {@code app.py}, expected in the functions directory. */
  public static final String PY_FUNCTION_DIR = "py-orders";

  /** The orders the demo sends to the Python function's queue. */
  static final List<String> PY_ORDERS = List.of(
      "{\"orderId\":\"py-1\",\"amount\":2.50}",
      "{\"orderId\":\"py-2\",\"amount\":10.05}");

  /** How many minutes of schedule time the demo shows for the Python function. */
  static final int PY_SCHEDULE_MINUTES = 2;

  /** How long a failed order message stays invisible before the queue delivers it again, on the engine's clock. */
  static final Duration VISIBILITY_TIMEOUT = Duration.ofSeconds(2);

  /** How many minutes of schedule time the demo shows; {@code rate(1 minute)} fires once per minute. */
  static final int SCHEDULE_MINUTES = 3;

  /**
   * The longest the demo waits, in real time, for the effect of one move of the clock (a scheduled tick) or for the
   * queue's deliveries, before it reports what it saw. Only a broken engine comes near it.
   */
  static final Duration WAIT_LIMIT = Duration.ofSeconds(10);

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
   * @param jsResults the payloads of the two direct invocations of the JavaScript function, in order
   * @param jsFirstColdStart whether the JavaScript function's first invocation created its environment
   * @param jsSecondColdStart whether its second invocation created its environment
   * @param jsOrdersSucceeded how many invocations of the JavaScript function from its queue succeeded
   * @param jsOrdersFailed how many of them failed
   * @param jsMessagesLeft the messages still in the JavaScript function's queue when the demo ended
   * @param pyResult the payload of the direct invocation of the Python function
   * @param pyColdStart whether that invocation created its environment
   * @param pyScheduledInvocations the outcomes of the Python function's scheduled invocations, in order
   * @param pyOrdersSucceeded how many invocations of the Python function from its queue succeeded
   * @param pyOrdersFailed how many of them failed
   * @param pyMessagesLeft the messages still in the Python function's queue when the demo ended
   */
  public record Summary(List<String> greetings, boolean firstColdStart, boolean secondColdStart,
      Duration initDuration, List<InvocationOutcome> scheduledInvocations, long ordersSucceeded, long ordersFailed,
      int messagesLeft, List<String> jsResults, boolean jsFirstColdStart, boolean jsSecondColdStart,
      long jsOrdersSucceeded, long jsOrdersFailed, int jsMessagesLeft, String pyResult, boolean pyColdStart,
      List<InvocationOutcome> pyScheduledInvocations, long pyOrdersSucceeded, long pyOrdersFailed,
      int pyMessagesLeft) {

    /** Copies the lists. */
    public Summary {
      greetings = List.copyOf(greetings);
      scheduledInvocations = List.copyOf(scheduledInvocations);
      jsResults = List.copyOf(jsResults);
      pyScheduledInvocations = List.copyOf(pyScheduledInvocations);
    }
  }

  /**
   * Runs the demo on the functions in {@code args[0]} (default {@code examples/host-app/target/functions}) and exits
   * 0, or 2 if a function's code is missing.
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
    if (!Files.isRegularFile(functions.resolve(JS_FUNCTION_DIR).resolve("index.js"))) {
      err.println("host-app: " + functions.resolve(JS_FUNCTION_DIR).resolve("index.js") + " not found; build it with "
          + "'./mvnw package -pl examples/host-app -am' or run './embla demo'");
      return 2;
    }
    if (!Files.isRegularFile(functions.resolve(PY_FUNCTION_DIR).resolve("app.py"))) {
      err.println("host-app: " + functions.resolve(PY_FUNCTION_DIR).resolve("app.py") + " not found; build it with "
          + "'./mvnw package -pl examples/host-app -am' or run './embla demo'");
      return 2;
    }
    run(functions, out);
    return 0;
  }

  /**
   * Runs the demo.
   *
   * @param functionsDir the directory holding {@value #FUNCTION_ZIP}, {@value #JS_FUNCTION_DIR} and
   *     {@value #PY_FUNCTION_DIR}
   * @param out where the demo narrates what happens
   * @return what the demo observed
   */
  public static Summary run(Path functionsDir, PrintStream out) {
    FunctionCode code = FunctionCode.fromZip(functionsDir.resolve(FUNCTION_ZIP));
    // Start on a whole minute so that the schedule's ticks read 10:01:00, 10:02:00, ... in the narration.
    DemoClock clock = new DemoClock(Instant.now().truncatedTo(ChronoUnit.MINUTES));
    // Embedded defaults, except the hand-moved clock, a short grace period (nothing is in flight at close), and
    // GraalPy started up front: its first context takes seconds, which no invocation should wait for.
    out.println("== starting the engine, with the python3 runtime warmed up");
    try (FaasEngine engine = FaasEngine.builder().clock(clock).shutdownGracePeriod(Duration.ofSeconds(5))
        .warmUpRuntime("python3").build()) {
      // One package, two functions: a function is code plus configuration, and the handler is configuration.
      engine.createFunction(FunctionConfig.builder("hello").runtime("java21")
          .handler("dev.embla.examples.hello.HelloHandler").build(), code);
      engine.createFunction(FunctionConfig.builder("orders").runtime("java21")
          .handler("dev.embla.examples.hello.OrderHandler").timeout(Duration.ofSeconds(10)).build(), code);
      out.println("== registered " + engine.listFunctions().size() + " functions from " + FUNCTION_ZIP
          + " in an engine whose wall clock is a demo clock, at " + clock.instant() + " until the demo moves it");

      out.println("== invoking 'hello' twice: the first creates an environment, the second reuses it");
      InvocationResult cold = engine.invoke("hello", "{\"name\":\"Ada\"}");
      describe(out, "first ", cold);
      InvocationResult warm = engine.invoke("hello", "{\"name\":\"Grace\"}");
      describe(out, "second", warm);

      List<InvocationOutcome> ticks = runSchedule(engine, clock, out);
      QueueRun queue = runQueue(engine, clock, out);

      // The same engine, pool and event sources run JavaScript: only the runtime and the handler differ.
      engine.createFunction(FunctionConfig.builder("js-orders").runtime("nodejs").handler("index.handler")
          .timeout(Duration.ofSeconds(10)).build(), FunctionCode.fromDirectory(functionsDir.resolve(JS_FUNCTION_DIR)));
      out.println("== registered 'js-orders' from " + JS_FUNCTION_DIR + "/index.js on the nodejs runtime (GraalJS);"
          + " invoking it twice: the first runs index.js's top level (Init), the second reuses the environment");
      String directEvent = "{\"Records\":[{\"messageId\":\"direct-1\",\"body\":" + jsonString(JS_ORDERS.getFirst())
          + "}]}";
      InvocationResult jsCold = engine.invoke("js-orders", directEvent);
      describe(out, "first ", jsCold);
      InvocationResult jsWarm = engine.invoke("js-orders", directEvent);
      describe(out, "second", jsWarm);
      QueueRun jsQueue = runJsQueue(engine, out);
      PyRun py = runPython(engine, clock, functionsDir, out);

      Summary summary = new Summary(List.of(cold.payloadAsString(), warm.payloadAsString()), cold.isColdStart(),
          warm.isColdStart(), cold.initDuration().orElse(null), ticks, queue.succeeded, queue.failed,
          queue.messagesLeft, List.of(jsCold.payloadAsString(), jsWarm.payloadAsString()), jsCold.isColdStart(),
          jsWarm.isColdStart(), jsQueue.succeeded, jsQueue.failed, jsQueue.messagesLeft, py.result.payloadAsString(),
          py.result.isColdStart(), py.scheduled, py.queue.succeeded, py.queue.failed, py.queue.messagesLeft);
      out.println("== closing the engine: every environment shuts down");
      return summary;
    }
  }

  private static void describe(PrintStream out, String label, InvocationResult r) {
    out.printf(Locale.ROOT, "   %s: %s%n          %s, duration %.1f ms%s%n", label, r.payloadAsString(),
        r.isColdStart() ? "cold start" : "warm", r.duration().toNanos() / 1e6,
        r.initDuration().map(d -> String.format(Locale.ROOT, ", init %.1f ms", d.toNanos() / 1e6)).orElse(""));
  }

  private static List<InvocationOutcome> runSchedule(FaasEngine engine, DemoClock clock, PrintStream out) {
    out.println("== connecting 'hello' to schedule rate(1 minute), then moving the clock " + SCHEDULE_MINUTES
        + " minutes forward, one at a time");
    RecordingSource schedule = new RecordingSource(EventSources.schedule("rate(1 minute)"));
    try (EventSourceConnection ignored = engine.connect(schedule, "hello")) {
      for (int minute = 1; minute <= SCHEDULE_MINUTES; minute++) {
        Instant now = clock.advance(Duration.ofMinutes(1));
        // Wait for this minute's tick before the next move. The engine's timer thread notices the move within 20 ms,
        // but a schedule that fires late skips the slots it missed (as EventBridge does), so moving three minutes at
        // once would give one tick, not three.
        int expected = minute;
        if (!await(() -> schedule.outcomes().size() >= expected, WAIT_LIMIT)) {
          out.println("   clock at " + now + ": no tick [gave up waiting after " + WAIT_LIMIT.toSeconds() + " s]");
          break;
        }
        InvocationOutcome tick = schedule.outcomes().get(minute - 1);
        out.println("   clock at " + now + ", scheduled: " + new String(tick.payload(), StandardCharsets.UTF_8));
      }
    }
    List<InvocationOutcome> ticks = schedule.outcomes();
    out.println("   " + ticks.size() + " scheduled invocations in " + SCHEDULE_MINUTES + " minutes of schedule time");
    return ticks;
  }

  /** What the queue part of the demo saw. */
  private record QueueRun(long succeeded, long failed, int messagesLeft) {}

  private static QueueRun runQueue(FaasEngine engine, DemoClock clock, PrintStream out) {
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
      // First deliveries: the three good orders succeed and are deleted; the poison one fails and stays in flight,
      // invisible until the clock passes its receive time plus the visibility timeout. The clock stands still, so it
      // would stay invisible for good if the demo did not move the clock.
      boolean firstPass = await(() -> orders.succeeded() >= 3 && orders.failed() >= 1, WAIT_LIMIT);
      out.printf(Locale.ROOT, "   first deliveries: %d succeeded, %d failed (the poison order, now invisible until"
          + " its visibility timeout expires)%s%n", orders.succeeded(), orders.failed(), gaveUp(firstPass));

      out.println("== moving the clock " + VISIBILITY_TIMEOUT.toSeconds() + " s forward, past the visibility timeout:"
          + " the queue delivers the poison order again");
      clock.advance(VISIBILITY_TIMEOUT);
      // The redelivery fails too and leaves the message in flight for another visibility timeout, which the clock
      // never reaches: the poison order is delivered exactly twice.
      boolean redelivered = await(() -> orders.failed() >= 2, WAIT_LIMIT);
      long succeeded = orders.succeeded();
      long failed = orders.failed();
      int left = queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible();
      out.printf(Locale.ROOT, "   %d order invocations succeeded, %d failed (the poison order, delivered %d times)"
          + "; %d message(s) still in the queue%s%n", succeeded, failed, failed, left, gaveUp(redelivered));
      return new QueueRun(succeeded, failed, left);
    }
  }

  private static QueueRun runJsQueue(FaasEngine engine, PrintStream out) {
    out.println("== connecting 'js-orders' to queue 'js-orders' (one message per batch) and sending "
        + JS_ORDERS.size() + " orders");
    InMemoryQueue queue = EventSources.queue("js-orders", VISIBILITY_TIMEOUT, 100);
    try (EventSourceConnection orders = engine.connect(queue, "js-orders", new BatchOptions(1, Duration.ZERO))) {
      for (String body : JS_ORDERS) {
        out.println("   sent " + queue.send(body) + ": " + body);
      }
      boolean done = await(() -> orders.succeeded() + orders.failed() >= JS_ORDERS.size()
          && queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible() == 0, WAIT_LIMIT);
      int left = queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible();
      out.printf(Locale.ROOT, "   %d js-orders invocations succeeded, %d failed; %d message(s) still in the queue%s%n",
          orders.succeeded(), orders.failed(), left, gaveUp(done));
      return new QueueRun(orders.succeeded(), orders.failed(), left);
    }
  }

  /** What the Python part of the demo saw. */
  private record PyRun(InvocationResult result, List<InvocationOutcome> scheduled, QueueRun queue) {}

  private static PyRun runPython(FaasEngine engine, DemoClock clock, Path functionsDir, PrintStream out) {
    engine.createFunction(FunctionConfig.builder("py-orders").runtime("python3").handler("app.handler")
        .timeout(Duration.ofSeconds(10)).build(), FunctionCode.fromDirectory(functionsDir.resolve(PY_FUNCTION_DIR)));
    out.println("== registered 'py-orders' from " + PY_FUNCTION_DIR + "/app.py on the python3 runtime (GraalPy);"
        + " invoking it once: its module's top level (Init) imports orders/pricing.py from its own package");
    InvocationResult direct = engine.invoke("py-orders", "{\"Records\":[{\"messageId\":\"direct-py\",\"body\":"
        + jsonString(PY_ORDERS.getFirst()) + "}]}");
    describe(out, "direct", direct);

    out.println("== connecting 'py-orders' to schedule rate(1 minute), then moving the clock " + PY_SCHEDULE_MINUTES
        + " minutes forward, one at a time");
    RecordingSource schedule = new RecordingSource(EventSources.schedule("rate(1 minute)"));
    try (EventSourceConnection ignored = engine.connect(schedule, "py-orders")) {
      for (int minute = 1; minute <= PY_SCHEDULE_MINUTES; minute++) {
        Instant now = clock.advance(Duration.ofMinutes(1));
        int expected = minute;
        if (!await(() -> schedule.outcomes().size() >= expected, WAIT_LIMIT)) {
          out.println("   clock at " + now + ": no tick [gave up waiting after " + WAIT_LIMIT.toSeconds() + " s]");
          break;
        }
        InvocationOutcome tick = schedule.outcomes().get(minute - 1);
        out.println("   clock at " + now + ", scheduled: " + new String(tick.payload(), StandardCharsets.UTF_8));
      }
    }

    out.println("== connecting 'py-orders' to queue 'py-orders' (one message per batch) and sending "
        + PY_ORDERS.size() + " orders");
    InMemoryQueue queue = EventSources.queue("py-orders", VISIBILITY_TIMEOUT, 100);
    try (EventSourceConnection orders = engine.connect(queue, "py-orders", new BatchOptions(1, Duration.ZERO))) {
      for (String body : PY_ORDERS) {
        out.println("   sent " + queue.send(body) + ": " + body);
      }
      boolean done = await(() -> orders.succeeded() + orders.failed() >= PY_ORDERS.size()
          && queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible() == 0, WAIT_LIMIT);
      int left = queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible();
      out.printf(Locale.ROOT, "   %d py-orders invocations succeeded, %d failed; %d message(s) still in the queue%s%n",
          orders.succeeded(), orders.failed(), left, gaveUp(done));
      return new PyRun(direct, schedule.outcomes(), new QueueRun(orders.succeeded(), orders.failed(), left));
    }
  }

  /** Quotes {@code text} as a JSON string; enough for the demo's own ASCII order bodies. */
  private static String jsonString(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String gaveUp(boolean seen) {
    return seen ? "" : " [gave up waiting after " + WAIT_LIMIT.toSeconds() + " s]";
  }

  /**
   * Hands a push source the engine's context unchanged, except that it keeps the outcome of each invocation the
   * source makes, so the demo can print what the scheduled function returned. Time and timers stay the engine's:
   * the engine offers connection counts but no per-invocation callback for a push source.
   */
  private static final class RecordingSource implements PushEventSource {

    private final PushEventSource source;
    // Appended on the engine's timer threads, read by the demo's thread.
    private final List<InvocationOutcome> outcomes = new CopyOnWriteArrayList<>();

    RecordingSource(PushEventSource source) {
      this.source = source;
    }

    /** Returns the outcome of every invocation the source made, in order. */
    List<InvocationOutcome> outcomes() {
      return List.copyOf(outcomes);
    }

    @Override
    public String describe() {
      return source.describe();
    }

    @Override
    public void start(SourceContext engine) {
      source.start(new SourceContext() {
        @Override
        public String functionRef() {
          return engine.functionRef();
        }

        @Override
        public Clock clock() {
          return engine.clock();
        }

        @Override
        public Cancellable schedule(Instant at, Runnable task) {
          return engine.schedule(at, task);
        }

        @Override
        public InvocationOutcome invoke(byte[] event) {
          InvocationOutcome outcome = engine.invoke(event);
          outcomes.add(outcome);
          return outcome;
        }

        @Override
        public void reportFailure(String message, Throwable cause) {
          engine.reportFailure(message, cause);
        }
      });
    }

    @Override
    public void close() {
      source.close();
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
