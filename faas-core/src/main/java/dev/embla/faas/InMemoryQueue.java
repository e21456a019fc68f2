package dev.embla.faas;

import dev.embla.faas.spi.source.PullEventSource;

/**
 * A queue held in memory with SQS's delivery semantics: a received message is invisible for the visibility timeout,
 * deleted only when the function that received it succeeds, and received again after the timeout if it failed.
 * Created by {@link EventSources#queue}; connect it with {@link FaasEngine#connect}.
 *
 * @since 0.1
 */
public interface InMemoryQueue extends PullEventSource {

  /** Returns the queue's name. */
  String name();

  /**
   * Adds a message.
   *
   * @param body the message body, usually JSON
   * @return the message id
   * @throws QueueFullException if the queue holds its capacity already
   */
  String send(String body);

  /** Returns how many messages are waiting to be received (visible or not yet visible again). */
  int approximateNumberOfMessages();

  /** Returns how many messages have been received and are neither deleted nor visible again. */
  int approximateNumberOfMessagesNotVisible();

  /**
   * SQS's redrive policy: a message received {@code maxReceiveCount} times without being deleted is moved to the
   * dead-letter queue at its next receive, instead of being delivered again. Without one, a message the function can
   * never process (a poison message) is received again after every visibility timeout, for ever.
   *
   * @param deadLetterQueue where such messages go; the message keeps its id and body, and its receive count starts
   *     again there
   * @param maxReceiveCount how many receives a message gets, 1 to 1,000 as in SQS
   * @since 0.1
   */
  record RedrivePolicy(InMemoryQueue deadLetterQueue, int maxReceiveCount) {

    /**
     * Validates the policy.
     *
     * @throws InvalidConfigurationException if {@code maxReceiveCount} is not 1..1,000
     */
    public RedrivePolicy {
      java.util.Objects.requireNonNull(deadLetterQueue, "deadLetterQueue");
      if (maxReceiveCount < 1 || maxReceiveCount > 1_000) {
        throw new InvalidConfigurationException(
            "maxReceiveCount must be 1..1000, was " + maxReceiveCount + " (dead-letter queue "
                + deadLetterQueue.name() + ")");
      }
    }
  }

  /** Thrown by {@link #send} when the queue is full; nothing was added. */
  final class QueueFullException extends FaasException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that names the queue and its capacity. */
    public QueueFullException(String message) {
      super(message);
    }
  }
}
