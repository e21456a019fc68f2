package dev.embla.faas.polyglot.js;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JavaScript functions end to end: the {@code nodejs} runtime found by {@link java.util.ServiceLoader} inside the real
 * engine. One engine for the class (contexts share its GraalJS engine); every test registers its own functions.
 */
class JsFunctionsTest {

  static FaasEngine engine;

  @TempDir
  static Path code;

  @BeforeAll
  static void startEngine() {
    engine = FaasEngine.builder().keepAlive(Duration.ofMinutes(10)).build();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  private static void register(String name, String handler, Map<String, String> files) {
    register(name, handler, files, Duration.ofSeconds(10));
  }

  private static void register(String name, String handler, Map<String, String> files, Duration timeout) {
    Path dir = code.resolve(name);
    try {
      for (Map.Entry<String, String> f : files.entrySet()) {
        Path p = dir.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    engine.createFunction(FunctionConfig.builder(name).runtime("nodejs").handler(handler).timeout(timeout)
        .environment("GREETING", "hej").build(), FunctionCode.fromDirectory(dir));
  }

  private static String invoke(String name, String payload) {
    InvocationResult r = engine.invoke(name, payload);
    assertThat(r.error()).as("error of %s", name).isEmpty();
    return r.payloadAsString();
  }

  @Test
  void commonJs_asyncHandler_getsEventAndContext() {
    register("cjs", "index.handler", Map.of("index.js", """
        exports.handler = async (event, context) => ({
          got: event.name,
          fn: context.functionName,
          id: typeof context.awsRequestId,
          mem: context.memoryLimitInMB,
          arn: context.invokedFunctionArn.endsWith(':cjs'),
          remaining: context.getRemainingTimeInMillis() > 0,
          waits: context.callbackWaitsForEmptyEventLoop,
          group: context.logGroupName,
          stream: /^\\d{4}\\/\\d{2}\\/\\d{2}\\/\\[\\$LATEST\\][0-9a-f]{32}$/.test(context.logStreamName),
          sameStream: process.env.AWS_LAMBDA_LOG_STREAM_NAME === context.logStreamName,
        });
        """));
    assertThat(invoke("cjs", "{\"name\":\"embla\"}")).isEqualTo(
        "{\"got\":\"embla\",\"fn\":\"cjs\",\"id\":\"string\",\"mem\":\"128\",\"arn\":true,\"remaining\":true,"
            + "\"waits\":true,\"group\":\"/aws/lambda/cjs\",\"stream\":true,\"sameStream\":true}");
  }

  @Test
  void context_followsTheQualifierOfEachCall_inOneWarmEnvironment() {
    // The runtime hands the guest the function's identity only when it changes: a call through another qualifier
    // must still see its own ARN, and the next plain call the plain one again, with the same warm environment.
    register("ident", "index.handler", Map.of("index.js", """
        let calls = 0;
        exports.handler = async (event, context) => ({
          calls: ++calls,
          arn: context.invokedFunctionArn.slice(context.invokedFunctionArn.lastIndexOf(':function:') + 10),
          fn: context.functionName,
          mem: context.memoryLimitInMB,
        });
        """));
    assertThat(invoke("ident", "{}")).isEqualTo("{\"calls\":1,\"arn\":\"ident\",\"fn\":\"ident\",\"mem\":\"128\"}");
    assertThat(invoke("ident:$LATEST", "{}"))
        .isEqualTo("{\"calls\":2,\"arn\":\"ident:$LATEST\",\"fn\":\"ident\",\"mem\":\"128\"}");
    assertThat(invoke("ident", "{}")).isEqualTo("{\"calls\":3,\"arn\":\"ident\",\"fn\":\"ident\",\"mem\":\"128\"}");
  }

  @Test
  void esModule_handlerAndRelativeImport() {
    register("esm", "app.handler", Map.of(
        "app.mjs", """
            import { twice } from './lib/math.mjs';
            export const handler = async (event) => twice(event.n);
            """,
        "lib/math.mjs", "export const twice = (n) => n * 2;\n"));
    assertThat(invoke("esm", "{\"n\":21}")).isEqualTo("42");
  }

  @Test
  void promiseAndCallbackStyles_andUndefinedIsNull() {
    register("styles", "index.handler", Map.of("index.js", """
        module.exports.handler = (event, context, callback) => {
          if (event.style === 'promise') return Promise.resolve(event.value);
          if (event.style === 'undefined') return Promise.resolve(undefined);
          callback(null, { via: 'callback', value: event.value });
        };
        """));
    assertThat(invoke("styles", "{\"style\":\"promise\",\"value\":[1,2]}")).isEqualTo("[1,2]");
    assertThat(invoke("styles", "{\"style\":\"callback\",\"value\":\"x\"}"))
        .isEqualTo("{\"via\":\"callback\",\"value\":\"x\"}");
    assertThat(invoke("styles", "{\"style\":\"undefined\"}")).isEqualTo("null");
  }

  @Test
  void handlerThatNeverAnswers_returnsNullOnceTheLoopIsEmpty_asLambdaDoes() {
    register("silent", "index.handler", Map.of("index.js", """
        exports.handler = (event) => {
          if (event.style === 'sync') return 'ignored without a callback';
          return new Promise(() => {});
        };
        """));
    assertThat(invoke("silent", "{\"style\":\"sync\"}")).isEqualTo("null");
    assertThat(invoke("silent", "{}")).isEqualTo("null");
  }

  @Test
  void aPromiseOrCallbackLeftOpenByOneInvocation_cannotSettleTheNext() {
    // The first call of each pair ends unanswered (null: nothing left to wait for) and leaves its settlement reachable;
    // the second settles it, then answers after a timer. The stale settlement must not become the second's answer.
    register("stale", "index.handler", Map.of("index.js", """
        let settleEarlier = null;
        exports.handler = (event, context, callback) => {
          if (event.leaveOpen === 'promise') {
            return new Promise((resolve, reject) => {
              settleEarlier = (how) => (how === 'reject' ? reject(new Error('stale')) : resolve('stale'));
            });
          }
          if (event.leaveOpen === 'callback') {
            settleEarlier = (how) => (how === 'reject' ? callback(new Error('stale')) : callback(null, 'stale'));
            return undefined;
          }
          settleEarlier(event.settle);
          return new Promise((resolve) => setTimeout(() => resolve('own ' + context.awsRequestId), 20));
        };
        """));
    for (String leaveOpen : new String[] {"promise", "callback"}) {
      for (String settle : new String[] {"resolve", "reject"}) {
        assertThat(invoke("stale", "{\"leaveOpen\":\"" + leaveOpen + "\"}")).isEqualTo("null");
        InvocationResult r = engine.invoke("stale", "{\"settle\":\"" + settle + "\"}");
        assertThat(r.error()).as("%s left open, then %s", leaveOpen, settle).isEmpty();
        assertThat(r.payloadAsString()).as("%s left open, then %s", leaveOpen, settle)
            .isEqualTo("\"own " + r.requestId() + "\"");
        assertThat(r.isColdStart()).isFalse();
      }
    }
  }

  @Test
  void esModuleError_isAHandlerFailureWithItsFrames() {
    register("esmboom", "index.handler", Map.of("index.mjs", """
        export async function handler() {
          throw new SyntaxError('not really');
        }
        """));
    FunctionError e = engine.invoke("esmboom", "{}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(e.errorType()).isEqualTo("SyntaxError");
    assertThat(e.stackTrace()).anySatisfy(l -> assertThat(l).contains("/var/task/index.mjs:2"));
  }

  @Test
  void timers_fireInDueOrder_andAwaitedTimeoutSettles() {
    register("timers", "index.handler", Map.of("index.js", """
        exports.handler = async () => {
          const order = [];
          setTimeout(() => order.push('b'), 300);
          setTimeout(() => order.push('a'), 5);
          const t = setTimeout(() => order.push('never'), 1);
          clearTimeout(t);
          queueMicrotask(() => order.push('micro'));
          let ticks = 0;
          const i = setInterval(() => { if (++ticks === 3) clearInterval(i); }, 1);
          await new Promise((r) => setTimeout(r, 10));
          order.push('awaited');
          await new Promise((r) => setTimeout(r, 400));
          return { order, ticks };
        };
        """));
    assertThat(invoke("timers", "{}")).isEqualTo("{\"order\":[\"micro\",\"a\",\"awaited\",\"b\"],\"ticks\":3}");
  }

  @Test
  void performanceNowAndHrtime_measureATimerFromTheHostsMonotonicClock_inTwentyMicrosecondSteps() {
    register("clock", "index.handler", Map.of("index.js", """
        const { performance: hooked } = require('perf_hooks');
        exports.handler = async () => {
          const t0 = performance.now();
          const h0 = process.hrtime();
          const n0 = process.hrtime.bigint();
          await new Promise((r) => setTimeout(r, 30));
          const t1 = performance.now();
          const [s, ns] = process.hrtime(h0);
          const [ls, lns] = process.hrtime([h0[0] + 100, 0]); // a later time: Node's shape, never negative ns
          let refused = null;
          try { process.hrtime('soon'); } catch (e) { refused = e.code; }
          const reads = [];
          for (let i = 0; i < 50; i++) reads.push(performance.now());
          return {
            waited: t1 - t0 >= 30 && t1 - t0 < 30000,
            hrtime: s * 1e3 + ns / 1e6 >= 30,
            bigint: process.hrtime.bigint() - n0 >= 30000000n,
            later: ls < 0 && lns >= 0 && lns < 1e9,
            refused,
            steps: reads.every((r) => Math.abs(r * 50 - Math.round(r * 50)) < 1e-6),
            finerThanAMillisecond: reads.some((r) => !Number.isInteger(r)),
            sinceTheEnvironmentStarted: t0 >= 0 && t0 < 600000,
            origin: Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 50,
            perfHooks: hooked === performance,
          };
        };
        """));
    assertThat(invoke("clock", "{}")).isEqualTo("{\"waited\":true,\"hrtime\":true,\"bigint\":true,\"later\":true,"
        + "\"refused\":\"ERR_INVALID_ARG_TYPE\",\"steps\":true,\"finerThanAMillisecond\":true,"
        + "\"sinceTheEnvironmentStarted\":true,\"origin\":true,\"perfHooks\":true}");
  }

  @Test
  void performanceMarkAndMeasure_workAsInNode() {
    // Each expectation is what Node 20's perf_hooks gives for the same calls.
    register("timing", "index.handler", Map.of("index.js", """
        const { PerformanceMark } = require('perf_hooks');
        const code = (f) => { try { f(); return null; } catch (e) { return e.code; } };
        exports.handler = async () => {
          const detail = { step: 1 };
          const start = performance.mark('start', { detail });
          detail.step = 2; // the mark keeps a copy
          await new Promise((r) => setTimeout(r, 20));
          const end = performance.mark('end');
          const between = performance.measure('between', 'start', 'end');
          const sinceStart = performance.measure('sinceStart', 'start');
          const fromOrigin = performance.measure('fromOrigin', null, 'end');
          const byOptions = performance.measure('byOptions', { start: 'start', duration: 5, detail: 'd' });
          const endOnly = performance.measure('endOnly', { end: 'end', duration: 3 });
          const durationOnly = performance.measure('durationOnly', { duration: 5 }); // Node: 0 to now
          let unknown = null;
          try { performance.measure('x', 'nope'); } catch (e) { unknown = `${e.name} ${e.code}: ${e.message}`; }
          const errors = {
            noName: code(() => performance.mark()),
            negativeStart: code(() => performance.mark('n', { startTime: -1 })),
            textStart: code(() => performance.mark('n', { startTime: '3' })),
            numberName: code(() => performance.measure(5)),
            endMarkWithOptions: code(() => performance.measure('x', { start: 'start' }, 'end')),
            allThree: code(() => performance.measure('x', { start: 1, end: 2, duration: 1 })),
            negativeDuration: code(() => performance.measure('x', { start: 10, duration: -5 })),
          };
          performance.mark(7);
          const numericName = performance.getEntriesByName(7).length;
          performance.clearMarks(7);
          const names = performance.getEntries().map((e) => e.name);
          const marks = performance.getEntriesByType('mark').map((e) => e.name);
          const onlyMeasure = performance.getEntriesByName('between', 'measure').length;
          performance.clearMarks('start');
          const afterClearingStart = performance.getEntriesByType('mark').map((e) => e.name);
          let startForgotten = null;
          try { performance.measure('x', 'start'); } catch (e) { startForgotten = e.name; }
          performance.clearMeasures();
          const measuresLeft = performance.getEntriesByType('measure').length;
          return {
            mark: JSON.stringify(start) === JSON.stringify({ name: 'start', entryType: 'mark',
              startTime: start.startTime, duration: 0, detail: { step: 1 } }),
            plain: Object.keys(start).length === 0 && start instanceof PerformanceMark,
            between: between.duration >= 20 && between.startTime === start.startTime,
            sinceStart: sinceStart.duration >= between.duration,
            fromOrigin: fromOrigin.startTime === 0 && fromOrigin.duration === end.startTime,
            byOptions: Math.abs(byOptions.duration - 5) < 1e-9 && byOptions.detail === 'd',
            endOnly: Math.abs(endOnly.duration - 3) < 1e-9 && endOnly.startTime === end.startTime - 3,
            durationOnly: durationOnly.startTime === 0 && durationOnly.duration >= end.startTime,
            unknown, errors, numericName, names, marks, onlyMeasure, afterClearingStart, startForgotten, measuresLeft,
          };
        };
        """));
    assertThat(invoke("timing", "{}")).isEqualTo("{\"mark\":true,\"plain\":true,\"between\":true,\"sinceStart\":true,"
        + "\"fromOrigin\":true,\"byOptions\":true,\"endOnly\":true,\"durationOnly\":true,"
        + "\"unknown\":\"SyntaxError 12: The \\\"nope\\\" performance mark has not been set\","
        + "\"errors\":{\"noName\":\"ERR_MISSING_ARGS\",\"negativeStart\":\"ERR_PERFORMANCE_INVALID_TIMESTAMP\","
        + "\"textStart\":\"ERR_INVALID_ARG_TYPE\",\"numberName\":\"ERR_INVALID_ARG_TYPE\","
        + "\"endMarkWithOptions\":\"ERR_PERFORMANCE_MEASURE_INVALID_OPTIONS\","
        + "\"allThree\":\"ERR_PERFORMANCE_MEASURE_INVALID_OPTIONS\","
        + "\"negativeDuration\":\"ERR_PERFORMANCE_INVALID_TIMESTAMP\"},\"numericName\":1,"
        + "\"names\":[\"fromOrigin\",\"durationOnly\",\"start\",\"between\",\"sinceStart\",\"byOptions\","
        + "\"endOnly\",\"end\"],\"marks\":[\"start\",\"end\"],\"onlyMeasure\":1,"
        + "\"afterClearingStart\":[\"end\"],\"startForgotten\":\"SyntaxError\",\"measuresLeft\":0}");
  }

  @Test
  void concurrentInvocations_runInTheirOwnEnvironments_eachWithItsOwnEventLoop() throws Exception {
    register("parallel", "index.handler", Map.of("index.js", """
        const me = Math.random();
        let busy = false;
        exports.handler = async (event) => {
          if (busy) throw new Error('two invocations in one environment');
          busy = true;
          await new Promise((r) => setTimeout(r, 300));
          busy = false;
          return { me, n: event.n };
        };
        """));
    invoke("parallel", "{\"n\":0}"); // one warm environment; the second call below cold-starts another
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
      var a = pool.submit(() -> {
        start.await();
        return invoke("parallel", "{\"n\":1}");
      });
      var b = pool.submit(() -> {
        start.await();
        return invoke("parallel", "{\"n\":2}");
      });
      start.countDown();
      String ra = a.get();
      String rb = b.get();
      assertThat(ra).endsWith("\"n\":1}");
      assertThat(rb).endsWith("\"n\":2}");
      assertThat(ra.substring(0, ra.indexOf(",\"n\""))).isNotEqualTo(rb.substring(0, rb.indexOf(",\"n\"")));
    }
  }

  @Test
  void callbackStyle_waitsForEmptyEventLoop() {
    register("waits", "index.handler", Map.of("index.js", """
        let late = 0;
        exports.handler = (event, context, callback) => {
          const seen = late;
          setTimeout(() => { late++; }, 5);
          callback(null, seen);
        };
        """));
    assertThat(invoke("waits", "{}")).isEqualTo("0");
    assertThat(invoke("waits", "{}")).isEqualTo("1"); // the timer ran before the first answer was sent
  }

  @Test
  void require_relativeFileJsonAndNodeModulesPackage() {
    register("req", "src/main.handler", Map.of(
        "src/main.js", """
            const greet = require('./greet');
            const data = require('../data.json');
            const pad = require('left-pad');
            exports.handler = async () => pad(greet(data.who), 12);
            """,
        "src/greet.js", "module.exports = (who) => 'hi ' + who;\n",
        "data.json", "{\"who\":\"js\"}",
        "node_modules/left-pad/package.json", "{\"name\":\"left-pad\",\"main\":\"lib/pad.js\"}",
        "node_modules/left-pad/lib/pad.js", "module.exports = (s, n) => '*'.repeat(n - s.length) + s;\n"));
    assertThat(invoke("req", "{}")).isEqualTo("\"*******hi js\"");
  }

  @Test
  void require_ofAFileInTmp_readsThisEnvironmentsFileAsItIsNow() {
    register("tmpreq", "index.handler", Map.of("index.js", """
        const fs = require('fs');
        let calls = 0;
        exports.handler = async (event) => {
          fs.writeFileSync('/tmp/m.js', 'module.exports = ' + JSON.stringify(event.v) + ';');
          delete require.cache['/tmp/m.js'];
          return { got: require('/tmp/m.js'), calls: ++calls };
        };
        """));
    assertThat(invoke("tmpreq", "{\"v\":\"A\"}")).isEqualTo("{\"got\":\"A\",\"calls\":1}");
    assertThat(invoke("tmpreq", "{\"v\":\"B\"}")).as("rewritten in the same environment")
        .isEqualTo("{\"got\":\"B\",\"calls\":2}");
    assertThat(((LocalEngine) engine).prewarm("tmpreq", 1)).isEqualTo(1);
    assertThat(invoke("tmpreq", "{\"v\":\"D\"}")).as("another environment, with its own /tmp")
        .isEqualTo("{\"got\":\"D\",\"calls\":1}");
  }

  @Test
  void init_runsOncePerEnvironment() {
    register("count", "index.handler", Map.of("index.js", """
        let inits = 0, calls = 0;
        inits++;
        exports.handler = async () => inits + '/' + (++calls);
        """));
    assertThat(invoke("count", "{}")).isEqualTo("\"1/1\"");
    assertThat(invoke("count", "{}")).isEqualTo("\"1/2\"");
    assertThat(((LocalEngine) engine).prewarm("count", 1)).isEqualTo(1);
    assertThat(invoke("count", "{}")).isEqualTo("\"1/1\""); // most recently used: the new environment
  }

  @Test
  void thrownTypeError_comesBackInLambdasShape_andEnvironmentIsReused() {
    register("boom", "index.handler", Map.of("index.js", """
        exports.handler = async (event) => {
          if (event.ok) return 'fine';
          return event.missing.field;
        };
        """));
    InvocationResult r = engine.invoke("boom", "{}");
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(e.errorType()).isEqualTo("TypeError");
    assertThat(e.errorMessage()).contains("field");
    assertThat(e.stackTrace()).isNotEmpty().first().asString().contains("/var/task/index.js:3");
    InvocationResult next = engine.invoke("boom", "{\"ok\":true}");
    assertThat(next.payloadAsString()).isEqualTo("\"fine\"");
    assertThat(next.isColdStart()).isFalse();
  }

  @Test
  void callbackError_andRejection_keepTheirNames() {
    register("rejects", "index.handler", Map.of("index.js", """
        class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }
        exports.handler = (event, context, callback) => {
          if (event.how === 'callback') return callback(new RangeError('too big'));
          return Promise.reject(new ValidationError('bad input'));
        };
        """));
    FunctionError cb = engine.invoke("rejects", "{\"how\":\"callback\"}").error().orElseThrow();
    assertThat(cb.errorType()).isEqualTo("RangeError");
    assertThat(cb.errorMessage()).isEqualTo("too big");
    FunctionError rejected = engine.invoke("rejects", "{}").error().orElseThrow();
    assertThat(rejected.errorType()).isEqualTo("ValidationError");
    assertThat(rejected.errorMessage()).isEqualTo("bad input");
  }

  @Test
  void initError_andMissingExport_areInitFailures() {
    register("badinit", "index.handler", Map.of("index.js", """
        const config = undefined;
        const region = config.region;
        exports.handler = async () => region;
        """));
    FunctionError e = engine.invoke("badinit", "{}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(e.errorType()).isEqualTo("TypeError");

    // Lambda's words (UserFunction.js): a falsy export is "undefined or not exported", any other non-function "not a
    // function"
    register("noexport", "index.handler", Map.of("index.js", "exports.other = () => 1;\n"));
    FunctionError missing = engine.invoke("noexport", "{}").error().orElseThrow();
    assertThat(missing.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(missing.errorType()).isEqualTo("Runtime.HandlerNotFound");
    assertThat(missing.errorMessage()).isEqualTo("index.handler is undefined or not exported");

    register("notfn", "app.main.run", Map.of("app.js", "exports.main = { run: 'soon' };\n"));
    FunctionError notFunction = engine.invoke("notfn", "{}").error().orElseThrow();
    assertThat(notFunction.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(notFunction.errorType()).isEqualTo("Runtime.HandlerNotFound");
    assertThat(notFunction.errorMessage()).isEqualTo("app.main.run is not a function");
  }

  @Test
  void syntaxErrors_inTheHandlerFileOrARequiredOne_areUserCodeSyntaxErrors() {
    // Lambda wraps a SyntaxError thrown while the function's module loads: errorType Runtime.UserCodeSyntaxError,
    // errorMessage the SyntaxError's toString()
    register("syntax", "index.handler", Map.of("index.js", "exports.handler = async () => {;\n"));
    FunctionError own = engine.invoke("syntax", "{}").error().orElseThrow();
    assertThat(own.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(own.errorType()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(own.errorMessage()).startsWith("SyntaxError: ").contains("index.js");

    register("syntaxdep", "index.handler", Map.of(
        "index.js", "const lib = require('./lib');\nexports.handler = async () => lib;\n",
        "lib.js", "module.exports = {;\n"));
    FunctionError dep = engine.invoke("syntaxdep", "{}").error().orElseThrow();
    assertThat(dep.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(dep.errorType()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(dep.errorMessage()).startsWith("SyntaxError: ").contains("lib.js");

    // Registration parses the entry ahead of the first cold start, and leaves a file that does not parse to Init
    register("syntaxesm", "index.handler", Map.of("index.mjs", "export const handler = async () => {;\n"));
    FunctionError esm = engine.invoke("syntaxesm", "{}").error().orElseThrow();
    assertThat(esm.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(esm.errorType()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(esm.errorMessage()).startsWith("SyntaxError: ").contains("index.mjs");

    // Any SyntaxError escaping the module's top level, as Lambda's loader checks instanceof SyntaxError
    register("syntaxjson", "index.handler", Map.of("index.js", """
        const config = JSON.parse('{not json');
        exports.handler = async () => config;
        """));
    FunctionError json = engine.invoke("syntaxjson", "{}").error().orElseThrow();
    assertThat(json.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(json.errorType()).isEqualTo("Runtime.UserCodeSyntaxError");
    assertThat(json.errorMessage()).startsWith("SyntaxError: ");
  }

  @Test
  void missingModule_atInit_isAnImportModuleError_withNodesRequireStack() {
    register("nomodule", "index.handler", Map.of(
        "index.js", "const lib = require('./lib');\nexports.handler = async () => lib;\n",
        "lib.js", "module.exports = require('left-pad');\n"));
    FunctionError e = engine.invoke("nomodule", "{}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(e.errorType()).isEqualTo("Runtime.ImportModuleError");
    assertThat(e.errorMessage()).isEqualTo(
        "Error: Cannot find module 'left-pad'\nRequire stack:\n- /var/task/lib.js\n- /var/task/index.js");

    // Caught at the top level (an optional dependency), it is no error; required by the handler, it is the
    // invocation's own Error, as in Lambda, which wraps only what escapes the module's loading
    register("optional", "index.handler", Map.of("index.js", """
        let extra = null;
        try { extra = require('./extra'); } catch (e) { extra = e.code; }
        exports.handler = async (event) => event.late ? require('./late') : extra;
        """));
    assertThat(invoke("optional", "{}")).isEqualTo("\"MODULE_NOT_FOUND\"");
    FunctionError late = engine.invoke("optional", "{\"late\":true}").error().orElseThrow();
    assertThat(late.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(late.errorType()).isEqualTo("Error");
    assertThat(late.errorMessage()).isEqualTo("Cannot find module './late'\nRequire stack:\n- /var/task/index.js");
  }

  @Test
  void missingImport_ofAnEsModule_staysAPlainInitError() {
    // Node's ES module loader says ERR_MODULE_NOT_FOUND, which Lambda's loader does not wrap: errorType Error
    register("noimport", "index.handler", Map.of("index.mjs", """
        import { pad } from './nope.mjs';
        export const handler = async () => pad;
        """));
    FunctionError e = engine.invoke("noimport", "{}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(e.errorType()).isEqualTo("Error");
    assertThat(e.errorMessage()).startsWith("Cannot find module").endsWith("imported from /var/task/index.mjs");
  }

  @Test
  void missingHandlerFile_isRefusedAtRegistration() {
    Path dir = code.resolve("nofile");
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("other.js"), "exports.handler = () => 1;");
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> engine.createFunction(
        FunctionConfig.builder("nofile").runtime("nodejs").handler("index.handler").build(),
        FunctionCode.fromDirectory(dir)));
    assertThat(thrown).isInstanceOf(dev.embla.faas.InvalidConfigurationException.class)
        .hasMessageContaining("index.js").hasMessageContaining("index.mjs");
  }

  @Test
  void consoleOutput_landsInTheInvocationsLog() {
    register("logs", "index.handler", Map.of("index.js", """
        exports.handler = async (event) => {
          console.log('hello %s', event.who, { n: 1 });
          console.error('oops');
          return 'ok';
        };
        """));
    try (LogCapture logs = LogCapture.of("embla.function.logs")) {
      InvocationResult r = engine.invoke("logs", "{\"who\":\"world\"}");
      assertThat(logs.lines()).anySatisfy(l -> {
        assertThat(l.message()).contains("hello world {\"n\":1}");
        assertThat(l.requestId()).isEqualTo(r.requestId());
      });
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l.message()).contains("oops"));
    }
  }

  @Test
  void processEnv_showsFunctionVariables_notTheHosts() {
    register("env", "index.handler", Map.of("index.js", """
        exports.handler = async () => ({ greeting: process.env.GREETING, path: process.env.PATH ?? null,
          name: process.env.AWS_LAMBDA_FUNCTION_NAME ?? null, hrtime: process.hrtime(process.hrtime())[0] === 0 });
        """));
    assertThat(System.getenv("PATH")).isNotNull();
    assertThat(invoke("env", "{}")).isEqualTo("{\"greeting\":\"hej\",\"path\":null,\"name\":\"env\",\"hrtime\":true}");
  }

  @Test
  void processEnv_givesTheGuestsPaths_soTheTaskRootReadsTheCode() {
    register("taskroot", "index.handler", Map.of("data.txt", "the code's own", "index.js", """
        const fs = require('fs');
        const path = require('path');
        exports.handler = async () => ({ root: process.env.LAMBDA_TASK_ROOT, runtime: process.env.LAMBDA_RUNTIME_DIR,
          data: fs.readFileSync(path.join(process.env.LAMBDA_TASK_ROOT, 'data.txt')) });
        """));
    assertThat(invoke("taskroot", "{}"))
        .isEqualTo("{\"root\":\"/var/task\",\"runtime\":\"/var/runtime\",\"data\":\"the code's own\"}");
  }

  @Test
  void runawayLoop_timesOutOnTime_andNextCallColdStarts() {
    register("spin", "index.handler", Map.of("index.js", """
        exports.handler = async (event) => {
          if (event.spin === 'plain') { while (true) {} }
          if (event.spin === 'catch') { while (true) { try { while (true) {} } catch (e) { } } }
          return 'done';
        };
        """), Duration.ofSeconds(1));
    assertThat(invoke("spin", "{}")).isEqualTo("\"done\"");
    for (String how : new String[] {"plain", "catch"}) {
      long t0 = System.nanoTime();
      InvocationResult r = engine.invoke("spin", "{\"spin\":\"" + how + "\"}");
      long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.error().orElseThrow().errorType()).isEqualTo("Sandbox.Timedout");
      assertThat(elapsedMs).as("real time of a 1 s timeout (%s)", how).isLessThan(1500);
      InvocationResult next = engine.invoke("spin", "{}");
      assertThat(next.payloadAsString()).isEqualTo("\"done\"");
      assertThat(next.isColdStart()).isTrue();
    }
  }

  @Test
  void timerLoop_isCancelledToo() {
    register("tick", "index.handler", Map.of("index.js", """
        exports.handler = (event, context, callback) => { setInterval(() => {}, 5); callback(null, 'sent'); };
        """), Duration.ofSeconds(1));
    long t0 = System.nanoTime();
    InvocationResult r = engine.invoke("tick", "{}");
    // callbackWaitsForEmptyEventLoop: an interval never empties it, as in Lambda
    assertThat(r.error().orElseThrow().errorType()).isEqualTo("Sandbox.Timedout");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1500);
  }

  @Test
  void globals_areNodesNotGraalJsShellOnes() {
    register("globals", "index.handler", Map.of("index.js", """
        exports.handler = async () => [typeof print, typeof Graal, typeof console.log, typeof setTimeout];
        """));
    assertThat(invoke("globals", "{}")).isEqualTo("[\"undefined\",\"undefined\",\"function\",\"function\"]");
  }

  @Test
  void sandbox_noHostClasses() {
    register("java", "index.handler", Map.of("index.js", """
        exports.handler = async () => {
          try { Java.type('java.lang.System'); return 'reached the host'; }
          catch (e) { return 'denied: ' + e.name; }
        };
        """));
    assertThat(invoke("java", "{}")).startsWith("\"denied: ");
  }

  @Test
  void sandbox_noHostFiles_codeIsReadOnly() {
    register("files", "index.handler", Map.of("index.js", """
        const fs = require('fs');
        const attempt = (f) => { try { return 'ok:' + f(); } catch (e) { return e.code || e.name; } };
        exports.handler = async () => ({
          passwd: attempt(() => fs.readFileSync('/etc/passwd')),
          escape: attempt(() => fs.readFileSync('/var/task/../../etc/passwd')),
          load: attempt(() => load('/etc/passwd')),
          ownCode: attempt(() => fs.readFileSync('/var/task/index.js').length > 0),
          writeCode: attempt(() => fs.writeFileSync('/var/task/x', 'no')),
        });
        """));
    assertThat(invoke("files", "{}")).isEqualTo("{\"passwd\":\"ENOENT\",\"escape\":\"ENOENT\",\"load\":\"TypeError\","
        + "\"ownCode\":\"ok:true\",\"writeCode\":\"EACCES\"}");
  }

  @Test
  void sandbox_tmpIsWritable_andPrivateToTheEnvironment_globalsToo() {
    String writer = """
        const fs = require('fs');
        exports.handler = async () => {
          fs.writeFileSync('/tmp/x', 'secret');
          globalThis.shared = 'secret';
          return fs.readFileSync('/tmp/x');
        };
        """;
    String reader = """
        const fs = require('fs');
        exports.handler = async () => ({ tmp: fs.existsSync('/tmp/x'), global: typeof globalThis.shared });
        """;
    register("writer", "index.handler", Map.of("index.js", writer));
    register("reader", "index.handler", Map.of("index.js", reader));
    assertThat(invoke("writer", "{}")).isEqualTo("\"secret\"");
    assertThat(invoke("reader", "{}")).isEqualTo("{\"tmp\":false,\"global\":\"undefined\"}");
  }

  @Test
  void invalidJsonPayload_isRejectedBeforeTheHandlerRuns() {
    register("strict", "index.handler", Map.of("index.js", "exports.handler = async (e) => e;\n"));
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> engine.invoke("strict", "{nope"));
    assertThat(thrown).isInstanceOf(dev.embla.faas.InvalidRequestContentException.class);
    assertThat(invoke("strict", "[1]")).isEqualTo("[1]");
  }
}
