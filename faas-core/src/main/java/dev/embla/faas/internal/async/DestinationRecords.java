package dev.embla.faas.internal.async;

import dev.embla.faas.internal.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Lambda's destination record for the outcome of an asynchronous invocation:
 *
 * <pre>{@code
 * {"version": "1.0", "timestamp": "2026-01-01T00:00:00.000Z",
 *  "requestContext": {"requestId": ..., "functionArn": ..., "condition": "Success", "approximateInvokeCount": 1},
 *  "requestPayload": <the event>,
 *  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
 *  "responsePayload": <the response, or the error document>}
 * }</pre>
 *
 * {@code functionError} is present only after a function error; {@code responseContext} and {@code responsePayload}
 * only if the function ran.
 */
final class DestinationRecords {

  /** The conditions of {@code requestContext.condition}. */
  enum Condition {
    SUCCESS("Success"),
    RETRIES_EXHAUSTED("RetriesExhausted"),
    EVENT_AGE_EXCEEDED("EventAgeExceeded"),
    RECURSIVE_INVOCATION_DETECTED("RecursiveInvocationDetected");

    final String wireName;

    Condition(String wireName) {
      this.wireName = wireName;
    }
  }

  private static final JsonMapper JSON = Json.mapper().build();
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private DestinationRecords() {}

  /**
   * Builds a record.
   *
   * @param response the response or error document, or null if the function never ran
   * @param functionError true if {@code response} is a function error
   */
  static byte[] record(Instant now, QueuedEvent event, String functionArn, Condition condition, String executedVersion,
      byte[] response, boolean functionError) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.put("timestamp", TIMESTAMP.format(now));
    ObjectNode request = root.putObject("requestContext");
    request.put("requestId", event.requestId());
    request.put("functionArn", functionArn);
    request.put("condition", condition.wireName);
    request.put("approximateInvokeCount", event.invocations());
    root.set("requestPayload", embed(event.payload()));
    if (response != null) {
      ObjectNode responseContext = root.putObject("responseContext");
      responseContext.put("statusCode", 200);
      responseContext.put("executedVersion", executedVersion);
      if (functionError) {
        responseContext.put("functionError", "Unhandled");
      }
      root.set("responsePayload", embed(response));
    }
    return JSON.writeValueAsBytes(root);
  }

  /** Returns the payload as JSON if it is JSON, else as a string, as Lambda embeds payloads in records. */
  private static JsonNode embed(byte[] payload) {
    if (payload.length == 0) {
      return JSON.nullNode();
    }
    try {
      return JSON.readTree(payload);
    } catch (JacksonException e) {
      return JSON.getNodeFactory().stringNode(new String(payload, StandardCharsets.UTF_8));
    }
  }
}
