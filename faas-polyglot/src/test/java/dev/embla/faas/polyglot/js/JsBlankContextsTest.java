package dev.embla.faas.polyglot.js;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JavaScript functions on blank contexts made ahead of need ({@link BlankContexts}) run as on contexts made on demand. */
class JsBlankContextsTest {

  @TempDir Path dir;

  @Test
  void functionsOnBlankContexts_seeTheirOwnFilesEnvironmentAndConsoleLog_andNotEachOthers() throws Exception {
    String writer = """
        const fs = require('fs');
        exports.handler = async () => {
          fs.writeFileSync('/tmp/x', 'secret');
          globalThis.shared = 'secret';
          console.log('writer says hi');
          return { file: fs.readFileSync('/var/task/data.txt', 'utf8'), env: process.env.WHO };
        };
        """;
    String reader = """
        const fs = require('fs');
        exports.handler = async () => ({ tmp: fs.existsSync('/tmp/x'), global: typeof globalThis.shared,
          data: fs.existsSync('/var/task/data.txt'), env: process.env.WHO });
        """;
    Path w = Files.createDirectories(dir.resolve("writer"));
    Files.writeString(w.resolve("index.js"), writer);
    Files.writeString(w.resolve("data.txt"), "writer's own");
    Path r = Files.createDirectories(dir.resolve("reader"));
    Files.writeString(r.resolve("index.js"), reader);
    JsRuntimeProvider provider = new JsRuntimeProvider(4);
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).keepAlive(Duration.ofMinutes(10)).build()) {
      engine.createFunction(FunctionConfig.builder("writer").runtime("nodejs").handler("index.handler")
          .environment("WHO", "writer").build(), FunctionCode.fromDirectory(w));
      engine.createFunction(FunctionConfig.builder("reader").runtime("nodejs").handler("index.handler")
          .environment("WHO", "reader").build(), FunctionCode.fromDirectory(r));
      BlankContexts<Void> blanks = provider.blankContexts();
      Await.until("4 ready", Duration.ofSeconds(30), () -> blanks.ready() == 4);

      InvocationResult wr;
      try (LogCapture logs = LogCapture.of("embla.function.writer")) {
        wr = engine.invoke("writer", "{}");
        InvocationResult written = wr;
        assertThat(logs.lines()).anySatisfy(l -> {
          assertThat(l.message()).contains("writer says hi");
          assertThat(l.requestId()).isEqualTo(written.requestId());
        });
      }
      InvocationResult rr = engine.invoke("reader", "{}");

      assertThat(blanks.taken()).as("both cold starts were served blank contexts").isEqualTo(2);
      assertThat(wr.error()).isEmpty();
      assertThat(wr.payloadAsString()).isEqualTo("{\"file\":\"writer's own\",\"env\":\"writer\"}");
      assertThat(rr.payloadAsString())
          .isEqualTo("{\"tmp\":false,\"global\":\"undefined\",\"data\":false,\"env\":\"reader\"}");
    }
  }

  @Test
  void dates_areInUtc_onBlankAndOnDemandContexts_whateverTheJvmsDefaultZone() throws Exception {
    Path code = Files.createDirectories(dir.resolve("clock"));
    Files.writeString(code.resolve("index.js"), """
        exports.handler = async () => {
          const epoch = new Date(0);
          return { offset: epoch.getTimezoneOffset(), hours: epoch.getHours(), local: new Date(2024, 0, 1).toISOString() };
        };
        """);
    String utc = "{\"offset\":0,\"hours\":0,\"local\":\"2024-01-01T00:00:00.000Z\"}";
    TimeZone jvmDefault = TimeZone.getDefault();
    // Lambda runs with TZ=:UTC; the host's zone (9 hours ahead here) must not show through, in either kind of context
    TimeZone.setDefault(TimeZone.getTimeZone("Asia/Tokyo"));
    try {
      JsRuntimeProvider onDemand = new JsRuntimeProvider(0);
      try (FaasEngine engine = FaasEngine.builder().addRuntime(onDemand).build()) {
        engine.createFunction(FunctionConfig.builder("clock").runtime("nodejs").handler("index.handler").build(),
            FunctionCode.fromDirectory(code));
        assertThat(engine.invoke("clock", "{}").payloadAsString()).as("a context made on demand").isEqualTo(utc);
        assertThat(onDemand.blankContexts().taken()).isZero();
      }
      JsRuntimeProvider pooled = new JsRuntimeProvider(1);
      try (FaasEngine engine = FaasEngine.builder().addRuntime(pooled).build()) {
        engine.createFunction(FunctionConfig.builder("clock").runtime("nodejs").handler("index.handler").build(),
            FunctionCode.fromDirectory(code));
        Await.until("1 ready", Duration.ofSeconds(30), () -> pooled.blankContexts().ready() == 1);
        assertThat(engine.invoke("clock", "{}").payloadAsString()).as("a blank context").isEqualTo(utc);
        assertThat(pooled.blankContexts().taken()).isEqualTo(1);
      }
    } finally {
      TimeZone.setDefault(jvmDefault);
    }
  }

  @Test
  void thePoolIsSizedByTheSystemProperty_andOffAtZero() throws Exception {
    Path code = Files.createDirectories(dir.resolve("echo"));
    Files.writeString(code.resolve("index.js"), "exports.handler = async (e) => e;");
    JsRuntimeProvider provider;
    System.setProperty(JsRuntimeProvider.BLANK_CONTEXTS_PROPERTY, "0");
    try {
      provider = new JsRuntimeProvider();
      System.setProperty(JsRuntimeProvider.BLANK_CONTEXTS_PROPERTY, "many");
      assertThatThrownBy(JsRuntimeProvider::new).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.nodejs.blankContexts must be a non-negative integer, was 'many'");
    } finally {
      System.clearProperty(JsRuntimeProvider.BLANK_CONTEXTS_PROPERTY);
    }
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).build()) {
      engine.createFunction(FunctionConfig.builder("echo").runtime("nodejs").handler("index.handler").build(),
          FunctionCode.fromDirectory(code));
      assertThat(engine.invoke("echo", "[1]").payloadAsString()).isEqualTo("[1]");
      assertThat(provider.blankContexts().target()).as("off: nothing to keep").isZero();
      assertThat(provider.blankContexts().taken()).isZero();
      assertThat(provider.blankContexts().ready()).isZero();
    }
  }


}
