package dev.embla.faas.internal.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EngineClosedException;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.EventSources;
import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.PushEventSource;
import dev.embla.faas.spi.source.SourceContext;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class EventRouterTest {

  private final FakeTicker clock = new FakeTicker();
  private final FakeInvoker invoker = new FakeInvoker();
  private final EventRouter router = new EventRouter(clock, invoker);

  @AfterEach
  void close() {
    router.close();
  }

  @Test
  void connect_pushSource_getsContextWhoseInvokeCountsOutcomes() {
    CapturingSource source = new CapturingSource();
    EventSourceConnection c = router.connect(source, "hello:live", null);
    SourceContext ctx = source.context.get();
    assertThat(ctx.functionRef()).isEqualTo("hello:live");
    assertThat(ctx.clock().instant()).isEqualTo(clock.instant());

    InvocationOutcome ok = ctx.invoke("{}".getBytes(StandardCharsets.UTF_8));
    assertThat(ok.succeeded()).isTrue();
    assertThat(new String(ok.payload(), StandardCharsets.UTF_8)).isEqualTo("\"ok\"");

    invoker.answer((ref, payload) -> FakeInvoker.failure("java.lang.RuntimeException", "nope"));
    InvocationOutcome error = ctx.invoke("{}".getBytes(StandardCharsets.UTF_8));
    assertThat(error.succeeded()).isFalse();
    assertThat(error.errorType()).isEqualTo("java.lang.RuntimeException");
    assertThat(new String(error.payload(), StandardCharsets.UTF_8))
        .isEqualTo("{\"errorType\":\"java.lang.RuntimeException\",\"errorMessage\":\"nope\",\"stackTrace\":[]}");

    assertThat(c.succeeded()).isEqualTo(1);
    assertThat(c.failed()).isEqualTo(1);
    assertThat(c.functionRef()).isEqualTo("hello:live");
    assertThat(c.source()).isSameAs(source);
    assertThat(invoker.calls()).extracting(FakeInvoker.Call::functionRef).containsOnly("hello:live");
  }

  @Test
  void invoke_whenInvokerThrows_returnsFailedOutcomeInsteadOfThrowing() {
    CapturingSource source = new CapturingSource();
    EventSourceConnection c = router.connect(source, "missing", null);
    invoker.answer((ref, payload) -> {
      throw new FunctionNotFoundException("function not found: missing");
    });
    InvocationOutcome outcome = source.context.get().invoke("{}".getBytes(StandardCharsets.UTF_8));
    assertThat(outcome.succeeded()).isFalse();
    assertThat(outcome.errorType()).isEqualTo("FunctionNotFoundException");
    assertThat(JsonMapper.builder().build().readTree(outcome.payload()).get("errorMessage").stringValue())
        .isEqualTo("function not found: missing");
    assertThat(c.failed()).isEqualTo(1);
  }

  @Test
  void connect_schedule_firesWhenTheFakeClockAdvances() {
    EventSourceConnection c = router.connect(EventSources.schedule("rate(5 minutes)"), "tick", null);
    clock.advance(Duration.ofMinutes(5));
    Await.until("first fire", () -> c.succeeded() == 1);
    assertThat(invoker.calls().getFirst().payload()).contains("\"detail-type\":\"Scheduled Event\"");
    clock.advance(Duration.ofMinutes(5));
    Await.until("second fire", () -> c.succeeded() == 2);
  }

  @Test
  void scheduledTaskThatThrows_isReportedAndOtherTimersKeepFiring() {
    CapturingSource source = new CapturingSource();
    router.connect(source, "f", null);
    AtomicInteger after = new AtomicInteger();
    SourceContext ctx = source.context.get();
    ctx.schedule(clock.instant().plusSeconds(1), () -> {
      throw new IllegalStateException("source bug");
    });
    ctx.schedule(clock.instant().plusSeconds(2), after::incrementAndGet);
    clock.advance(Duration.ofSeconds(2));
    Await.until("the later timer fires", () -> after.get() == 1);
    assertThat(router.timers().failures()).as("caught by the context, not the timer service").isZero();
  }

  @Test
  void connect_queue_invokesAndDeletesOnSuccess() {
    InMemoryQueue queue = EventSources.queue("jobs");
    EventSourceConnection c = router.connect(queue, "worker", new BatchOptions(5, Duration.ZERO));
    queue.send("{\"job\":1}");
    Await.until("the message is processed", () -> c.succeeded() == 1);
    Await.until("the message is deleted", () -> queue.approximateNumberOfMessagesNotVisible() == 0);
    assertThat(queue.approximateNumberOfMessages()).isZero();
    assertThat(invoker.calls().getFirst().payload()).contains("\"body\":\"{\\\"job\\\":1}\"");
  }

  @Test
  void connect_queue_failedMessageRetriedAfterVisibilityTimeoutOnTheEngineClock() {
    InMemoryQueue queue = EventSources.queue("jobs", Duration.ofSeconds(30), 10);
    AtomicInteger attempts = new AtomicInteger();
    invoker.answer((ref, payload) -> attempts.incrementAndGet() == 1
        ? FakeInvoker.failure("Flaky", "first try fails")
        : FakeInvoker.success("null"));
    EventSourceConnection c = router.connect(queue, "worker", null);
    queue.send("x");
    Await.until("first attempt fails", () -> c.failed() == 1);
    assertThat(c.succeeded()).isZero();
    clock.advance(Duration.ofSeconds(30));
    Await.until("retried after the visibility timeout", () -> c.succeeded() == 1);
    assertThat(attempts).hasValue(2);
  }

  @Test
  void connect_pushSourceThatFailsToStart_throwsAndLeavesNothingConnected() {
    PushEventSource broken = new PushEventSource() {
      @Override
      public String describe() {
        return "broken";
      }

      @Override
      public void start(SourceContext context) {
        throw new IllegalStateException("port in use");
      }
    };
    assertThatThrownBy(() -> router.connect(broken, "f", null))
        .isInstanceOf(FaasException.class)
        .hasMessage("event source broken failed to start for function f: port in use");
    assertThat(router.connections()).isEmpty();
  }

  @Test
  void connectionClose_closesSourceOnceAndDisconnects() {
    CapturingSource source = new CapturingSource();
    EventSourceConnection c = router.connect(source, "f", null);
    assertThat(router.connections()).containsExactly(c);
    c.close();
    c.close();
    assertThat(source.closes).hasValue(1);
    assertThat(router.connections()).isEmpty();
  }

  @Test
  void close_isIdempotentClosesConnectionsAndRefusesNewOnes() {
    CapturingSource push = new CapturingSource();
    router.connect(push, "f", null);
    InMemoryQueue queue = EventSources.queue("q");
    router.connect(queue, "g", null);

    long start = System.nanoTime();
    router.close();
    router.close();
    // The queue's poller was in a 20-second long poll; close interrupts it instead of waiting it out.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(push.closes).hasValue(1);
    assertThat(router.connections()).isEmpty();
    assertThatThrownBy(() -> router.connect(new CapturingSource(), "f", null))
        .isInstanceOf(EngineClosedException.class)
        .hasMessageContaining("event router is closed");
    queue.send("kept");
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(1);
  }

  /** A push source that keeps its context so the test can invoke through it. */
  private static final class CapturingSource implements PushEventSource {
    final AtomicReference<SourceContext> context = new AtomicReference<>();
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public String describe() {
      return "capturing";
    }

    @Override
    public void start(SourceContext context) {
      this.context.set(context);
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  @Test
  void close_cancelsTimersASourceLeftScheduled() {
    EventSourceConnection c = router.connect(new dev.embla.faas.spi.source.PushEventSource() {
      @Override
      public String describe() {
        return "forgetful";
      }

      @Override
      public void start(dev.embla.faas.spi.source.SourceContext context) {
        context.schedule(context.clock().instant().plus(java.time.Duration.ofDays(365)), () -> { });
      }
    }, "f", null);
    assertThat(router.timers().pending()).isEqualTo(1);
    c.close();
    assertThat(router.timers().pending()).isZero();
  }
}
