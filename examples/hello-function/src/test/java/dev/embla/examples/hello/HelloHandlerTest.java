package dev.embla.examples.hello;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HelloHandlerTest {

  final TestContext context = new TestContext();

  @Test
  void handle_greetsByName() {
    Map<String, Object> response = new HelloHandler().handle(Map.of("name", " Ada "), context);
    assertThat(response).containsEntry("message", "Hello, Ada!").containsEntry("invocation", 1)
        .containsEntry("coldStart", true);
    assertThat(context.log).containsExactly("greeting Ada, invocation 1 of this environment");
  }

  @Test
  void handle_countsInvocationsOfTheSameInstance() {
    HelloHandler handler = new HelloHandler();
    handler.handle(Map.of("name", "Ada"), context);
    Map<String, Object> second = handler.handle(Map.of("name", "Grace"), context);
    assertThat(second).containsEntry("invocation", 2).containsEntry("coldStart", false);
    // a new instance, as a new execution environment gets, starts again
    assertThat(new HelloHandler().handle(Map.of(), context)).containsEntry("invocation", 1);
  }

  @Test
  void handle_greetsTheWorldWithoutAName() {
    Map<String, Object> blank = new HashMap<>();
    blank.put("name", "  ");
    assertThat(new HelloHandler().handle(blank, context)).containsEntry("message", "Hello, world!");
    assertThat(new HelloHandler().handle(null, context)).containsEntry("message", "Hello, world!");
  }

  @Test
  void handle_ticksOnAScheduledEvent() {
    Map<String, Object> event = Map.of(
        "detail-type", "Scheduled Event", "source", "aws.events", "time", "2026-01-01T00:01:00Z");
    Map<String, Object> response = new HelloHandler().handle(event, context);
    assertThat(response).containsEntry("message", "tick at 2026-01-01T00:01:00Z");
    assertThat(context.log).singleElement().asString().startsWith("scheduled tick");
  }
}
