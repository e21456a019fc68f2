package dev.embla.faas.polyglot.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvalidRequestContentException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Python functions end to end: the {@code python3} runtime found by {@link java.util.ServiceLoader} inside the real
 * engine. One engine for the class (contexts share its GraalPy engine, warmed up when the engine is built); every
 * test registers its own functions.
 *
 * <p>Python contexts are slow to create on a loaded machine running interpreted (seconds each), so Init gets a
 * generous timeout here; the timeout test bounds the invocation it measures on its own.
 */
class PyFunctionsTest {

  static FaasEngine engine;

  @TempDir
  static Path dir;

  @BeforeAll
  static void startEngine() {
    engine = FaasEngine.builder().keepAlive(Duration.ofMinutes(10)).workDirectory(dir.resolve("work"))
        .warmUpRuntime("python3").build();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  private static void register(String name, String handler, Map<String, String> files) {
    register(name, handler, files, Duration.ofSeconds(60));
  }

  private static void register(String name, String handler, Map<String, String> files, Duration timeout) {
    Path code = writeCode(name, files);
    engine.createFunction(FunctionConfig.builder(name).runtime("python3").handler(handler).timeout(timeout)
        .initTimeout(Duration.ofSeconds(300)).environment("GREETING", "hej").build(), FunctionCode.fromDirectory(code));
  }

  private static Path writeCode(String name, Map<String, String> files) {
    Path code = dir.resolve("code").resolve(name);
    try {
      Files.createDirectories(code);
      for (Map.Entry<String, String> f : files.entrySet()) {
        Path p = code.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return code;
  }

  private static String invoke(String name, String payload) {
    InvocationResult r = engine.invoke(name, payload);
    assertThat(r.error()).as("error of %s", name).isEmpty();
    return r.payloadAsString();
  }

  private static FunctionError error(String name, String payload) {
    return engine.invoke(name, payload).error().orElseThrow(() -> new AssertionError(name + " did not fail"));
  }

  @Test
  void handler_getsEventDictAndLambdaContext_andImportsModulesOfItsPackage() {
    register("ctx", "app.handler", Map.of(
        "app.py", """
            from lib import util
            from lib.sub.deep import twice
            import helpers

            def handler(event, context):
                return {
                    'type': type(event).__name__,
                    'got': event['name'],
                    'twice': twice(event['n']),
                    'shout': util.shout(event['name']),
                    'helper': helpers.VALUE,
                    'fn': context.function_name,
                    'version': context.function_version,
                    'id': len(context.aws_request_id),
                    'mem': context.memory_limit_in_mb,
                    'arn': context.invoked_function_arn.endswith(':ctx'),
                    'remaining': 0 < context.get_remaining_time_in_millis() <= 60000,
                    'group': context.log_group_name,
                    'stream': '/[$LATEST]' in context.log_stream_name,
                }
            """,
        "helpers.py", "VALUE = [1, None, True, 2.5]\n",
        "lib/__init__.py", "",
        "lib/util.py", "def shout(s):\n    return s.upper() + '!'\n",
        "lib/sub/__init__.py", "",
        "lib/sub/deep.py", "def twice(n):\n    return n * 2\n"));
    assertThat(invoke("ctx", "{\"name\":\"embla\",\"n\":21}")).isEqualTo(
        "{\"type\": \"dict\", \"got\": \"embla\", \"twice\": 42, \"shout\": \"EMBLA!\", \"helper\": [1, null, true, 2.5],"
            + " \"fn\": \"ctx\", \"version\": \"$LATEST\", \"id\": 36, \"mem\": \"128\", \"arn\": true,"
            + " \"remaining\": true, \"group\": \"/aws/lambda/ctx\", \"stream\": true}");
  }

  @Test
  void init_runsOncePerEnvironment_andEnvironmentsAreReused() {
    register("count", "app.handler", Map.of("app.py", """
        inits = 0
        calls = 0
        inits += 1

        def handler(event, context):
            global calls
            calls += 1
            return '%d/%d' % (inits, calls)
        """));
    assertThat(invoke("count", "{}")).isEqualTo("\"1/1\"");
    InvocationResult warm = engine.invoke("count", "{}");
    assertThat(warm.payloadAsString()).isEqualTo("\"1/2\"");
    assertThat(warm.isColdStart()).isFalse();
    assertThat(((LocalEngine) engine).prewarm("count", 1)).isEqualTo(1);
    assertThat(invoke("count", "{}")).isEqualTo("\"1/1\""); // most recently used: the new environment
  }

  @Test
  void raisedException_comesBackInLambdasShape_withTheGuestsFrames_andEnvironmentIsReused() {
    register("boom", "app.handler", Map.of(
        "app.py", """
            import checks

            class ValidationError(Exception):
                pass

            def handler(event, context):
                if event.get('ok'):
                    return 'fine'
                if event.get('custom'):
                    raise ValidationError('bad input')
                return checks.require(event, 'field')
            """,
        "checks.py", """
            def require(event, key):
                return event[key]
            """));
    FunctionError e = error("boom", "{}");
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(e.errorType()).isEqualTo("KeyError");
    assertThat(e.errorMessage()).isEqualTo("'field'");
    // traceback.format_list, as Lambda's Python 3.12 runtime reports it (with 3.12's carets), without the runtime's
    // own frames
    assertThat(e.stackTrace()).containsExactly(
        "  File \"/var/task/app.py\", line 11, in handler\n    return checks.require(event, 'field')\n"
            + "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n",
        "  File \"/var/task/checks.py\", line 2, in require\n    return event[key]\n           ~~~~~^^^^^\n");

    FunctionError custom = error("boom", "{\"custom\":true}");
    assertThat(custom.errorType()).isEqualTo("ValidationError");
    assertThat(custom.errorMessage()).isEqualTo("bad input");

    InvocationResult next = engine.invoke("boom", "{\"ok\":true}");
    assertThat(next.payloadAsString()).isEqualTo("\"fine\"");
    assertThat(next.isColdStart()).isFalse();
  }

  @Test
  void badHandlers_areRefusedAtRegistration_asLambdaWouldFailTheirInit() {
    Path code = writeCode("refused", Map.of("app.py", "def handler(event, context):\n    return 1\n"));
    Throwable malformed = catchThrowable(() -> engine.createFunction(FunctionConfig.builder("malformed")
        .runtime("python3").handler("apphandler").build(), FunctionCode.fromDirectory(code)));
    assertThat(malformed).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("Bad handler 'apphandler'");
    Throwable noModule = catchThrowable(() -> engine.createFunction(FunctionConfig.builder("nomodule")
        .runtime("python3").handler("main.handler").build(), FunctionCode.fromDirectory(code)));
    assertThat(noModule).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("Unable to import module 'main'").hasMessageContaining("main.py");
  }

  @Test
  void initFailures_haveLambdasTypes_andDiscardTheEnvironment() {
    register("imports", "app.handler", Map.of("app.py", "import requests\n\ndef handler(e, c):\n    return 1\n"));
    FunctionError missingImport = error("imports", "{}");
    assertThat(missingImport.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(missingImport.errorType()).isEqualTo("Runtime.ImportModuleError");
    assertThat(missingImport.errorMessage()).isEqualTo("Unable to import module 'app': No module named 'requests'");

    register("nofunc", "app.handler", Map.of("app.py", "def other(e, c):\n    return 1\n"));
    FunctionError missingFunction = error("nofunc", "{}");
    assertThat(missingFunction.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(missingFunction.errorType()).isEqualTo("Runtime.HandlerNotFound");
    assertThat(missingFunction.errorMessage()).isEqualTo("Handler 'handler' missing on module 'app'");

    register("syntax", "app.handler", Map.of("app.py", "def handler(e, c):\n    return (1\n"));
    FunctionError syntax = error("syntax", "{}");
    assertThat(syntax.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(syntax.errorType()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(syntax.errorMessage()).startsWith("Syntax error in module 'app': ");

    register("topraise", "app.handler", Map.of("app.py", "import os\nREGION = os.environ['NO_SUCH']\n"
        + "def handler(e, c):\n    return REGION\n"));
    FunctionError raised = error("topraise", "{}");
    assertThat(raised.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(raised.errorType()).isEqualTo("KeyError");
    assertThat(raised.stackTrace()).anySatisfy(l -> assertThat(l).startsWith("  File \"/var/task/app.py\", line 2"));
  }

  @Test
  void printStderrAndLogging_landInTheInvocationsLog_withItsRequestId_inLambdasFormat() {
    register("logs", "app.handler", Map.of("app.py", """
        import logging, sys
        logger = logging.getLogger()

        def handler(event, context):
            print('hello', event['who'])
            sys.stderr.write('oops\\n')
            logger.info('not shown: the root logger is at WARNING, as in Lambda')
            logger.warning('careful %s', event['who'])
            logger.setLevel(logging.INFO)
            logger.info('now shown')
            logger.setLevel(logging.WARNING)
            return 'ok'
        """));
    try (LogCapture logs = LogCapture.of("embla.function.logs")) {
      InvocationResult r = engine.invoke("logs", "{\"who\":\"world\"}");
      assertThat(r.error()).isEmpty();
      String id = r.requestId();
      assertThat(logs.lines()).anySatisfy(l -> {
        assertThat(l.message()).isEqualTo("hello world");
        assertThat(l.requestId()).isEqualTo(id);
      });
      assertThat(logs.lines()).anySatisfy(l -> {
        assertThat(l.message()).isEqualTo("oops");
        assertThat(l.requestId()).isEqualTo(id);
      });
      assertThat(logs.lines()).anySatisfy(l -> {
        assertThat(l.message()).matches("\\[WARNING]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t"
            + id + "\\tcareful world");
        assertThat(l.requestId()).isEqualTo(id);
      });
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l.message()).startsWith("[INFO]").endsWith("\tnow shown"));
      assertThat(logs.lines()).noneSatisfy(l -> assertThat(l.message()).contains("not shown"));
    }
  }

  @Test
  void logging_isNotLoadedUntilTheFunctionImportsIt_thenHasLambdasHandler_evenWhenFirstImportedInAnInvoke() {
    register("lazylog", "app.handler", Map.of("app.py", """
        import sys

        def handler(event, context):
            before = {m: m in sys.modules for m in ('logging', 'traceback', 'importlib')}
            import importlib
            log = importlib.import_module('logging')
            log.getLogger('child').warning('from %s', 'an invoke')
            return {'before': before, 'loader': type(log.__loader__).__name__,
                    'specLoader': type(log.__spec__.loader).__name__}
        """));
    try (LogCapture logs = LogCapture.of("embla.function.lazylog")) {
      InvocationResult r = engine.invoke("lazylog", "{}");
      assertThat(r.error()).isEmpty();
      // the runtime layer holds none of these in an idle environment: they are what made one cost 5.5 MB
      assertThat(r.payloadAsString()).contains(
          "\"before\": {\"logging\": false, \"traceback\": false, \"importlib\": false}");
      // the module keeps its own loader: nothing of the runtime shows through it
      assertThat(r.payloadAsString()).doesNotContain("Configuring");
      assertThat(logs.lines()).anySatisfy(l -> {
        assertThat(l.message()).matches("\\[WARNING]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t"
            + r.requestId() + "\\tfrom an invoke");
        assertThat(l.requestId()).isEqualTo(r.requestId());
      });
    }
  }

  @Test
  void osEnviron_showsTheFunctionsVariablesAndLambdasReservedOnes_neverTheHosts() {
    register("env", "app.handler", Map.of("app.py", """
        import os

        def handler(event, context):
            return {
                'greeting': os.environ.get('GREETING'),
                'name': os.environ.get('AWS_LAMBDA_FUNCTION_NAME'),
                'root': os.environ.get('LAMBDA_TASK_ROOT'),
                'stream': os.environ.get('AWS_LAMBDA_LOG_STREAM_NAME') == context.log_stream_name,
                'path': os.environ.get('PATH'),
                'home': os.environ.get('HOME'),
                'getenv': os.getenv('USER'),
                'graalpy': 'UNSAFE_PYO3_SKIP_VERSION_CHECK' in os.environ,
            }
        """));
    assertThat(System.getenv("PATH")).isNotNull();
    assertThat(invoke("env", "{}")).isEqualTo("{\"greeting\": \"hej\", \"name\": \"env\", \"root\": \"/var/task\","
        + " \"stream\": true, \"path\": null, \"home\": null, \"getenv\": null, \"graalpy\": false}");
  }

  @Test
  void payloadAndResult_areJson_notJsonIsRefused_andAnUnserialisableResultIsAMarshalError() {
    register("json", "app.handler", Map.of("app.py", """
        def handler(event, context):
            if event == 'set':
                return {1, 2}
            return event
        """));
    assertThat(invoke("json", "[1, {\"a\": \"\\u00e5\"}, null, 1.5]")).isEqualTo("[1, {\"a\": \"\\u00e5\"}, null, 1.5]");
    assertThat(catchThrowable(() -> engine.invoke("json", "{nope"))).isInstanceOf(InvalidRequestContentException.class);
    FunctionError marshal = error("json", "\"set\"");
    assertThat(marshal.errorType()).isEqualTo("Runtime.MarshalError");
    // awslambdaric's own wording: its JSON serializer's default refuses with the value's repr
    assertThat(marshal.errorMessage()).isEqualTo("Unable to marshal response: {1, 2} is not JSON serializable");
  }

  @Test
  void eventsAndResults_areWhatJsonLoadsAndJsonDumpsMake() {
    register("json-types", "app.handler", Map.of("app.py", """
        import decimal

        box = [None]

        def handler(event, context):
            if event == 'values':
                return {'float': [1e16, 1e-05, 0.1, float('nan'), float('inf'), -float('inf'), 2.0],
                        'int': 10 ** 30, 'tuple': (1, 'two'), 'keys': {1: 'a', 2.5: 'b', False: 'c', None: 'd'},
                        'text': 'å\\n"\\u2603', 'decimal': decimal.Decimal('1.25'), 'empty': [{}, [], '']}
            if event == 'circular':
                loop = []
                loop.append(loop)
                return loop
            if event == 'tuple key':
                return {(1, 2): 3}
            if event == 'box fails':
                box[0] = {(1, 2): 3}
                return box
            if event == 'box':
                box[0] = 'fine'
                return box
            return repr(event)
        """));
    assertThat(invoke("json-types", "\"values\"")).isEqualTo("{\"float\": [1e+16, 1e-05, 0.1, NaN, Infinity, -Infinity, "
        + "2.0], \"int\": 1000000000000000000000000000000, \"tuple\": [1, \"two\"], \"keys\": {\"1\": \"a\", "
        + "\"2.5\": \"b\", \"false\": \"c\", \"null\": \"d\"}, \"text\": \"\\u00e5\\n\\\"\\u2603\", "
        + "\"decimal\": 1.25, \"empty\": [{}, [], \"\"]}");
    // the event as json.loads makes it: Python types, big ints exact, the last of duplicate keys, whitespace around
    assertThat(invoke("json-types", " {\"a\": [1, 2.5, null, true, \"\\u00e5\"], \"big\": 123456789012345678901234567890, "
        + "\"inf\": 1e400, \"a\": -0}\n")).isEqualTo(
        "\"{'a': 0, 'big': 123456789012345678901234567890, 'inf': inf}\"");
    assertThat(invoke("json-types", "[1.0, \"x\", false]")).isEqualTo("\"[1.0, 'x', False]\"");
    assertThat(invoke("json-types", "")).isEqualTo("\"None\"");
    assertThat(invoke("json-types", "7")).isEqualTo("\"7\"");
    // json.dumps' own refusals
    assertThat(error("json-types", "\"circular\"").errorMessage())
        .isEqualTo("Unable to marshal response: Circular reference detected");
    assertThat(error("json-types", "\"tuple key\"").errorMessage())
        .isEqualTo("Unable to marshal response: keys must be str, int, float, bool or None, not tuple");
    assertThat(invoke("json-types", "[1]")).as("an encoding that failed leaves nothing behind").isEqualTo("\"[1]\"");
    // the same list, failing inside it and then encoded again: a container left marked would read as circular
    assertThat(error("json-types", "\"box fails\"").errorType()).isEqualTo("Runtime.MarshalError");
    assertThat(invoke("json-types", "\"box\"")).isEqualTo("[\"fine\"]");
    // Not JSON at all: the engine refuses it before any runtime sees it. What the engine's parser lets through and
    // json.loads does not is the function's unmarshal error, with json.loads' own message.
    for (String notJson : List.of("{nope", "{} x", "[NaN]")) {
      assertThat(catchThrowable(() -> engine.invoke("json-types", notJson))).as(notJson)
          .isInstanceOf(InvalidRequestContentException.class);
    }
    assertThat(error("json-types", "\n\n  ").errorMessage())
        .isEqualTo("Unable to unmarshal input: Expecting value: line 3 column 3 (char 4)");
    assertThat(error("json-types", "\ufeff{}").errorMessage())
        .isEqualTo("Unable to unmarshal input: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)");
  }

  @Test
  void sysExit_isAnExitError_andTheNextInvocationColdStarts() {
    register("exits", "app.handler", Map.of("app.py", """
        import sys

        def handler(event, context):
            if event.get('exit'):
                sys.exit(3)
            return 'alive'
        """));
    assertThat(invoke("exits", "{}")).isEqualTo("\"alive\"");
    FunctionError e = error("exits", "{\"exit\":true}");
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.EXIT);
    assertThat(e.errorType()).isEqualTo("Runtime.ExitError");
    assertThat(e.errorMessage()).endsWith("Runtime exited with error: exit status 3");
    InvocationResult next = engine.invoke("exits", "{}");
    assertThat(next.payloadAsString()).isEqualTo("\"alive\"");
    assertThat(next.isColdStart()).isTrue();
  }

  @Test
  void runawayLoops_timeOutOnTime_andTheNextCallColdStarts() {
    register("spin", "app.handler", Map.of("app.py", """
        def handler(event, context):
            if event.get('spin') == 'plain':
                while True:
                    pass
            if event.get('spin') == 'except':
                while True:
                    try:
                        while True:
                            pass
                    except BaseException:
                        pass
            return 'done'
        """), Duration.ofSeconds(2));
    assertThat(invoke("spin", "{}")).isEqualTo("\"done\"");
    for (String how : new String[] {"plain", "except"}) {
      long t0 = System.nanoTime();
      InvocationResult r = engine.invoke("spin", "{\"spin\":\"" + how + "\"}");
      long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.error().orElseThrow().errorType()).isEqualTo("Sandbox.Timedout");
      assertThat(elapsedMs).as("real time of a 2 s timeout (%s)", how).isBetween(2000L, 3500L);
      InvocationResult next = engine.invoke("spin", "{}");
      assertThat(next.payloadAsString()).isEqualTo("\"done\"");
      assertThat(next.isColdStart()).isTrue();
    }
  }

  @Test
  void guestThreads_endWithTheirEnvironments_includingOneCancelledMidLoop() {
    Set<Thread> before = guestThreads(); // other tests' idle environments keep theirs
    register("threads", "app.handler", Map.of("app.py", """
        def handler(event, context):
            if event.get('spin'):
                while True:
                    pass
            return 'done'
        """), Duration.ofSeconds(1));
    assertThat(invoke("threads", "{}")).isEqualTo("\"done\"");
    Set<Thread> mine = guestThreads();
    mine.removeAll(before);
    assertThat(mine).as("one platform thread for the environment").hasSize(1);

    assertThat(engine.invoke("threads", "{\"spin\":true}").error().orElseThrow().errorType())
        .isEqualTo("Sandbox.Timedout"); // answered at once; that environment's guest may still be unwinding
    assertThat(invoke("threads", "{}")).isEqualTo("\"done\""); // a new environment, with a thread of its own
    mine.addAll(guestThreads());
    mine.removeAll(before);
    engine.deleteFunction("threads"); // the idle environment shuts down; the cancelled one already did

    Await.until("the function's guest threads ended", Duration.ofSeconds(30),
        () -> mine.stream().noneMatch(Thread::isAlive));
    assertThat(mine).hasSizeGreaterThanOrEqualTo(2);
  }

  private static Set<Thread> guestThreads() {
    Set<Thread> threads = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("embla-python-") && !t.getName().startsWith("embla-python-cancel-")) {
        threads.add(t);
      }
    }
    return threads;
  }

  // ---- the sandbox: each denial tried by a function ----

  static final String ATTEMPT = """
      import os, sys

      def attempt(f):
          try:
              return 'allowed: ' + repr(f())[:60]
          except BaseException as e:
              return 'denied: ' + type(e).__name__
      """;

  @Test
  void sandbox_hostClassesAndPolyglotBindings_areUnreachable() {
    register("host", "app.handler", Map.of("app.py", ATTEMPT + """

        def handler(event, context):
            return {
                'java': attempt(lambda: __import__('java').type('java.lang.System')),
                'polyglot': attempt(lambda: __import__('polyglot').import_value('engine')),
            }
        """));
    assertThat(invoke("host", "{}")).doesNotContain("allowed").contains("\"java\": \"denied: ")
        .contains("\"polyglot\": \"denied: ");
  }

  @Test
  void sandbox_filesOutsideTaskAndTmp_doNotExist_andTheCodeIsReadOnly() {
    register("files", "app.handler", Map.of("app.py", ATTEMPT + """

        def handler(event, context):
            def write_tmp():
                with open('/tmp/note.txt', 'w') as f:
                    f.write('mine')
                with open('/tmp/note.txt') as f:
                    return f.read()
            return {
                'passwd': attempt(lambda: open('/etc/passwd').read()),
                'escape': attempt(lambda: open('/var/task/../../etc/passwd').read()),
                'listRoot': attempt(lambda: os.listdir('/')),
                'hostHome': attempt(lambda: os.listdir(os.path.expanduser('~'))),
                'ownCode': attempt(lambda: len(open('/var/task/app.py').read()) > 0),
                'writeCode': attempt(lambda: open('/var/task/app.py', 'a').write('x')),
                'newInCode': attempt(lambda: open('/var/task/new.py', 'w').write('x')),
                'stdlibWrite': attempt(lambda: open(os.__file__, 'a').write('x')),
                'tmp': attempt(write_tmp),
            }
        """));
    assertThat(invoke("files", "{}")).isEqualTo("{\"passwd\": \"denied: FileNotFoundError\","
        + " \"escape\": \"denied: FileNotFoundError\", \"listRoot\": \"denied: FileNotFoundError\","
        + " \"hostHome\": \"denied: FileNotFoundError\", \"ownCode\": \"allowed: True\","
        + " \"writeCode\": \"denied: PermissionError\", \"newInCode\": \"denied: PermissionError\","
        + " \"stdlibWrite\": \"denied: PermissionError\", \"tmp\": \"allowed: 'mine'\"}");
  }

  @Test
  void sandbox_noNativeCode() {
    register("native", "app.handler", Map.of("app.py", ATTEMPT + """

        def handler(event, context):
            return {
                'ctypes': attempt(lambda: __import__('ctypes').CDLL(None)),
                'pydll': attempt(lambda: __import__('ctypes').pythonapi),
            }
        """));
    assertThat(invoke("native", "{}")).isEqualTo("{\"ctypes\": \"denied: ImportError\", \"pydll\": \"denied: ImportError\"}");
  }

  @Test
  void sandbox_noProcessesNoThreads_eachTryFailsTheInvocation_andDiscardsTheEnvironment() {
    register("procs", "app.handler", Map.of("app.py", """
        import os, subprocess, threading

        def handler(event, context):
            how = event['how']
            try:
                if how == 'system':
                    os.system('echo escaped')
                elif how == 'subprocess':
                    subprocess.run(['/bin/echo', 'escaped'])
                elif how == 'fork':
                    os.fork()
                elif how == 'exec':
                    os.execv('/bin/echo', ['echo', 'escaped'])
                elif how == 'thread':
                    threading.Thread(target=print, args=('escaped',)).start()
                return 'ran'
            except BaseException as e:
                return 'denied: ' + type(e).__name__
        """));
    assertThat(invoke("procs", "{\"how\":\"none\"}")).isEqualTo("\"ran\"");
    for (String how : new String[] {"system", "subprocess", "fork", "exec", "thread"}) {
      InvocationResult r = engine.invoke("procs", "{\"how\":\"" + how + "\"}");
      if (r.error().isPresent()) {
        // refused by the sandbox below Python, where no except clause reaches
        FunctionError e = r.error().get();
        assertThat(e.errorType()).as(how).isEqualTo("Sandbox.Denied");
        assertThat(e.errorMessage()).as(how).endsWith("is not allowed");
        assertThat(e.stackTrace()).as(how).anySatisfy(l -> assertThat(l).startsWith("  File \"/var/task/app.py\""));
        InvocationResult next = engine.invoke("procs", "{\"how\":\"none\"}");
        assertThat(next.payloadAsString()).isEqualTo("\"ran\"");
        assertThat(next.isColdStart()).as("environment discarded after %s", how).isTrue();
      } else {
        // refused by GraalPy as an OSError the function saw
        assertThat(r.payloadAsString()).as(how).startsWith("\"denied: ");
      }
    }
  }

  @Test
  void sandbox_anotherFunctionsFilesAndGlobals_areInvisible_andTmpIsGoneAfterShutdown() throws IOException {
    register("writer", "app.handler", Map.of("app.py", """
        import builtins, json
        SECRET = 'writer-secret'

        def handler(event, context):
            with open('/tmp/secret.txt', 'w') as f:
                f.write(SECRET)
            builtins.shared = SECRET
            json.shared = SECRET
            return open('/tmp/secret.txt').read()
        """));
    register("reader", "app.handler", Map.of("app.py", """
        import builtins, json, os, sys

        def handler(event, context):
            return {
                'tmp': os.path.exists('/tmp/secret.txt'),
                'builtins': hasattr(builtins, 'shared'),
                'module': hasattr(json, 'shared'),
                'writerModule': [m for m in sys.modules if 'writer' in m],
            }
        """));
    assertThat(invoke("writer", "{}")).isEqualTo("\"writer-secret\"");
    assertThat(invoke("reader", "{}"))
        .isEqualTo("{\"tmp\": false, \"builtins\": false, \"module\": false, \"writerModule\": []}");

    Path tmpRoot = dir.resolve("work").resolve("tmp");
    assertThat(secretFiles(tmpRoot)).isEqualTo(1); // the writer's environment's own /tmp, on the host
    engine.deleteFunction("writer"); // its idle environment shuts down
    Await.until("the writer's /tmp deleted after Shutdown", Duration.ofSeconds(30), () -> secretFiles(tmpRoot) == 0);
  }

  private static long secretFiles(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.getFileName().toString().equals("secret.txt")).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1; // a directory vanished under the walk: Shutdown is deleting it, so look again
    }
  }
}
