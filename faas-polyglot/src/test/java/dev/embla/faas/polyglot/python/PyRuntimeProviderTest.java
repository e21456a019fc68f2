package dev.embla.faas.polyglot.python;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** GraalPy's slow first start: said once in the log, with its time, and movable to a warm-up. */
class PyRuntimeProviderTest {

  static final String LOGGER = PyRuntimeProvider.class.getName();

  @TempDir Path dir;
  Level previous;

  @BeforeEach
  void showInfo() {
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LOGGER);
    previous = log.getLevel();
    log.setLevel(Level.INFO);
  }

  @AfterEach
  void restoreLevel() {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LOGGER)).setLevel(previous);
  }

  @Test
  void warmUp_startsGraalPyOnce_andSaysSoWithItsTime() {
    PyRuntimeProvider provider = new PyRuntimeProvider();
    assertThat(provider.runtimes()).containsExactlyInAnyOrder("python3", "python3.12");
    try (LogCapture logs = LogCapture.of(LOGGER)) {
      provider.warmUp();
      provider.warmUp();
      assertThat(logs.lines()).filteredOn(l -> l.message().contains("warmed up"))
          .singleElement().satisfies(l -> assertThat(l.message())
              .matches("python3 runtime: GraalPy warmed up in \\d+ ms \\(the first Python context of this engine\\)"));
      // and whether guest code is compiled, once, with the engine
      assertThat(logs.lines()).filteredOn(l -> l.message().startsWith("python3 runtime: GraalPy ")
          && (l.message().endsWith("(compiled)") || l.message().contains("without a compiler"))).hasSize(1);
    } finally {
      provider.close();
    }
  }

  @Test
  void withoutWarmUp_theFirstEnvironmentPaysForTheStart_andTheLogSaysSoOnce() throws Exception {
    Path code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("app.py"), "def handler(event, context):\n    return event\n");
    try (LogCapture logs = LogCapture.of(LOGGER);
        FaasEngine engine = FaasEngine.builder().workDirectory(dir.resolve("work")).build()) {
      engine.createFunction(FunctionConfig.builder("echo").runtime("python3").handler("app.handler")
          .initTimeout(Duration.ofSeconds(300)).build(), FunctionCode.fromDirectory(code));
      assertThat(engine.invoke("echo", "[1]").payloadAsString()).isEqualTo("[1]");
      assertThat(((LocalEngine) engine).prewarm("echo", 1)).isEqualTo(1); // a second context: not the first start
      assertThat(logs.lines()).filteredOn(l -> l.message().contains("first Python context"))
          .singleElement().satisfies(l -> assertThat(l.message())
              .startsWith("python3 runtime: the first Python context of this engine started in ")
              .contains("warmUpRuntime(\"python3\")"));
    }
  }
}
