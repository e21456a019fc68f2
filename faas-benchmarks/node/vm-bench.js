'use strict';
// The Node.js reference for JsBenchmark: the same handler file (src/main/resources/.../js/index.js, which JsBenchmark
// runs on GraalJS) run in Node's vm module, timed per operation and reported as percentiles in JMH's units.
//
//   node faas-benchmarks/node/vm-bench.js [all|cold|warm|warm-invoke] [--warmup SECONDS] [--measure SECONDS]
//
// cold         a new vm.Context, the wrapped module source compiled and run in it (Init), and the first call: the
//              event parsed from the JSON payload, the handler called, its promise awaited and the result
//              JSON-serialised (JsBenchmark.jsColdStart does all of that and more).
// warm         the handler called on a function, event and context the script holds (JsBenchmark.jsDirect).
// warm-invoke  a warm call as a Lambda runtime makes it: JSON.parse of the payload, a fresh context object, the call,
//              the promise awaited, JSON.stringify of the result (the guest-side work of JsBenchmark.jsWarmInvoke).
//
// Plain node, no npm packages. Each mode runs its warm-up for --warmup seconds (default 6, as JMH's 3 x 2 s), then
// samples for --measure seconds (default 10, as JMH's 5 x 2 s).
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const HANDLER_FILE = path.join(__dirname, '..', 'src', 'main', 'resources', 'dev', 'embla', 'faas', 'benchmarks', 'js',
  'index.js');
const PAYLOAD = '{"name":"embla","n":41}';
const EXPECTED = '{"greeting":"hello embla","n":42,"requestId":"req"}';
// The wrapper Node (and Embla's nodejs runtime) puts around a CommonJS file.
const SOURCE = '(function (exports, require, module, __filename, __dirname) { '
  + fs.readFileSync(HANDLER_FILE, 'utf8') + '\n})';

function parseArgs(argv) {
  const opts = { mode: 'all', warmup: 6, measure: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--warmup' || a === '--measure') {
      const v = Number(argv[++i]);
      if (!(v > 0)) throw new Error(a + ' must be a positive number of seconds, was ' + argv[i]);
      opts[a.slice(2)] = v;
    } else if (['all', 'cold', 'warm', 'warm-invoke'].includes(a)) {
      opts.mode = a;
    } else {
      throw new Error("unknown argument '" + a + "' (expected all|cold|warm|warm-invoke, --warmup S, --measure S)");
    }
  }
  return opts;
}

function newContextObject(requestId) {
  return {
    awsRequestId: requestId,
    functionName: 'js',
    functionVersion: '$LATEST',
    memoryLimitInMB: '128',
    invokedFunctionArn: 'arn:embla:lambda:local:000000000000:function:js',
    getRemainingTimeInMillis: () => 3000,
  };
}

// Init in a new context: what a cold start does before its first call.
function loadInNewContext() {
  const context = vm.createContext({});
  const script = new vm.Script(SOURCE, { filename: '/var/task/index.js' });
  const module = { exports: {} };
  script.runInContext(context).call(module.exports, module.exports, undefined, module, '/var/task/index.js',
    '/var/task');
  return module.exports.handler;
}

async function invokeAsLambda(handler, payload, requestId) {
  const result = await handler(JSON.parse(payload), newContextObject(requestId));
  const json = JSON.stringify(result);
  return json === undefined ? 'null' : json;
}

async function cold() {
  return invokeAsLambda(loadInNewContext(), PAYLOAD, 'req');
}

const held = { handler: null, event: null, context: null };
function warm() {
  return held.handler(held.event, held.context);
}

async function warmInvoke() {
  return invokeAsLambda(held.handler, PAYLOAD, 'req');
}

function percentile(sorted, p) {
  const i = Math.ceil(p / 100 * sorted.length) - 1;
  return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
}

// Runs op until the time is up; with record, returns each call's duration in nanoseconds. With awaited, the promise
// op returns is awaited, so the time includes the microtasks it ran; warm's is not (neither is jsDirect's).
async function run(op, awaited, seconds, record) {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const samples = [];
  let sink = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    let r = op();
    if (awaited) r = await r;
    const t1 = process.hrtime.bigint();
    if (record) samples.push(Number(t1 - t0));
    if (r !== undefined && r !== null) sink++;
    if (t1 >= end) break;
  }
  if (sink === 0) throw new Error('the operation never returned a value');
  return samples;
}

async function measure(name, op, awaited, unit, opts) {
  await run(op, awaited, opts.warmup, false);
  const samples = await run(op, awaited, opts.measure, true);
  samples.sort((a, b) => a - b);
  const scale = unit === 'us' ? 1e3 : 1;
  const f = (ns) => (ns / scale).toFixed(unit === 'us' ? 1 : 0);
  const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
  console.log(`${name.padEnd(12)} n=${samples.length}  mean ${f(mean)}  p50 ${f(percentile(samples, 50))}  `
    + `p90 ${f(percentile(samples, 90))}  p99 ${f(percentile(samples, 99))}  p99.9 ${f(percentile(samples, 99.9))}  `
    + `max ${f(samples[samples.length - 1])}  ${unit}/op`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const answer = await cold();
  if (answer !== EXPECTED) throw new Error('the handler answered ' + answer + ', expected ' + EXPECTED);
  held.handler = loadInNewContext();
  held.event = JSON.parse(PAYLOAD);
  held.context = newContextObject('direct');
  console.log(`node ${process.version} (V8 ${process.versions.v8}), vm module, handler ${HANDLER_FILE}`);
  console.log(`warm-up ${opts.warmup} s, measurement ${opts.measure} s per mode; every call timed`);
  if (opts.mode === 'all' || opts.mode === 'cold') await measure('cold', cold, true, 'us', opts);
  if (opts.mode === 'all' || opts.mode === 'warm') await measure('warm', warm, false, 'ns', opts);
  if (opts.mode === 'all' || opts.mode === 'warm-invoke') await measure('warm-invoke', warmInvoke, true, 'ns', opts);
}

main().catch((e) => {
  console.error('vm-bench: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
