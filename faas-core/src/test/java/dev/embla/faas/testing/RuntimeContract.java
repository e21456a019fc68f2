package dev.embla.faas.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The runtime contract (a TCK): what every runtime, Java included, must do for a function, checked through the public
 * {@link FaasEngine} API exactly as a host would use it. Echo, Init once per environment, Lambda's error shape, the
 * timeout, environment variables, a private {@code /tmp}, log capture, and one invocation at a time per environment.
 *
 * <p>A runtime's test extends this class and supplies a {@link Fixture}: the runtime's name, the engine builder (to add
 * a runtime that {@link java.util.ServiceLoader} would not find), and one small function per behaviour, written in the
 * runtime's language. Each fixture method's Javadoc is the exact behaviour the function must have; nothing in it is
 * specific to a language, so a new runtime's subclass is the functions plus a few lines.
 *
 * <p>How concurrency is observed without sleeping: a contract function writes the line {@value #GATE_LINE}
 * {@code <token>} to its standard output, and the test holds it there. The engine sends function output to the SLF4J
 * logger {@code embla.function.<name>} on the invoking thread, so an appender of the test's ({@link LogGate}) blocks the
 * function inside its own log call until the test opens the gate. That works the same for every language, none of
 * which can see a latch of the host's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RuntimeContract {

  /** The line prefix with which a contract function asks to be held (see the class comment). */
  public static final String GATE_LINE = "contract-gate";
  /** The line a contract function's initialisation writes to standard output. */
  public static final String INIT_LINE = "contract-init";

  /**
   * How late a timed-out invocation may return, beyond its deadline. The target (10 ms) is measured by the
   * benchmarks; this bound holds on a shared, noisy 2-core machine with an interpreted guest language, and is still
   * far below what a runaway loop that was not stopped would take (forever).
   */
  protected static final Duration TIMEOUT_SLACK = Duration.ofMillis(500);

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration GATE_BOUND = Duration.ofSeconds(30);
  private static final int CONCURRENCY = 4;

  /** One contract function: its code package and handler string. */
  public record ContractFunction(FunctionCode code, String handler) {}

  /**
   * What a runtime supplies to the contract. Every function method describes the function's behaviour exactly; a
   * "token" is a random string the function makes once, at initialisation, so that the test can tell environments
   * apart. "Writes a line" means to the function's standard output unless said otherwise, and the line must reach
   * the engine before the function goes on (flush it where the language buffers its output, as Python may).
   */
  public interface Fixture {

    /** Returns the runtime identifier functions are registered with, for example {@code java21} or {@code nodejs}. */
    String runtime();

    /**
     * Returns a fresh engine builder with the runtime available. The contract sets the work directory itself; do not.
     */
    default FaasEngine.Builder engineBuilder() {
      return FaasEngine.builder();
    }

    /** Returns the event, unchanged. */
    ContractFunction echo();

    /**
     * At initialisation: makes a token, counts one initialisation in a variable of the environment's (a static
     * field, a module-level variable), and writes the line {@value RuntimeContract#INIT_LINE}. Each invocation counts
     * itself and returns {@code {"env": token, "inits": initialisations, "invocations": invocations}}.
     */
    ContractFunction countsInits();

    /**
     * Throws the language's error {@link #namedErrorType()} (a type of the function's own) with the message
     * {@code event.message}, from code of the function's own, so that a frame matching {@link #guestFrame()} is on
     * the stack.
     */
    ContractFunction throwsNamedError();

    /** Returns the {@code errorType} Lambda reports for the error {@link #throwsNamedError()} throws. */
    String namedErrorType();

    /** Returns a text that one of the guest's stack frames of {@link #throwsNamedError()} contains. */
    String guestFrame();

    /**
     * If {@code event.spin} is true, loops forever, catching and ignoring anything thrown inside the loop body;
     * otherwise returns {@code "ready"}.
     */
    ContractFunction spinsForever();

    /** Returns every environment variable the function can see, as a JSON object of strings. */
    ContractFunction readsEnvironment();

    /**
     * Makes a token at initialisation. Each invocation gets {@code {"file": name, "write": text or null, "gate":
     * boolean}}: reads {@code /tmp/<name>} as UTF-8 text ({@code before}, null if there is no such file); if
     * {@code write} is not null, writes it to that file, replacing it; if {@code gate} is true, writes the line
     * {@code contract-gate <token>}; reads the file again ({@code after}); returns
     * {@code {"env": token, "before": before, "after": after}}.
     */
    ContractFunction usesTmp();

    /**
     * Writes {@code event.message} as one line to standard output and {@code event.message + " on stderr"} as one
     * line to standard error; returns {@code "logged"}.
     */
    ContractFunction logs();

    /**
     * Makes a token at initialisation and keeps, in variables of the environment's, the number of its invocations in
     * flight and the largest number ever seen (thread-safe where the language has threads). Each invocation adds one
     * to the count in flight and updates the largest, writes the line {@code contract-gate <token>}, takes one off
     * the count in flight, and returns {@code {"env": token, "maxInFlight": largest}}.
     */
    ContractFunction reportsConcurrency();
  }

  /** Returns a zip holding one file, for a fixture whose contract functions live in one source file. */
  protected static FunctionCode singleFileZip(String name, String content) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(bytes)) {
      zip.putNextEntry(new java.util.zip.ZipEntry(name));
      zip.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return FunctionCode.fromBytes(bytes.toByteArray());
  }

  /** Returns the runtime under test. Called once per test class. */
  protected abstract Fixture fixture();

  private Fixture fixture;
  private Path work;
  private FaasEngine engine;

  @BeforeAll
  void startEngine() throws IOException {
    fixture = fixture();
    work = Files.createTempDirectory("embla-contract");
    engine = fixture.engineBuilder().workDirectory(work).build();
  }

  @AfterAll
  void closeEngine() throws IOException {
    try {
      if (engine != null) {
        engine.close();
      }
    } finally {
      // Environments shut down (and delete their /tmp) on threads of their own, possibly still running.
      Await.until("work directory deleted", () -> {
        try {
          MoreFiles.deleteRecursively(work, RecursiveDeleteOption.ALLOW_INSECURE);
          return true;
        } catch (IOException e) {
          return false;
        }
      });
    }
  }

  @Test
  void echo_returnsTheEventUnchanged() {
    String fn = register("echo", fixture.echo(), Duration.ofSeconds(10), Map.of());
    for (String event : List.of(
        "{\"name\":\"Ada\",\"n\":42,\"pi\":3.25,\"ok\":true,\"none\":null,\"list\":[1,\"two\",{\"three\":[]}],"
            + "\"nested\":{\"deeper\":{\"text\":\"h\\u00e9llo \\u2713 \\\"quoted\\\"\"}}}",
        "[1,2,3]", "\"just a string\"", "7", "false", "null", "{}")) {
      InvocationResult r = engine.invoke(fn, event);
      assertThat(r.error()).as("error for %s", event).isEmpty();
      // Compared as JSON values: a runtime may space its JSON differently (Python's json.dumps does).
      assertThat(json(r.payloadAsString())).as("echo of %s", event).isEqualTo(json(event));
      assertThat(r.requestId()).isNotBlank();
      assertThat(r.executedVersion()).isEqualTo("$LATEST");
    }
  }

  @Test
  void init_runsOncePerEnvironment_andWarmInvocationsReuseIt() {
    String fn = register("inits", fixture.countsInits(), Duration.ofSeconds(10), Map.of());
    try (LogCapture log = LogCapture.of(functionLogger(fn))) {
      List<JsonNode> answers = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        InvocationResult r = engine.invoke(fn, "{}");
        assertThat(r.error()).isEmpty();
        boolean first = i == 1;
        assertThat(r.isColdStart()).as("invocation %d cold", i).isEqualTo(first);
        assertThat(r.initDuration().isPresent()).as("init duration of invocation %d", i).isEqualTo(first);
        answers.add(json(r.payloadAsString()));
      }
      assertThat(answers).extracting(a -> a.get("env").asString()).containsOnly(answers.get(0).get("env").asString());
      assertThat(answers).extracting(a -> a.get("inits").asInt()).containsExactly(1, 1, 1);
      assertThat(answers).extracting(a -> a.get("invocations").asInt()).containsExactly(1, 2, 3);
      // Init's output belongs to no invocation, as in Lambda, and is written once.
      assertThat(log.lines()).filteredOn(l -> l.message().equals(INIT_LINE)).singleElement()
          .satisfies(l -> assertThat(l.requestId()).isNull());
    }
  }

  @Test
  void functionError_hasLambdasShape_withTheGuestsFrames() {
    String fn = register("fails", fixture.throwsNamedError(), Duration.ofSeconds(10), Map.of());

    InvocationResult r = engine.invoke(fn, "{\"message\":\"contract failure 42\"}");

    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(e.errorType()).isEqualTo(fixture.namedErrorType());
    assertThat(e.errorMessage()).isEqualTo("contract failure 42");
    assertThat(e.stackTrace()).isNotEmpty().anyMatch(frame -> frame.contains(fixture.guestFrame()));
    JsonNode payload = json(r.payloadAsString());
    assertThat(payload.propertyNames()).containsExactlyInAnyOrder("errorType", "errorMessage", "stackTrace");
    assertThat(payload.get("errorType").asString()).isEqualTo(fixture.namedErrorType());
    assertThat(payload.get("errorMessage").asString()).isEqualTo("contract failure 42");
    assertThat(payload.get("stackTrace").isArray()).isTrue();
    assertThat(payload.get("stackTrace").size()).isEqualTo(e.stackTrace().size());
  }

  @Test
  void timeout_stopsARunawayLoopOnTime_andTheNextInvocationColdStarts() {
    String fn = register("spins", fixture.spinsForever(), Duration.ofSeconds(1), Map.of());
    // Warm first, so that what is timed below is the invocation alone.
    assertThat(engine.invoke(fn, "{\"spin\":false}").payloadAsString()).isEqualTo("\"ready\"");

    long t0 = System.nanoTime();
    InvocationResult r = engine.invoke(fn, "{\"spin\":true}");
    Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);

    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.TIMEOUT);
    assertThat(e.errorType()).isEqualTo("Sandbox.Timedout");
    assertThat(e.errorMessage()).isEqualTo("Task timed out after 1.00 seconds");
    assertThat(r.duration()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(elapsed).as("returned on time").isGreaterThanOrEqualTo(Duration.ofSeconds(1))
        .isLessThan(Duration.ofSeconds(1).plus(TIMEOUT_SLACK));

    InvocationResult next = engine.invoke(fn, "{\"spin\":false}");
    assertThat(next.payloadAsString()).isEqualTo("\"ready\"");
    assertThat(next.isColdStart()).as("the timed-out environment was discarded").isTrue();
  }

  @Test
  void environment_showsTheFunctionsVariables_neverTheHosts() {
    Map<String, String> configured = Map.of("GREETING", "hej", "CONTRACT_NUMBER", "42");
    String fn = register("env", fixture.readsEnvironment(), Duration.ofSeconds(10), configured);

    Map<String, String> seen = JSON.readValue(engine.invoke(fn, "{}").payloadAsString(),
        new tools.jackson.core.type.TypeReference<Map<String, String>>() {});

    assertThat(seen).containsAllEntriesOf(configured).containsEntry("AWS_LAMBDA_FUNCTION_NAME", fn);
    assertThat(seen.get("AWS_LAMBDA_LOG_STREAM_NAME")).as("Lambda's log stream name")
        .matches("\\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32}");
    Map<String, String> again = JSON.readValue(engine.invoke(fn, "{}").payloadAsString(),
        new tools.jackson.core.type.TypeReference<Map<String, String>>() {});
    assertThat(again.get("AWS_LAMBDA_LOG_STREAM_NAME")).as("the warm environment's stream")
        .isEqualTo(seen.get("AWS_LAMBDA_LOG_STREAM_NAME"));
    Map<String, String> host = System.getenv();
    assertThat(host).as("the test needs host variables to look for").containsKey("PATH");
    assertThat(seen).doesNotContainKeys("PATH", "HOME");
    host.forEach((name, value) -> {
      if (!configured.containsKey(name)) {
        assertThat(seen.get(name)).as("host variable %s", name).isNotEqualTo(value);
      }
    });
  }

  @Test
  void tmp_isPrivateToTheEnvironment_keptBetweenInvocations_andDeletedAtShutdown() throws Exception {
    String fn = register("tmp", fixture.usesTmp(), Duration.ofSeconds(60), Map.of());
    String file = "embla-contract-" + UUID.randomUUID() + ".txt";
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try (LogGate gate = LogGate.on(functionLogger(fn))) {
      // Environment A writes and is held inside the invocation, so that B must be a second environment.
      Future<InvocationResult> a = caller.submit(() -> engine.invoke(fn, tmpEvent(file, "written by A", true)));
      gate.awaitArrivals(1);
      JsonNode b = answer(engine.invoke(fn, tmpEvent(file, "written by B", false)));
      assertThat(b.get("before").isNull()).as("B sees A's file: %s", b).isTrue();
      assertThat(b.get("after").asString()).isEqualTo("written by B");
      assertThat(filesNamed(file)).as("one file per environment, in the engine's work directory").hasSize(2);
      gate.open();
      JsonNode aAnswer = answer(a.get(GATE_BOUND.toSeconds(), TimeUnit.SECONDS));
      assertThat(aAnswer.get("before").isNull()).isTrue();
      assertThat(aAnswer.get("after").asString()).as("B's write did not reach A's /tmp").isEqualTo("written by A");
      assertThat(aAnswer.get("env").asString()).isNotEqualTo(b.get("env").asString());

      // A warm invocation finds what its own environment wrote earlier.
      JsonNode again = answer(engine.invoke(fn, tmpEvent(file, null, false)));
      String expected = again.get("env").asString().equals(aAnswer.get("env").asString())
          ? "written by A" : "written by B";
      assertThat(again.get("before").asString()).isEqualTo(expected);
    } finally {
      caller.shutdownNow();
    }
    assertThat(Path.of("/tmp", file)).as("nothing in the host's /tmp").doesNotExist();

    engine.deleteFunction(fn); // idle environments shut down
    Await.until("/tmp files deleted after Shutdown", () -> filesNamed(file).isEmpty());
  }

  @Test
  void logs_landInTheInvocationsLog_withItsRequestId() {
    String fn = register("logs", fixture.logs(), Duration.ofSeconds(10), Map.of());
    try (LogCapture log = LogCapture.of(functionLogger(fn))) {
      InvocationResult first = engine.invoke(fn, "{\"message\":\"contract-log one\"}");
      InvocationResult second = engine.invoke(fn, "{\"message\":\"contract-log two\"}");

      assertThat(first.payloadAsString()).isEqualTo("\"logged\"");
      for (InvocationResult r : List.of(first, second)) {
        String word = r == first ? "one" : "two";
        List<String> own = log.lines().stream().filter(l -> r.requestId().equals(l.requestId()))
            .map(LogCapture.Line::message).toList();
        assertThat(own).as("lines of %s", r.requestId()).containsSubsequence(
            "START RequestId: " + r.requestId() + " Version: $LATEST",
            "contract-log " + word,
            "END RequestId: " + r.requestId());
        assertThat(own).contains("contract-log " + word + " on stderr");
        assertThat(own).noneMatch(m -> m.startsWith("contract-log " + (r == first ? "two" : "one")));
      }
    }
  }

  @Test
  void concurrency_neverTwoInvocationsInOneEnvironment_andOneEnvironmentPerConcurrentCall() throws Exception {
    String fn = register("concurrent", fixture.reportsConcurrency(), Duration.ofSeconds(60), Map.of());
    ExecutorService callers = Executors.newFixedThreadPool(CONCURRENCY);
    try {
      Set<String> firstRound = round(fn, callers, true);
      // Again with every environment idle: the same environments serve, none is created.
      Set<String> secondRound = round(fn, callers, false);
      assertThat(secondRound).isEqualTo(firstRound);
    } finally {
      callers.shutdownNow();
    }
  }

  /** Runs {@link #CONCURRENCY} invocations held together at the gate; returns the environments' tokens. */
  private Set<String> round(String fn, ExecutorService callers, boolean cold) throws Exception {
    try (LogGate gate = LogGate.on(functionLogger(fn))) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<InvocationResult>> calls = new ArrayList<>();
      for (int i = 0; i < CONCURRENCY; i++) {
        calls.add(callers.submit(() -> {
          start.await();
          return engine.invoke(fn, "{}");
        }));
      }
      start.countDown();
      gate.awaitArrivals(CONCURRENCY);
      assertThat(gate.inside()).as("invocations in flight at once").isEqualTo(CONCURRENCY);
      gate.open();
      Set<String> environments = new HashSet<>();
      for (Future<InvocationResult> call : calls) {
        InvocationResult r = call.get(GATE_BOUND.toSeconds(), TimeUnit.SECONDS);
        JsonNode answer = answer(r);
        assertThat(answer.get("maxInFlight").asInt()).as("invocations at once in environment %s", answer.get("env"))
            .isEqualTo(1);
        assertThat(r.isColdStart()).isEqualTo(cold);
        environments.add(answer.get("env").asString());
      }
      assertThat(environments).as("environments").hasSize(gate.peak());
      return environments;
    }
  }

  // ---- helpers ----

  private String register(String behaviour, ContractFunction function, Duration timeout, Map<String, String> env) {
    String name = "contract-" + fixture.runtime().replaceAll("[^A-Za-z0-9]", "") + "-" + behaviour;
    engine.createFunction(FunctionConfig.builder(name).runtime(fixture.runtime()).handler(function.handler())
        .timeout(timeout).environment(env).build(), function.code());
    return name;
  }

  private static String functionLogger(String functionName) {
    return "embla.function." + functionName;
  }

  private static String tmpEvent(String file, String write, boolean gate) {
    Map<String, Object> event = new java.util.LinkedHashMap<>();
    event.put("file", file);
    event.put("write", write);
    event.put("gate", gate);
    return JSON.writeValueAsString(event);
  }

  private static JsonNode answer(InvocationResult r) {
    assertThat(r.error()).as("error of invocation %s", r.requestId()).isEmpty();
    return json(r.payloadAsString());
  }

  private static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  /** The files called {@code name} anywhere under the engine's work directory. */
  private List<Path> filesNamed(String name) {
    try (Stream<Path> all = Files.walk(work)) {
      return all.filter(p -> p.getFileName().toString().equals(name)).toList();
    } catch (NoSuchFileException e) {
      return List.of(); // deleted while walking: look again
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof NoSuchFileException) {
        return filesNamed(name);
      }
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Holds every invocation of a function that writes a {@value #GATE_LINE} line inside that log call, until
   * {@link #open()}; records how many are held at once. Unsynchronized, unlike most appenders: it must let several
   * threads in at once.
   */
  static final class LogGate extends UnsynchronizedAppenderBase<ILoggingEvent> implements AutoCloseable {
    private final Logger logger;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();

    private LogGate(String loggerName) {
      this.logger = (Logger) LoggerFactory.getLogger(loggerName);
    }

    static LogGate on(String loggerName) {
      LogGate g = new LogGate(loggerName);
      g.setContext(g.logger.getLoggerContext());
      g.start();
      g.logger.addAppender(g);
      return g;
    }

    @Override
    protected void append(ILoggingEvent event) {
      if (!event.getFormattedMessage().startsWith(GATE_LINE)) {
        return;
      }
      peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
      arrived.incrementAndGet();
      try {
        // Bounded, so a broken runtime fails the test instead of hanging it; the test then sees too few arrivals.
        gate.await(GATE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        inside.decrementAndGet();
      }
    }

    void awaitArrivals(int n) {
      Await.until(n + " invocations at the gate", GATE_BOUND, () -> arrived.get() >= n);
    }

    int inside() {
      return inside.get();
    }

    int peak() {
      return peak.get();
    }

    void open() {
      gate.countDown();
    }

    @Override
    public void close() {
      open();
      logger.detachAppender(this);
      stop();
    }
  }
}
