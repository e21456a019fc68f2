package dev.embla.faas.internal.invoke;

import dev.embla.faas.InvalidRequestContentException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/** Checks that a payload is one JSON document, as Lambda's Invoke API does, with a streaming parse (no tree). */
public final class PayloadCheck {

  private static final JsonFactory JSON = dev.embla.faas.internal.json.Json.factory();

  private PayloadCheck() {}

  /** Throws {@link InvalidRequestContentException} unless {@code payload} is empty or one JSON document. */
  public static void requireJson(byte[] payload) {
    if (payload.length == 0) {
      return; // an empty payload is an absent event, which handlers receive as null
    }
    try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), payload)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return; // whitespace only
      }
      p.skipChildren();
      if (p.nextToken() != null) {
        throw new InvalidRequestContentException(
            "payload is not a single JSON document: unexpected content after the first value at "
                + p.currentLocation().offsetDescription());
      }
    } catch (JacksonException e) {
      throw new InvalidRequestContentException("payload is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }
}
