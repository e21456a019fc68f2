package dev.embla.faas.polyglot.js;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvalidConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JavaScript context is single-threaded: the runtime refuses several invocations per environment. */
class JsConcurrencyTest {

  @TempDir Path dir;

  @Test
  void createFunction_refusesMoreThanOneInvocationPerEnvironment_namingTheRuntime() throws Exception {
    Files.writeString(dir.resolve("index.js"), "exports.handler = async (e) => e;");
    assertThat(new JsRuntimeProvider().maxConcurrencyPerEnvironment()).isEqualTo(1);
    try (FaasEngine engine = FaasEngine.create()) {
      assertThatThrownBy(() -> engine.createFunction(FunctionConfig.builder("js").runtime("nodejs")
          .handler("index.handler").maxConcurrencyPerEnvironment(2).build(), FunctionCode.fromDirectory(dir)))
          .isInstanceOf(InvalidConfigurationException.class)
          .hasMessage("maxConcurrencyPerEnvironment of function 'js' must be at most 1 for runtime 'nodejs' (it runs"
              + " one invocation per environment), was 2");
      assertThat(engine.listFunctions()).isEmpty();
    }
  }
}
