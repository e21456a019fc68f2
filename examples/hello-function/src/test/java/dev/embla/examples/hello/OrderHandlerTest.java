package dev.embla.examples.hello;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrderHandlerTest {

  final TestContext context = new TestContext();
  final OrderHandler handler = new OrderHandler();

  static Map<String, Object> sqs(String... bodies) {
    List<Map<String, Object>> records = new java.util.ArrayList<>();
    for (int i = 0; i < bodies.length; i++) {
      records.add(Map.of("messageId", "m-" + i, "body", bodies[i], "eventSource", "embla:queue",
          "attributes", Map.of("ApproximateReceiveCount", "1")));
    }
    return Map.of("Records", records);
  }

  @Test
  void handle_sumsTheBatch() {
    Map<String, Object> response = handler.handle(
        sqs("{\"orderId\":\"o-1\",\"amount\":12.50}", "{\"orderId\":\"o-2\",\"amount\":7.25}"), context);
    assertThat(response).containsEntry("orders", 2);
    assertThat((BigDecimal) response.get("total")).isEqualByComparingTo("19.75");
    assertThat(context.log).containsExactly("order o-1: 12.50", "order o-2: 7.25");
  }

  @Test
  void handle_emptyBatchSumsToZero() {
    Map<String, Object> response = handler.handle(Map.of("Records", List.of()), context);
    assertThat(response).containsEntry("orders", 0).containsEntry("total", BigDecimal.ZERO);
  }

  @Test
  void handle_poisonOrderFailsTheWholeBatch() {
    assertThatThrownBy(() -> handler.handle(
        sqs("{\"orderId\":\"o-1\",\"amount\":1}", "{\"orderId\":\"o-9\",\"poison\":true}"), context))
        .isInstanceOf(OrderHandler.PoisonOrderException.class)
        .hasMessage("poison order o-9 (message m-1)");
    assertThat(context.log).last().asString().contains("receive count 1");
  }

  @Test
  void handle_rejectsABodyThatIsNotJson() {
    assertThatThrownBy(() -> handler.handle(sqs("twelve euros"), context))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("message m-0 is not JSON: twelve euros");
  }

  @Test
  void handle_rejectsAnOrderWithoutAmount() {
    assertThatThrownBy(() -> handler.handle(sqs("{\"orderId\":\"o-1\",\"amount\":\"lots\"}"), context))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("message m-0 has no numeric amount");
  }

  @Test
  void handle_rejectsAnEventThatIsNotFromAQueue() {
    assertThatThrownBy(() -> handler.handle(Map.of("name", "Ada"), context))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not a queue event: no Records list");
    assertThatThrownBy(() -> handler.handle(null, context)).isInstanceOf(IllegalArgumentException.class);
  }
}
