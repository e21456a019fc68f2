package dev.embla.faas.internal.json;

import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON factory every part of the engine builds its parsers, generators and mappers on.
 *
 * <p>Why not Jackson's defaults: Jackson 3 recycles parser buffers through one concurrent deque shared by all
 * threads, and with two threads invoking it became the hottest contended memory in the engine (measured: two threads
 * together slower than one). The hybrid pool keeps buffers per platform thread and striped for virtual threads.
 */
public final class Json {

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .recyclerPool(JsonRecyclerPools.sharedHybridPool())
      .build();

  private Json() {}

  /** Returns the shared factory. */
  public static JsonFactory factory() {
    return FACTORY;
  }

  /** Returns a new mapper builder on the shared factory. */
  public static JsonMapper.Builder mapper() {
    return JsonMapper.builder(FACTORY);
  }
}
