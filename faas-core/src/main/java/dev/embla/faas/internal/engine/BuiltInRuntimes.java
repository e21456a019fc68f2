package dev.embla.faas.internal.engine;

import dev.embla.faas.spi.runtime.RuntimeProvider;
import dev.embla.faas.internal.java.JavaRuntimeProvider;
import java.util.List;

/** The runtimes every engine has without configuration. */
final class BuiltInRuntimes {

  private BuiltInRuntimes() {}

  static List<RuntimeProvider> all() {
    return List.of(new JavaRuntimeProvider());
  }
}
