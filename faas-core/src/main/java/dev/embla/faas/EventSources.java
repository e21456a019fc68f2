package dev.embla.faas;

import dev.embla.faas.internal.source.queue.LocalQueue;
import dev.embla.faas.internal.source.schedule.ScheduleSource;
import dev.embla.faas.spi.source.PushEventSource;
import java.time.Duration;

/**
 * The built-in event sources. Connect one to a function with {@link FaasEngine#connect}.
 *
 * @since 0.1
 */
public final class EventSources {

  private EventSources() {}

  /**
   * Returns a source that invokes its function on a schedule, in EventBridge syntax: {@code rate(5 minutes)},
   * {@code rate(1 hour)}, or {@code cron(0 12 * * ? *)} (minutes, hours, day of month, month, day of week, year; UTC).
   * The event is EventBridge's {@code Scheduled Event}.
   *
   * @throws InvalidConfigurationException if the expression is not valid, naming what is wrong
   */
  public static PushEventSource schedule(String expression) {
    return ScheduleSource.parse(expression);
  }

  /**
   * Returns a new in-memory queue with SQS's semantics: a 30-second visibility timeout and room for 100,000 messages.
   *
   * @param name the queue's name, used in events and logs
   */
  public static InMemoryQueue queue(String name) {
    return queue(name, Duration.ofSeconds(30), 100_000);
  }

  /**
   * Returns a new in-memory queue.
   *
   * @param name the queue's name, used in events and logs
   * @param visibilityTimeout how long a received message stays invisible before it can be received again
   * @param capacity the most messages the queue holds; {@link InMemoryQueue#send} fails beyond it
   */
  public static InMemoryQueue queue(String name, Duration visibilityTimeout, int capacity) {
    return new LocalQueue(name, visibilityTimeout, capacity, null);
  }

  /**
   * Returns a new in-memory queue whose messages go to a dead-letter queue once they were received
   * {@link InMemoryQueue.RedrivePolicy#maxReceiveCount} times without being deleted, as with SQS's redrive policy.
   *
   * <pre>{@code
   * InMemoryQueue failed = EventSources.queue("orders-dlq");
   * InMemoryQueue orders = EventSources.queue("orders", Duration.ofSeconds(30), 100_000,
   *     new InMemoryQueue.RedrivePolicy(failed, 5));
   * }</pre>
   *
   * @param name the queue's name, used in events and logs
   * @param visibilityTimeout how long a received message stays invisible before it can be received again
   * @param capacity the most messages the queue holds; {@link InMemoryQueue#send} fails beyond it
   * @param redrivePolicy where messages go after their last receive
   * @throws InvalidConfigurationException if a value is out of range, or the dead-letter queue is this queue
   */
  public static InMemoryQueue queue(String name, Duration visibilityTimeout, int capacity,
      InMemoryQueue.RedrivePolicy redrivePolicy) {
    return new LocalQueue(name, visibilityTimeout, capacity, java.util.Objects.requireNonNull(redrivePolicy,
        "redrivePolicy"));
  }
}
