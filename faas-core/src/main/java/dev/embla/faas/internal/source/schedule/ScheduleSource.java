package dev.embla.faas.internal.source.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronConstraintsFactory;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.spi.source.PushEventSource;
import dev.embla.faas.spi.source.SourceContext;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A source that invokes its function on an EventBridge schedule, {@code rate(...)} or {@code cron(...)}, with
 * EventBridge's {@code Scheduled Event}. Time is the engine's clock, through {@link SourceContext#schedule}.
 *
 * <p>A rate counts from the moment the source starts: {@code rate(5 minutes)} started at 10:02 fires at 10:07, 10:12,
 * and so on. A cron expression is evaluated in UTC. A fire that comes late (the host was paused, a test clock jumped)
 * fires once, for the slot it was scheduled for, and the next fire is the next slot after now: missed slots are
 * skipped rather than fired in a burst. The next fire is scheduled before the function is invoked, so a function that
 * runs longer than the period does not push the schedule back; like EventBridge, such fires overlap.
 *
 * <p>Concurrency: start, fire and close take one lock to read and replace the pending timer, so a close that races
 * with a fire never leaves a timer behind. The function is invoked outside the lock.
 */
public final class ScheduleSource implements PushEventSource {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleSource.class);
  private static final JsonMapper JSON = dev.embla.faas.internal.json.Json.mapper().build();
  private static final Pattern RATE = Pattern.compile("rate\\(\\s*(\\S+)\\s+(\\S+)\\s*\\)");
  private static final Pattern CRON = Pattern.compile("cron\\((.*)\\)");

  /**
   * EventBridge's cron: Quartz's fields without seconds, with a required year. Day of week is 1-7 with 1 = Sunday
   * (so Monday is 2); names JAN-DEC and SUN-SAT are understood by the parser for month and day of week.
   */
  private static final CronDefinition EVENTBRIDGE = CronDefinitionBuilder.defineCron()
      .withMinutes().withValidRange(0, 59).withStrictRange().and()
      .withHours().withValidRange(0, 23).withStrictRange().and()
      .withDayOfMonth().withValidRange(1, 31).supportsL().supportsW().supportsLW().supportsQuestionMark().and()
      .withMonth().withValidRange(1, 12).withStrictRange().and()
      .withDayOfWeek().withValidRange(1, 7).withMondayDoWValue(2).supportsHash().supportsL().supportsQuestionMark()
      .and()
      .withYear().withValidRange(1970, 2199).withStrictRange().and()
      .withCronValidation(CronConstraintsFactory.ensureEitherDayOfWeekOrDayOfMonth())
      .instance();
  private static final CronParser CRON_PARSER = new CronParser(EVENTBRIDGE);

  private final String expression;
  private final Duration rate; // null for a cron schedule
  private final ExecutionTime cron; // null for a rate schedule
  private final Object lock = new Object();
  private SourceContext context; // guarded by lock
  private Instant started; // guarded by lock: the origin of a rate
  private SourceContext.Cancellable pending; // guarded by lock
  private boolean closed; // guarded by lock

  private ScheduleSource(String expression, Duration rate, ExecutionTime cron) {
    this.expression = expression;
    this.rate = rate;
    this.cron = cron;
  }

  /**
   * Parses an EventBridge schedule expression: {@code rate(1 minute)}, {@code rate(5 minutes)}, {@code rate(1 hour)},
   * {@code rate(2 days)}, or {@code cron(minutes hours day-of-month month day-of-week year)} in UTC, where exactly one
   * of day-of-month and day-of-week is {@code ?}.
   *
   * @param expression the expression
   * @return a source that is not started yet
   * @throws InvalidConfigurationException if the expression is not valid, naming it and what is wrong
   */
  public static ScheduleSource parse(String expression) {
    if (expression == null) {
      throw new InvalidConfigurationException("schedule expression must not be null");
    }
    String e = expression.strip();
    Matcher rate = RATE.matcher(e);
    if (rate.matches()) {
      return new ScheduleSource(e, parseRate(e, rate.group(1), rate.group(2)), null);
    }
    Matcher cron = CRON.matcher(e);
    if (cron.matches()) {
      return new ScheduleSource(e, null, parseCron(e, cron.group(1)));
    }
    throw new InvalidConfigurationException("schedule expression must be rate(value unit) or cron(minutes hours "
        + "day-of-month month day-of-week year), was '" + expression + "'");
  }

  private static Duration parseRate(String expression, String value, String unit) {
    long n;
    try {
      n = Long.parseLong(value);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n <= 0 || n > Integer.MAX_VALUE) {
      throw invalid(expression, "value must be a positive integer, was " + value);
    }
    ChronoUnit u = switch (unit) {
      case "minute", "minutes" -> ChronoUnit.MINUTES;
      case "hour", "hours" -> ChronoUnit.HOURS;
      case "day", "days" -> ChronoUnit.DAYS;
      default -> throw invalid(expression, "unit must be minute(s), hour(s) or day(s), was " + unit);
    };
    // EventBridge insists on the singular for 1 and the plural otherwise; accepting both would let an expression
    // that AWS rejects pass locally.
    boolean singular = !unit.endsWith("s");
    if (n == 1 && !singular) {
      throw invalid(expression, "unit must be singular for a value of 1 (" + unit.substring(0, unit.length() - 1)
          + "), was " + unit);
    }
    if (n != 1 && singular) {
      throw invalid(expression, "unit must be plural for a value of " + n + " (" + unit + "s), was " + unit);
    }
    return u.getDuration().multipliedBy(n);
  }

  private static ExecutionTime parseCron(String expression, String body) {
    String[] fields = body.strip().split("\\s+");
    if (fields.length != 6) {
      throw invalid(expression, "cron needs 6 fields (minutes hours day-of-month month day-of-week year), had "
          + (body.isBlank() ? 0 : fields.length));
    }
    // Checked here, before cron-utils, because its message for these cases does not say which way to fix them.
    boolean domAny = fields[2].equals("?");
    boolean dowAny = fields[4].equals("?");
    if (domAny && dowAny) {
      throw invalid(expression, "only one of day-of-month and day-of-week may be ?, both were");
    }
    if (!domAny && !dowAny) {
      throw invalid(expression, "day-of-month (" + fields[2] + ") and day-of-week (" + fields[4]
          + ") cannot both be set; use ? in one of them");
    }
    Cron cron;
    try {
      cron = CRON_PARSER.parse(String.join(" ", fields)).validate();
    } catch (IllegalArgumentException e) {
      String why = Objects.requireNonNullElse(e.getMessage(), e.toString())
          .replace("Failed to parse cron expression. ", "");
      throw new InvalidConfigurationException("schedule expression " + expression + " is not valid: " + why
          + fieldHint(why), e);
    }
    return ExecutionTime.forCron(cron);
  }

  /** Names the field a cron-utils range message is about; its messages give the range but not the field. */
  private static String fieldHint(String message) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("range \\[(\\d+), ?(\\d+)]").matcher(message);
    if (!m.find()) {
      return "";
    }
    String field = switch (m.group(1) + "-" + m.group(2)) {
      case "0-59" -> "minutes";
      case "0-23" -> "hours";
      case "1-31" -> "day-of-month";
      case "1-12" -> "month";
      case "1-7" -> "day-of-week";
      default -> m.group(2).length() == 4 ? "year" : null;
    };
    return field == null ? "" : " (the " + field + " field)";
  }

  private static InvalidConfigurationException invalid(String expression, String what) {
    return new InvalidConfigurationException("schedule expression " + expression + " is not valid: " + what);
  }

  /** Returns the expression, as given without surrounding blanks. */
  public String expression() {
    return expression;
  }

  @Override
  public String describe() {
    return "schedule " + expression;
  }

  /**
   * Starts the schedule: the first fire is the first slot after the context clock's now.
   *
   * @throws IllegalStateException if the source was started or closed before; connect a new source instead
   */
  @Override
  public void start(SourceContext context) {
    Objects.requireNonNull(context, "context");
    synchronized (lock) {
      if (this.context != null || closed) {
        throw new IllegalStateException("schedule source " + expression
            + " was already connected; create one source per connection");
      }
      this.context = context;
      this.started = context.clock().instant();
      scheduleAfter(started);
    }
  }

  /** Cancels the pending fire; a fire already running finishes. Idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (pending != null) {
        pending.cancel();
        pending = null;
      }
    }
  }

  /**
   * Returns the first fire time strictly after {@code now}, for a schedule started at {@code origin}, or null if
   * there is none (a cron expression whose last year has passed).
   */
  Instant nextAfter(Instant origin, Instant now) {
    if (rate != null) {
      long period = rate.toSeconds();
      long elapsed = Math.max(0, Duration.between(origin, now).toSeconds());
      // Slots are origin + k * period; the first one past now, whatever was missed before it.
      long k = elapsed / period + 1;
      Instant next = origin.plusSeconds(Math.multiplyExact(k, period));
      return next.isAfter(now) ? next : next.plusSeconds(period);
    }
    return cron.nextExecution(ZonedDateTime.ofInstant(now, ZoneOffset.UTC)).map(ZonedDateTime::toInstant)
        .orElse(null);
  }

  /** Builds EventBridge's Scheduled Event for the slot at {@code time}. */
  byte[] event(Instant time) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "0");
    root.put("id", UUID.randomUUID().toString());
    root.put("detail-type", "Scheduled Event");
    root.put("source", "aws.events");
    root.put("account", "000000000000");
    root.put("time", time.truncatedTo(ChronoUnit.SECONDS).toString());
    root.put("region", "local");
    root.putArray("resources").add("arn:embla:events:local:000000000000:rule/" + expression);
    root.putObject("detail");
    return JSON.writeValueAsBytes(root);
  }

  private void scheduleAfter(Instant now) { // called with lock held
    Instant next = nextAfter(started, now);
    if (next == null) {
      pending = null;
      LOG.info("function {}: schedule {} has no fire time after {}; it will not fire again",
          context.functionRef(), expression, now);
      return;
    }
    pending = context.schedule(next, () -> fire(next));
  }

  private void fire(Instant slot) {
    SourceContext ctx;
    synchronized (lock) {
      if (closed) {
        return;
      }
      ctx = context;
      // Scheduled from the clock's now, not from the slot: a late fire moves on to the next future slot.
      Instant now = ctx.clock().instant();
      scheduleAfter(now.isBefore(slot) ? slot : now);
    }
    // The context counts and logs a failed invocation; the schedule carries on either way.
    ctx.invoke(event(slot));
  }

  @Override
  public String toString() {
    return "ScheduleSource{" + expression + "}";
  }
}
