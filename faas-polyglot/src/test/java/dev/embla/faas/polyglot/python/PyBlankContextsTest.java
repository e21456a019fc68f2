package dev.embla.faas.polyglot.python;

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
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Python functions on blank contexts made ahead of need ({@link BlankContexts}) run as on contexts made on demand:
 * each sees only its own files, variables and log; and a function whose variables GraalPy may read as it starts gets a
 * context built with them.
 */
class PyBlankContextsTest {

  @TempDir Path dir;

  @Test
  void functionsOnBlankContexts_seeTheirOwnFilesVariablesAndLog_andNotEachOthers() throws Exception {
    String writer = """
        import builtins, os
        def handler(event, context):
            with open('/tmp/x', 'w') as f:
                f.write('secret')
            builtins.shared = 'secret'
            print('writer says hi')
            with open('/var/task/data.txt') as f:
                data = f.read()
            return {'file': data, 'who': os.environ.get('WHO'), 'graalpy': 'UNSAFE_PYO3_SKIP_VERSION_CHECK' in os.environ}
        """;
    String reader = """
        import builtins, os
        def handler(event, context):
            return {'tmp': os.path.exists('/tmp/x'), 'shared': hasattr(builtins, 'shared'),
                    'data': os.path.exists('/var/task/data.txt'), 'who': os.environ.get('WHO'),
                    'writers': 'WRITERS_ONLY' in os.environ}
        """;
    Path w = Files.createDirectories(dir.resolve("writer"));
    Files.writeString(w.resolve("app.py"), writer);
    Files.writeString(w.resolve("data.txt"), "writer's own");
    Path r = Files.createDirectories(dir.resolve("reader"));
    Files.writeString(r.resolve("app.py"), reader);
    PyRuntimeProvider provider = new PyRuntimeProvider(2);
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).warmUpRuntime("python3")
        .keepAlive(Duration.ofMinutes(10)).workDirectory(dir.resolve("work")).build()) {
      engine.createFunction(config("writer").environment("WHO", "writer").environment("WRITERS_ONLY", "1").build(),
          FunctionCode.fromDirectory(w));
      engine.createFunction(config("reader").environment("WHO", "reader").build(), FunctionCode.fromDirectory(r));
      BlankContexts<?> blanks = provider.blankContexts();
      Await.until("2 ready", Duration.ofSeconds(120), () -> blanks.ready() == 2);

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
      assertThat(wr.payloadAsString())
          .isEqualTo("{\"file\": \"writer's own\", \"who\": \"writer\", \"graalpy\": false}");
      assertThat(rr.payloadAsString()).isEqualTo(
          "{\"tmp\": false, \"shared\": false, \"data\": false, \"who\": \"reader\", \"writers\": false}");
    }
  }

  @Test
  void aFunctionSeesTheSameRuntime_onABlankContextAndOnOneBuiltForIt_andRunsOnTheThreadItWasMadeOn()
      throws Exception {
    // What a function can observe of its interpreter. Not compared: whether a weakref.finalize callback has run by
    // a given moment, which GraalPy leaves to its own timing even on a context built for the function.
    String probe = """
        import os, sys, threading, time
        def handler(event, context):
            return {
                'environ': sorted(k for k in os.environ if k != 'PYTHON_EMBLA_TEST'),
                'path': sys.path, 'cwd': os.getcwd(), 'tz': list(time.tzname),
                'lineBuffered': [sys.stdout.line_buffering, sys.stderr.line_buffering],
                'mainThread': threading.current_thread() is threading.main_thread(),
            }
        """;
    Path code = Files.createDirectories(dir.resolve("probe"));
    Files.writeString(code.resolve("app.py"), probe);
    PyRuntimeProvider provider = new PyRuntimeProvider(2);
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).warmUpRuntime("python3")
        .keepAlive(Duration.ofMinutes(10)).workDirectory(dir.resolve("work")).build()) {
      // The same code twice; the second function's variable gives it a context built for it.
      engine.createFunction(config("blank").build(), FunctionCode.fromDirectory(code));
      engine.createFunction(config("own").environment("PYTHON_EMBLA_TEST", "1").build(),
          FunctionCode.fromDirectory(code));
      BlankContexts<?> blanks = provider.blankContexts();
      Await.until("two blank contexts ready", Duration.ofSeconds(120), () -> blanks.ready() == 2);
      Set<Thread> madeOn = threadsNamed("embla-python3-blank-");
      assertThat(madeOn).as("each blank context made on a thread of its own").hasSizeGreaterThanOrEqualTo(2);

      String onBlank = engine.invoke("blank", "{}").payloadAsString();
      String onOwn = engine.invoke("own", "{}").payloadAsString();

      assertThat(blanks.taken()).as("only the first function took a blank context").isEqualTo(1);
      assertThat(onBlank).isEqualTo(onOwn).contains("\"mainThread\": true");
      // GraalPy runs a context's asynchronous actions (weakref callbacks, finalizers) on the thread that initialised
      // it: the environment must run on the thread its blank context was made on, not start one of its own.
      assertThat(madeOn).as("the environment adopted the thread its context was made on")
          .anySatisfy(t -> assertThat(t.getName()).startsWith("embla-python-"));
    }
  }

  private static Set<Thread> threadsNamed(String prefix) {
    Set<Thread> threads = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(prefix)) {
        threads.add(t);
      }
    }
    return threads;
  }

  @Test
  void aFunctionSettingAVariableGraalPyReadsAtStart_getsAContextBuiltWithIt() throws Exception {
    Path code = Files.createDirectories(dir.resolve("seeded"));
    Files.writeString(code.resolve("app.py"), """
        import os
        def handler(event, context):
            return [os.environ.get('PYTHONHASHSEED'), os.environ.get('WHO')]
        """);
    PyRuntimeProvider provider = new PyRuntimeProvider(2);
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).warmUpRuntime("python3")
        .workDirectory(dir.resolve("work")).build()) {
      engine.createFunction(config("seeded").environment("PYTHONHASHSEED", "0").environment("WHO", "seeded").build(),
          FunctionCode.fromDirectory(code));
      BlankContexts<?> blanks = provider.blankContexts();
      Await.until("2 ready", Duration.ofSeconds(120), () -> blanks.ready() == 2);

      assertThat(engine.invoke("seeded", "{}").payloadAsString()).isEqualTo("[\"0\", \"seeded\"]");
      assertThat(blanks.taken()).as("no blank context taken").isZero();
      assertThat(blanks.ready()).isEqualTo(2);
    }
  }

  @Test
  void aContextOfItsOwn_isForVariablesReadAtStartThatDifferFromABlankContexts() {
    Map<String, String> lambdas = Map.of("TZ", ":UTC", "AWS_REGION", "local", "WHO", "me");
    assertThat(PyPreparedFunction.needsOwnContext(lambdas)).isFalse();
    assertThat(PyPreparedFunction.needsOwnContext(with(lambdas, "TZ", "Europe/Oslo"))).isTrue();
    assertThat(PyPreparedFunction.needsOwnContext(with(lambdas, "PYTHONPATH", "/var/task/lib"))).isTrue();
    assertThat(PyPreparedFunction.needsOwnContext(with(lambdas, "LANG", "C"))).isTrue();
    assertThat(PyPreparedFunction.needsOwnContext(with(lambdas, "LC_ALL", "C"))).isTrue();
    assertThat(PyPreparedFunction.needsOwnContext(Map.of("WHO", "me"))).as("no TZ, unlike a blank context").isTrue();
  }

  @Test
  void thePoolIsSizedByTheSystemProperty_andOffAtZero() throws Exception {
    Path code = Files.createDirectories(dir.resolve("echo"));
    Files.writeString(code.resolve("app.py"), "def handler(event, context):\n    return event\n");
    PyRuntimeProvider provider;
    System.setProperty(PyRuntimeProvider.BLANK_CONTEXTS_PROPERTY, "0");
    try {
      provider = new PyRuntimeProvider();
      System.setProperty(PyRuntimeProvider.BLANK_CONTEXTS_PROPERTY, "-1");
      assertThatThrownBy(PyRuntimeProvider::new).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.python.blankContexts must be a non-negative integer, was '-1'");
    } finally {
      System.clearProperty(PyRuntimeProvider.BLANK_CONTEXTS_PROPERTY);
    }
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).workDirectory(dir.resolve("work")).build()) {
      engine.createFunction(config("echo").build(), FunctionCode.fromDirectory(code));
      assertThat(engine.invoke("echo", "[1]").payloadAsString()).isEqualTo("[1]");
      assertThat(engine.invoke("echo", "[2]").payloadAsString()).isEqualTo("[2]");
      assertThat(provider.blankContexts().target()).as("off: nothing to keep").isZero();
      assertThat(provider.blankContexts().taken()).isZero();
      assertThat(provider.blankContexts().ready()).isZero();
    }
  }


  private static Map<String, String> with(Map<String, String> variables, String name, String value) {
    Map<String, String> m = new HashMap<>(variables);
    m.put(name, value);
    return m;
  }

  private static FunctionConfig.Builder config(String name) {
    // Python contexts are slow to create on a loaded machine running interpreted: a generous Init timeout
    return FunctionConfig.builder(name).runtime("python3").handler("app.handler")
        .initTimeout(Duration.ofSeconds(300)).timeout(Duration.ofSeconds(60));
  }

}
