package dev.embla.faas.polyglot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Source;

/** What the JavaScript and Python environments do alike with their contexts and their runtime layer's source. */
public final class GuestContexts {

  private GuestContexts() {}

  /** Closes a context with cancellation, ignoring a context that is already closed or closing. */
  public static void closeQuietly(Context c) {
    try {
      c.close(true);
    } catch (RuntimeException ignored) {
      // already closed, or closing a cancelled context: it is gone either way
    }
  }

  /**
   * Loads a runtime layer shipped as a resource next to {@code owner}, as a cached source, so that the shared engine
   * parses it once for every context.
   *
   * @param name the source's name, as guest stack traces show it
   */
  public static Source cachedResource(Class<?> owner, String language, String resource, String name) {
    try (InputStream in = owner.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " missing from the classpath");
      }
      return Source.newBuilder(language, new String(in.readAllBytes(), StandardCharsets.UTF_8), name)
          .cached(true).buildLiteral();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
