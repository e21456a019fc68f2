package dev.embla.faas.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures what is logged under a logger name (for example {@code embla.function.echo}), with each event's MDC, so
 * that tests can check log lines and their request ids. Close it to detach.
 */
public final class LogCapture implements AutoCloseable {

  /** One captured line: the formatted message and the request id in the MDC when it was logged. */
  public record Line(String logger, String message, String requestId) {}

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(String name) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts capturing under {@code loggerName} and its descendants. */
  public static LogCapture of(String loggerName) {
    return new LogCapture(loggerName);
  }

  /** Returns the lines captured so far. */
  public synchronized List<Line> lines() {
    return List.copyOf(appender.list).stream()
        .map(e -> new Line(e.getLoggerName(), e.getFormattedMessage(), e.getMDCPropertyMap().get("AWSRequestId")))
        .toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
