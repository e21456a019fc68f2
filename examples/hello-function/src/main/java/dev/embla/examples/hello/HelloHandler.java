package dev.embla.examples.hello;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Greets whoever the event names ({@code {"name":"Ada"}}) and answers EventBridge's {@code Scheduled Event}s.
 *
 * <p>It counts its invocations in an instance field: the engine creates one instance per execution environment, so the
 * count shows warm reuse ({@code 1} on a cold start, then {@code 2}, {@code 3}, ... while the environment stays warm).
 *
 * @since 0.1
 */
public final class HelloHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {

  // Not synchronized on purpose: an environment runs one invocation at a time, as in Lambda.
  private int invocations;

  /** Creates the handler; runs once per execution environment, during Init. */
  public HelloHandler() {
    // Init output lands in the log before the first START line, as in Lambda.
    System.out.println("HelloHandler: environment initialised");
  }

  /**
   * Handles one event: a scheduled event gets a tick, anything else a greeting.
   *
   * @param event the event; {@code name} is used when present, {@code detail-type} marks a scheduled event
   * @param context the invocation's context
   * @return {@code message}, {@code invocation} (this environment's count) and {@code coldStart}
   */
  @Override
  public Map<String, Object> handle(Map<String, Object> event, Context context) {
    invocations++;
    Map<String, Object> in = event == null ? Map.of() : event;
    String message;
    if ("Scheduled Event".equals(in.get("detail-type"))) {
      message = "tick at " + in.getOrDefault("time", "an unknown time");
      context.getLogger().log("scheduled tick, invocation " + invocations + " of this environment");
    } else {
      Object name = in.get("name");
      String who = name == null || name.toString().isBlank() ? "world" : name.toString().strip();
      message = "Hello, " + who + "!";
      context.getLogger().log("greeting " + who + ", invocation " + invocations + " of this environment");
    }
    System.out.println("HelloHandler: " + message + " (" + context.getRemainingTimeInMillis() + " ms left)");
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("message", message);
    response.put("invocation", invocations);
    response.put("coldStart", invocations == 1);
    return response;
  }
}
