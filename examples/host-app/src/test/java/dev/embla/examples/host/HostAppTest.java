package dev.embla.examples.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.source.InvocationOutcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo end to end, on the real {@code hello-function.zip}, {@code js-orders/index.js} and {@code py-orders/app.py}
 * that the build copied to {@code target/functions}. The demo runs once; each test checks one outcome a correct engine must produce.
 */
class HostAppTest {

  static HostApp.Summary summary;
  static String narration;
  static Duration took;

  @BeforeAll
  static void runDemo() {
    Path functions = Path.of("target", "functions");
    assertThat(functions.resolve(HostApp.FUNCTION_ZIP)).as("copied by the build before the tests").isRegularFile();
    assertThat(functions.resolve(HostApp.JS_FUNCTION_DIR).resolve("index.js")).as("copied by the build").isRegularFile();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long start = System.nanoTime();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      summary = HostApp.run(functions, out);
    }
    took = Duration.ofNanos(System.nanoTime() - start);
    narration = bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void firstInvocationIsColdWithInitDuration_secondIsWarm() {
    assertThat(summary.firstColdStart()).as(narration).isTrue();
    assertThat(summary.initDuration()).isNotNull();
    assertThat(summary.secondColdStart()).isFalse();
  }

  @Test
  void warmInvocationReusesTheHandlerInstance() {
    // the handler counts invocations in an instance field: 2 only if the second call reached the same instance
    assertThat(summary.greetings().get(0)).contains("Hello, Ada!").contains("\"invocation\":1");
    assertThat(summary.greetings().get(1)).contains("Hello, Grace!").contains("\"invocation\":2");
  }

  @Test
  void scheduleFiresOncePerMinuteOfTheDemoClock() {
    // rate(1 minute) counts from the connect; the demo clock then moves 3 whole minutes, one at a time: 3 ticks
    assertThat(summary.scheduledInvocations()).as(narration).hasSize(3)
        .allMatch(InvocationOutcome::succeeded);
    assertThat(new String(summary.scheduledInvocations().getFirst().payload(), StandardCharsets.UTF_8))
        .contains("tick at ");
  }

  @Test
  void goodOrdersAreDeliveredOnce() {
    // one message per batch: each good order succeeds once and is deleted, never delivered again
    assertThat(summary.ordersSucceeded()).as(narration).isEqualTo(3);
  }

  @Test
  void poisonOrderIsRedeliveredAfterTheVisibilityTimeout() {
    // the demo clock moves past the visibility timeout once: the poison order is delivered (and fails) exactly twice
    assertThat(summary.ordersFailed()).as(narration).isEqualTo(2);
    // never deleted: a failed message stays in the queue (no dead-letter queue is configured)
    assertThat(summary.messagesLeft()).isEqualTo(1);
  }

  @Test
  void jsFunction_firstInvocationIsCold_secondIsWarmInTheSameEnvironment() {
    assertThat(summary.jsFirstColdStart()).as(narration).isTrue();
    assertThat(summary.jsSecondColdStart()).as(narration).isFalse();
    // index.js counts invocations in a module-level variable: 2 only if the second call ran in the same context
    assertThat(summary.jsResults().get(0)).contains("\"orders\":1", "\"totalCents\":410", "\"invocation\":1");
    assertThat(summary.jsResults().get(1)).contains("\"invocation\":2");
  }

  @Test
  void jsFunction_processesEveryMessageOfItsQueue() {
    // one message per batch: each order is one successful invocation, and each is deleted after it
    assertThat(summary.jsOrdersSucceeded()).as(narration).isEqualTo(HostApp.JS_ORDERS.size());
    assertThat(summary.jsOrdersFailed()).isZero();
    assertThat(summary.jsMessagesLeft()).isZero();
  }

  @Test
  void pythonFunction_importsFromItsPackage_andAnswersADirectCall() {
    assertThat(summary.pyColdStart()).as(narration).isTrue();
    // 2.50 in cents, computed by orders/pricing.py; the module-level counter starts at 1 in a new environment
    assertThat(summary.pyResult()).contains("\"orders\": 1", "\"totalCents\": 250", "\"invocation\": 1");
  }

  @Test
  void pythonFunction_runsOnItsSchedule_inTheSameWarmEnvironment() {
    assertThat(summary.pyScheduledInvocations()).as(narration).hasSize(HostApp.PY_SCHEDULE_MINUTES)
        .allMatch(InvocationOutcome::succeeded);
    // invocations 2 and 3 of the same environment: the direct call was the first
    assertThat(new String(summary.pyScheduledInvocations().getFirst().payload(), StandardCharsets.UTF_8))
        .contains("\"scheduled\": \"").contains("\"invocation\": 2");
    assertThat(new String(summary.pyScheduledInvocations().getLast().payload(), StandardCharsets.UTF_8))
        .contains("\"invocation\": 3");
  }

  @Test
  void pythonFunction_processesEveryMessageOfItsQueue() {
    assertThat(summary.pyOrdersSucceeded()).as(narration).isEqualTo(HostApp.PY_ORDERS.size());
    assertThat(summary.pyOrdersFailed()).isZero();
    assertThat(summary.pyMessagesLeft()).isZero();
  }

  @Test
  void demoFinishesByItself() {
    // four cold starts (the first GraalJS context of the process among them), GraalPy's warm-up and a few short
    // real-time waits (schedule and visibility time are the demo clock's). The tests run interpreted: GraalPy's first
    // start alone is seconds on a quiet 2-core machine and took over a minute here while six other builds ran, so the
    // bound only says that the demo ends by itself
    assertThat(took).isLessThan(Duration.ofSeconds(180));
    assertThat(narration).contains("== closing the engine");
  }
}
