package dev.embla.faas.internal.source.schedule;

import dev.embla.faas.spi.source.PushEventSource;
import dev.embla.faas.spi.source.SourceContext;

/** Placeholder; replaced by the schedule source. */
public final class ScheduleSource implements PushEventSource {
  public static ScheduleSource parse(String expression) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public String describe() {
    return "schedule";
  }

  @Override
  public void start(SourceContext context) {}
}
