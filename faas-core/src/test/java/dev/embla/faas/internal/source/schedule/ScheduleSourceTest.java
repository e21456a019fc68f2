package dev.embla.faas.internal.source.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.EventSources;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.internal.router.TimerService;
import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.SourceContext;
import dev.embla.faas.testing.FakeTicker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ScheduleSourceTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private FakeTicker clock = new FakeTicker(); // 2026-01-01T00:00:00Z, a Thursday
  private TimerService timers = new TimerService(clock, Runnable::run);
  private RecordingContext context = new RecordingContext(clock, timers);

  private void startAt(String instant) {
    clock = new FakeTicker(Instant.parse(instant));
    timers = new TimerService(clock, Runnable::run);
    context = new RecordingContext(clock, timers);
  }

  /** Advances the clock and runs what fell due, as the router's timer driver would. */
  private void advance(Duration d) {
    clock.advance(d);
    timers.runDueTasks();
  }

  private List<String> fireTimes() {
    return context.events.stream().map(e -> JSON.readTree(e).get("time").stringValue()).toList();
  }

  @Test
  void rate_firesEveryFiveMinutesFromStart() {
    ScheduleSource source = ScheduleSource.parse("rate(5 minutes)");
    source.start(context);
    assertThat(timers.nextDue()).isEqualTo(Instant.parse("2026-01-01T00:05:00Z"));

    advance(Duration.ofMinutes(4));
    assertThat(context.events).isEmpty();
    advance(Duration.ofMinutes(1));
    advance(Duration.ofMinutes(5));
    assertThat(fireTimes()).containsExactly("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z");
    assertThat(timers.nextDue()).isEqualTo(Instant.parse("2026-01-01T00:15:00Z"));
  }

  @Test
  void rate_lateFireDoesNotBurst() {
    ScheduleSource source = ScheduleSource.parse("rate(5 minutes)");
    source.start(context);
    // The host was paused for 17 minutes: slots 00:05, 00:10 and 00:15 all passed.
    advance(Duration.ofMinutes(17));
    assertThat(context.events).hasSize(1);
    assertThat(timers.runDueTasks()).isZero();
    assertThat(timers.nextDue()).isEqualTo(Instant.parse("2026-01-01T00:20:00Z"));
    advance(Duration.ofMinutes(3));
    assertThat(context.events).hasSize(2);
  }

  @Test
  void rate_hoursAndDays() {
    Instant t0 = clock.instant();
    assertThat(ScheduleSource.parse("rate(1 hour)").nextAfter(t0, t0)).isEqualTo(t0.plusSeconds(3600));
    assertThat(ScheduleSource.parse("rate(2 hours)").nextAfter(t0, t0)).isEqualTo(t0.plusSeconds(7200));
    assertThat(ScheduleSource.parse("rate(1 day)").nextAfter(t0, t0)).isEqualTo(t0.plus(Duration.ofDays(1)));
    assertThat(ScheduleSource.parse("rate(3 days)").nextAfter(t0, t0.plusSeconds(1)))
        .isEqualTo(t0.plus(Duration.ofDays(3)));
    assertThat(ScheduleSource.parse("rate(1 minute)").nextAfter(t0, t0.plusSeconds(90)))
        .isEqualTo(t0.plusSeconds(120));
  }

  @Test
  void cron_everyFifteenMinutes_firesOnTheQuarterHours() {
    startAt("2025-12-31T23:59:30Z");
    ScheduleSource source = ScheduleSource.parse("cron(0/15 * * * ? *)");
    source.start(context);
    advance(Duration.ofSeconds(30));
    advance(Duration.ofMinutes(15));
    advance(Duration.ofMinutes(15));
    assertThat(fireTimes())
        .containsExactly("2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z");
  }

  @Test
  void cron_weekdaysAtNoon_skipsTheWeekend() {
    startAt("2026-01-02T13:00:00Z"); // Friday afternoon
    ScheduleSource source = ScheduleSource.parse("cron(0 12 ? * MON-FRI *)");
    source.start(context);
    Instant next = timers.nextDue();
    assertThat(next).isEqualTo(Instant.parse("2026-01-05T12:00:00Z"));
    assertThat(next.atZone(ZoneOffset.UTC).getDayOfWeek()).isEqualTo(DayOfWeek.MONDAY);
    advance(Duration.ofDays(2));
    assertThat(context.events).as("nothing on Saturday or Sunday").isEmpty();
    advance(Duration.ofHours(23));
    assertThat(fireTimes()).containsExactly("2026-01-05T12:00:00Z");
    assertThat(timers.nextDue()).isEqualTo(Instant.parse("2026-01-06T12:00:00Z"));
  }

  @ParameterizedTest(name = "{0} after {1} is {2}")
  @CsvSource(delimiter = '|', textBlock = """
      cron(0 10 L * ? *)          | 2026-01-01T00:00:00Z | 2026-01-31T10:00:00Z
      cron(0 10 15W * ? *)        | 2026-02-01T00:00:00Z | 2026-02-16T10:00:00Z
      cron(0 10 ? * 6#3 *)        | 2026-01-01T00:00:00Z | 2026-01-16T10:00:00Z
      cron(0 10 ? * 6L *)         | 2026-01-01T00:00:00Z | 2026-01-30T10:00:00Z
      cron(0 8 1 JAN,JUL ? *)     | 2026-01-02T00:00:00Z | 2026-07-01T08:00:00Z
      cron(0 8 ? * 1 *)           | 2026-01-01T00:00:00Z | 2026-01-04T08:00:00Z
      cron(0 8 ? * SUN *)         | 2026-01-01T00:00:00Z | 2026-01-04T08:00:00Z
      cron(30 9-17/4 * * ? *)     | 2026-01-01T10:00:00Z | 2026-01-01T13:30:00Z
      cron(0 0 1 1 ? 2027-2028)   | 2026-01-01T00:00:00Z | 2027-01-01T00:00:00Z
      """)
  void cron_supportsEventBridgeSyntax(String expression, String after, String expected) {
    Instant now = Instant.parse(after);
    assertThat(ScheduleSource.parse(expression).nextAfter(now, now)).isEqualTo(Instant.parse(expected));
  }

  @Test
  void cron_whoseYearsHavePassed_neverFires() {
    ScheduleSource source = ScheduleSource.parse("cron(0 0 1 1 ? 2020)");
    source.start(context);
    assertThat(timers.pending()).isZero();
  }

  @Test
  void event_isEventBridgeScheduledEvent() {
    ScheduleSource source = ScheduleSource.parse("rate(5 minutes)");
    source.start(context);
    advance(Duration.ofMinutes(5));
    JsonNode e = JSON.readTree(context.events.getFirst());
    assertThat(e.get("version").stringValue()).isEqualTo("0");
    assertThat(e.get("id").stringValue()).hasSize(36);
    assertThat(e.get("detail-type").stringValue()).isEqualTo("Scheduled Event");
    assertThat(e.get("source").stringValue()).isEqualTo("aws.events");
    assertThat(e.get("account").stringValue()).isEqualTo("000000000000");
    assertThat(e.get("time").stringValue()).isEqualTo("2026-01-01T00:05:00Z");
    assertThat(e.get("region").stringValue()).isEqualTo("local");
    assertThat(e.get("resources").get(0).stringValue())
        .isEqualTo("arn:embla:events:local:000000000000:rule/rate(5 minutes)");
    assertThat(e.get("detail").isObject()).isTrue();
    assertThat(e.get("detail").isEmpty()).isTrue();
  }

  @Test
  void failedInvocation_doesNotStopTheSchedule() {
    context.succeed = false;
    ScheduleSource source = ScheduleSource.parse("rate(1 minute)");
    source.start(context);
    advance(Duration.ofMinutes(1));
    advance(Duration.ofMinutes(1));
    assertThat(context.events).hasSize(2);
  }

  @Test
  void close_cancelsTheTimer() {
    ScheduleSource source = ScheduleSource.parse("rate(1 minute)");
    source.start(context);
    source.close();
    source.close();
    assertThat(timers.pending()).isZero();
    advance(Duration.ofMinutes(5));
    assertThat(context.events).isEmpty();
  }

  @Test
  void start_twice_isRejected() {
    ScheduleSource source = ScheduleSource.parse("rate(1 minute)");
    source.start(context);
    assertThatThrownBy(() -> source.start(context)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("one source per connection");
  }

  @Test
  void describe_namesTheExpression() {
    assertThat(EventSources.schedule(" rate(5 minutes) ").describe()).isEqualTo("schedule rate(5 minutes)");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      rate(5 weeks)            | unit must be minute(s), hour(s) or day(s), was weeks
      rate(0 minutes)          | value must be a positive integer, was 0
      rate(-3 minutes)         | value must be a positive integer, was -3
      rate(five minutes)       | value must be a positive integer, was five
      rate(1 minutes)          | unit must be singular for a value of 1 (minute), was minutes
      rate(5 minute)           | unit must be plural for a value of 5 (minutes), was minute
      cron(0 12 * * MON *)     | day-of-month (*) and day-of-week (MON) cannot both be set; use ? in one of them
      cron(0 12 ? * ? *)       | only one of day-of-month and day-of-week may be ?, both were
      cron(0 12 * * ?)         | cron needs 6 fields (minutes hours day-of-month month day-of-week year), had 5
      cron(0 0 12 * * ? *)     | cron needs 6 fields (minutes hours day-of-month month day-of-week year), had 7
      cron(0 25 * * ? *)       | 25 not in range [0, 23] (the hours field)
      cron(61 1 * * ? *)       | (the minutes field)
      cron(0 12 ? * FUNDAY *)  | FUNDAY
      """)
  void parse_rejectsInvalidExpressionWithClearMessage(String expression, String why) {
    assertThatThrownBy(() -> ScheduleSource.parse(expression))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessageStartingWith("schedule expression " + expression + " is not valid: ")
        .hasMessageContaining(why);
  }

  @Test
  void parse_rejectsWhatIsNeitherRateNorCron() {
    assertThatThrownBy(() -> ScheduleSource.parse("every 5 minutes"))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("schedule expression must be rate(value unit) or cron(minutes hours day-of-month month "
            + "day-of-week year), was 'every 5 minutes'");
    assertThatThrownBy(() -> ScheduleSource.parse(null)).isInstanceOf(InvalidConfigurationException.class);
  }

  /** Schedules on a manual timer service and records the events it is asked to invoke with. */
  private static final class RecordingContext implements SourceContext {
    final Clock clock;
    final TimerService timers;
    final List<String> events = new CopyOnWriteArrayList<>();
    volatile boolean succeed = true;

    RecordingContext(Clock clock, TimerService timers) {
      this.clock = clock;
      this.timers = timers;
    }

    @Override
    public String functionRef() {
      return "cleanup";
    }

    @Override
    public Clock clock() {
      return clock;
    }

    @Override
    public Cancellable schedule(Instant at, Runnable task) {
      return timers.schedule(at, task);
    }

    @Override
    public InvocationOutcome invoke(byte[] event) {
      events.add(new String(event, StandardCharsets.UTF_8));
      return succeed
          ? new InvocationOutcome("r", true, "null".getBytes(StandardCharsets.UTF_8), null)
          : new InvocationOutcome("r", false, "{}".getBytes(StandardCharsets.UTF_8), "Boom");
    }

    @Override
    public void reportFailure(String message, Throwable cause) {
      throw new AssertionError("unexpected source failure: " + message, cause);
    }
  }
}
