package dev.embla.examples.hello;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Consumes a batch of order messages in SQS's shape ({@code {"Records":[{"messageId":..,"body":..}, ...]}}) and sums
 * their amounts. A message body is an order: {@code {"orderId":"o-1","amount":12.50}}.
 *
 * <p>A body with {@code "poison":true}, or one that is not an order, makes the whole invocation fail, so the queue
 * keeps the batch and delivers it again after its visibility timeout: that is how a queue consumer in Lambda asks
 * for a retry.
 *
 * @since 0.1
 */
public final class OrderHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {

  // Built once per environment, during Init: loading Jackson is part of this function's cold start.
  // Amounts are money: read them as BigDecimal, never through a double.
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  /** Creates the handler; runs once per execution environment, during Init. */
  public OrderHandler() {}

  /**
   * Handles one batch.
   *
   * @param event the SQS-shaped event
   * @param context the invocation's context
   * @return {@code orders} (how many) and {@code total} (their amounts summed)
   * @throws IllegalArgumentException if the event has no {@code Records} or a body is not an order
   * @throws PoisonOrderException if an order is marked poison
   */
  @Override
  public Map<String, Object> handle(Map<String, Object> event, Context context) {
    if (event == null || !(event.get("Records") instanceof List<?> records)) {
      throw new IllegalArgumentException("not a queue event: no Records list");
    }
    BigDecimal total = BigDecimal.ZERO;
    for (Object r : records) {
      Map<?, ?> record = r instanceof Map<?, ?> m ? m : Map.of();
      String messageId = String.valueOf(record.get("messageId"));
      JsonNode order = parse(messageId, record.get("body"));
      String orderId = order.path("orderId").asString("?");
      if (order.path("poison").asBoolean(false)) {
        context.getLogger().log("poison order " + orderId + " in message " + messageId
            + ", receive count " + receiveCount(record) + ": failing the batch");
        throw new PoisonOrderException("poison order " + orderId + " (message " + messageId + ")");
      }
      JsonNode amount = order.get("amount");
      if (amount == null || !amount.isNumber()) {
        throw new IllegalArgumentException("message " + messageId + " has no numeric amount: " + record.get("body"));
      }
      total = total.add(amount.decimalValue());
      context.getLogger().log("order " + orderId + ": " + amount.decimalValue());
    }
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("orders", records.size());
    response.put("total", total);
    return response;
  }

  private static JsonNode parse(String messageId, Object body) {
    if (!(body instanceof String text)) {
      throw new IllegalArgumentException("message " + messageId + " has no text body");
    }
    try {
      JsonNode node = JSON.readTree(text);
      if (!node.isObject()) {
        throw new IllegalArgumentException("message " + messageId + " is not an order: " + text);
      }
      return node;
    } catch (JacksonException e) {
      throw new IllegalArgumentException("message " + messageId + " is not JSON: " + text, e);
    }
  }

  private static Object receiveCount(Map<?, ?> record) {
    // SQS puts the count under attributes.ApproximateReceiveCount; a source that does not is still served
    return record.get("attributes") instanceof Map<?, ?> attributes
        ? attributes.get("ApproximateReceiveCount") : "unknown";
  }

  /** An order marked poison: thrown so that the queue delivers the batch again. */
  public static final class PoisonOrderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the order and its message. */
    public PoisonOrderException(String message) {
      super(message);
    }
  }
}
