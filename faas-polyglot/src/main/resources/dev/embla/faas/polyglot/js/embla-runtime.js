// Embla's Node.js-style runtime layer for GraalJS, evaluated once per execution environment (context).
// GraalJS has no event loop, no require, no process and no fs: this file supplies small, honest versions of each,
// over the host functions in `host` (see JsEnvironment). It returns the driver the host calls for Init and Invoke.
(function (hostProxy, envPairs) {
  'use strict';
  const g = globalThis;
  const SELF = 'embla-runtime.js';
  // Every member read on the host's proxy object crosses into Java: read each host function once, here.
  const host = {};
  for (const name of ['write', 'setTimer', 'clearTimer', 'succeeded', 'failed', 'badPayload', 'uncaught', 'stat',
    'readText', 'compile', 'fs', 'remaining', 'micros']) {
    host[name] = hostProxy[name];
  }

  // ---- errors in Lambda's shape ----
  function describe(e) {
    if (e !== null && typeof e === 'object') {
      const stack = typeof e.stack === 'string'
        ? e.stack.split('\n').filter((l) => /^\s+at /.test(l) && !l.includes(SELF))
        : [];
      const name = e.name || (e.constructor && e.constructor.name) || 'Error';
      return { type: String(name), message: e.message === undefined ? '' : String(e.message), stack };
    }
    // Lambda's Node runtime reports a thrown primitive by its typeof
    return { type: typeof e, message: String(e), stack: [] };
  }
  // What escaped the loading of the function's module (Init), as Lambda's loader (UserFunction.js) wraps it: a
  // SyntaxError becomes Runtime.UserCodeSyntaxError and an error with code MODULE_NOT_FOUND (require's) becomes
  // Runtime.ImportModuleError, each with the original's toString() as its message; anything else is itself.
  function describeLoadFailure(e) {
    const d = describe(e);
    let type = null;
    if (e instanceof SyntaxError) type = 'Runtime.UserCodeSyntaxError';
    else if (e !== null && typeof e === 'object' && e.code === 'MODULE_NOT_FOUND') type = 'Runtime.ImportModuleError';
    return type === null ? d : { type, message: String(e), stack: d.stack };
  }

  // ---- console: one host line per printed line ----
  function inspect(v) {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return v.stack || String(v);
    if (typeof v === 'function') return '[Function: ' + (v.name || 'anonymous') + ']';
    if (typeof v === 'bigint') return v + 'n';
    if (v === undefined || typeof v === 'symbol') return String(v);
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (err) { return String(v); }
  }
  function format(args) {
    if (args.length === 0) return '';
    let i = 0;
    let out = '';
    if (typeof args[0] === 'string' && args[0].includes('%')) {
      const f = args[0];
      i = 1;
      out = f.replace(/%[sdifjoO%]/g, (m) => {
        if (m === '%%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        switch (m) {
          case '%s': return typeof a === 'string' ? a : inspect(a);
          case '%d': case '%i': return String(m === '%i' ? parseInt(a) : Number(a));
          case '%f': return String(parseFloat(a));
          default: return inspect(a);
        }
      });
    } else {
      out = inspect(args[0]);
      i = 1;
    }
    for (; i < args.length; i++) out += ' ' + inspect(args[i]);
    return out;
  }
  const out = (...a) => host.write(0, format(a));
  const err = (...a) => host.write(1, format(a));
  g.console = { log: out, info: out, debug: out, trace: out, warn: err, error: err };

  // ---- timers: the host keeps the queue and runs it on the invoking thread ----
  function timerCallback(fn, args) {
    if (typeof fn !== 'function') {
      throw new TypeError('The "callback" argument must be of type function. Received ' + typeof fn);
    }
    return () => {
      try { fn(...args); } catch (e) { host.uncaught(describe(e)); }
    };
  }
  function delay(ms) {
    const n = Number(ms);
    return n >= 1 && n <= 2147483647 ? Math.floor(n) : 1; // Node's rule: anything else is 1 ms
  }
  class Timeout {
    constructor(id) { this.id = id; }
    ref() { return this; }
    unref() { return this; }
    hasRef() { return true; }
    refresh() { return this; }
    [Symbol.toPrimitive]() { return this.id; }
  }
  const clear = (t) => {
    if (t instanceof Timeout) host.clearTimer(t.id);
    else if (typeof t === 'number') host.clearTimer(t);
  };
  g.setTimeout = (fn, ms, ...args) => new Timeout(host.setTimer(timerCallback(fn, args), delay(ms), false));
  g.setInterval = (fn, ms, ...args) => new Timeout(host.setTimer(timerCallback(fn, args), delay(ms), true));
  g.setImmediate = (fn, ...args) => new Timeout(host.setTimer(timerCallback(fn, args), 0, false));
  g.clearTimeout = clear;
  g.clearInterval = clear;
  g.clearImmediate = clear;
  if (typeof g.queueMicrotask !== 'function') {
    g.queueMicrotask = (fn) => { Promise.resolve().then(() => fn()); };
  }

  // ---- performance: Node's high-resolution clock, milliseconds since the environment started ----
  // GraalJS has no performance object of its own here; the host's monotonic clock serves it and process.hrtime, in
  // steps of 20 microseconds (see JsEnvironment). timeOrigin is the wall-clock time of that start, from the host.
  g.performance = { now: () => host.micros() / 1000, timeOrigin: host.micros(true) / 1000 };
  // User Timing as Node 20 has it (lib/internal/perf/usertiming.js): mark, measure, the entry lists, clear, with
  // Node's argument rules and error codes. Entries stay until cleared, as in Node, for the life of the environment.
  // Differences: no Node milestone names ('nodeStart', ...) as marks, and detail is copied through JSON rather than
  // structuredClone, which GraalJS lacks (so a Date becomes a string; a function is refused, as Node refuses it).
  {
    const perf = g.performance;
    const typeError = (code, message) => Object.assign(new TypeError(message), { code });
    const received = (v) => (v == null ? ` Received ${v}`
      : typeof v === 'string' ? ` Received type string ('${v}')`
        : typeof v === 'object' || typeof v === 'function' ? ` Received ${typeof v}`
          : ` Received type ${typeof v} (${String(v)})`);
    const invalidTimestamp = (t) => typeError('ERR_PERFORMANCE_INVALID_TIMESTAMP', `${t} is not a valid timestamp`);
    const copyDetail = (detail) => {
      if (detail == null) return null;
      if (typeof detail === 'function' || typeof detail === 'symbol') {
        throw Object.assign(new Error(`${String(detail)} could not be cloned.`), { name: 'DataCloneError', code: 25 });
      }
      return typeof detail === 'object' ? JSON.parse(JSON.stringify(detail)) : detail;
    };
    class PerformanceEntry {
      #name; #entryType; #startTime; #duration; #detail;
      constructor(name, entryType, startTime, duration, detail) {
        this.#name = name;
        this.#entryType = entryType;
        this.#startTime = startTime;
        this.#duration = duration;
        this.#detail = detail;
      }
      get name() { return this.#name; }
      get entryType() { return this.#entryType; }
      get startTime() { return this.#startTime; }
      get duration() { return this.#duration; }
      get detail() { return this.#detail; }
      toJSON() {
        return { name: this.#name, entryType: this.#entryType, startTime: this.#startTime, duration: this.#duration,
          detail: this.#detail };
      }
    }
    class PerformanceMark extends PerformanceEntry {}
    class PerformanceMeasure extends PerformanceEntry {}
    const marks = [];
    const measures = [];
    const markTimes = new Map(); // name -> the latest mark's time, as Node keeps it
    const markTime = (name) => {
      if (name === undefined) return undefined;
      if (typeof name === 'number') {
        if (name < 0) throw invalidTimestamp(name);
        return name;
      }
      const t = markTimes.get(`${name}`);
      if (t === undefined) {
        throw Object.assign(new Error(`The "${name}" performance mark has not been set`),
          { name: 'SyntaxError', code: 12 });
      }
      return t;
    };
    perf.mark = function mark(name, options) {
      if (arguments.length === 0) throw typeError('ERR_MISSING_ARGS', 'The "name" argument must be specified');
      name = `${name}`;
      const o = options == null ? {} : options;
      const startTime = o.startTime ?? perf.now();
      if (typeof startTime !== 'number') {
        throw typeError('ERR_INVALID_ARG_TYPE',
          'The "startTime" argument must be of type number.' + received(startTime));
      }
      if (startTime < 0) throw invalidTimestamp(startTime);
      const m = new PerformanceMark(name, 'mark', startTime, 0, copyDetail(o.detail));
      markTimes.set(name, startTime);
      marks.push(m);
      return m;
    };
    perf.measure = function measure(name, startOrOptions, endMark) {
      if (typeof name !== 'string') {
        throw typeError('ERR_INVALID_ARG_TYPE', 'The "name" argument must be of type string.' + received(name));
      }
      let options = startOrOptions;
      if (options === null || (typeof options === 'object' && Object.keys(options).length === 0)) options = undefined;
      let start;
      let end;
      let duration;
      let detail = null;
      let optionsValid = false;
      if (typeof options === 'object') {
        ({ start, end, duration } = options);
        detail = options.detail;
        optionsValid = start !== undefined || end !== undefined;
      }
      if (optionsValid) {
        if (endMark !== undefined) {
          throw typeError('ERR_PERFORMANCE_MEASURE_INVALID_OPTIONS', 'endMark must not be specified');
        }
        if (start !== undefined && end !== undefined && duration !== undefined) {
          throw typeError('ERR_PERFORMANCE_MEASURE_INVALID_OPTIONS',
            'Must not have options.start, options.end, and options.duration specified');
        }
      }
      let endTime;
      if (endMark !== undefined) endTime = markTime(endMark);
      else if (optionsValid && end !== undefined) endTime = markTime(end);
      else if (optionsValid && start !== undefined && duration !== undefined) {
        endTime = markTime(start) + markTime(duration);
      }
      else endTime = perf.now();
      let startTime;
      if (typeof options === 'string') startTime = markTime(options);
      else if (optionsValid && start !== undefined) startTime = markTime(start);
      else if (optionsValid && duration !== undefined) startTime = endTime - markTime(duration);
      else startTime = 0;
      const m = new PerformanceMeasure(name, 'measure', startTime, endTime - startTime, copyDetail(detail));
      measures.push(m);
      return m;
    };
    // Marks before measures, then a stable sort by start time: Node keeps them in two buffers, in that order.
    const byStart = (list) => list.sort((x, y) => x.startTime - y.startTime);
    const ofType = (type) => (type === 'mark' ? marks : type === 'measure' ? measures : []);
    perf.getEntries = () => byStart(marks.concat(measures));
    perf.getEntriesByType = (type) => byStart(ofType(`${type}`).slice());
    perf.getEntriesByName = (name, type) => {
      name = `${name}`;
      const list = type === undefined ? marks.concat(measures) : ofType(`${type}`);
      return byStart(list.filter((e) => e.name === name));
    };
    const clear = (list, forget) => (name) => {
      if (name === undefined) {
        list.length = 0;
        if (forget) markTimes.clear();
        return;
      }
      name = `${name}`;
      for (let i = list.length - 1; i >= 0; i--) if (list[i].name === name) list.splice(i, 1);
      if (forget) markTimes.delete(name);
    };
    perf.clearMarks = clear(marks, true);
    perf.clearMeasures = clear(measures, false);
    perf.toJSON = () => ({ timeOrigin: perf.timeOrigin });
    Object.assign(g, { PerformanceEntry, PerformanceMark, PerformanceMeasure });
  }

  // ---- process: the function's own variables only ----
  const nowNanos = () => BigInt(host.micros()) * 1000n;
  const env = {};
  for (let i = 0; i + 1 < envPairs.length; i += 2) env[envPairs[i]] = envPairs[i + 1];
  // Read before the function's code runs, which may change process.env; the context keeps Lambda's name.
  const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME;
  g.process = {
    env,
    argv: ['/var/lang/bin/node'],
    platform: 'linux',
    version: 'v22.0.0',
    versions: {},
    cwd: () => '/var/task',
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    hrtime: Object.assign((previous) => {
      const ns = nowNanos();
      if (previous !== undefined && !(Array.isArray(previous) && previous.length === 2
          && Number.isInteger(previous[0]) && Number.isInteger(previous[1]))) {
        const e = new TypeError('The "time" argument must be an instance of Array of two integers');
        e.code = 'ERR_INVALID_ARG_TYPE';
        throw e;
      }
      const base = previous ? BigInt(previous[0]) * 1000000000n + BigInt(previous[1]) : 0n;
      let d = ns - base;
      let s = d / 1000000000n;
      let rest = d % 1000000000n;
      if (rest < 0n) { s -= 1n; rest += 1000000000n; } // a later time given: Node's [s - 1, ns + 1e9] shape
      return [Number(s), Number(rest)];
    }, { bigint: () => nowNanos() }),
  };

  // ---- paths ----
  function normalize(p) {
    const parts = [];
    for (const s of p.split('/')) {
      if (!s || s === '.') continue;
      if (s === '..') parts.pop(); else parts.push(s);
    }
    return '/' + parts.join('/');
  }
  function dirname(p) {
    const i = p.lastIndexOf('/');
    return i <= 0 ? '/' : p.slice(0, i);
  }
  const path = {
    sep: '/',
    delimiter: ':',
    normalize,
    dirname,
    join: (...ps) => { const j = normalize(ps.join('/')); return ps.length && String(ps[0]).startsWith('/') ? j : j.slice(1) || '.'; },
    resolve: (...ps) => { let r = '/var/task'; for (const p of ps) r = String(p).startsWith('/') ? p : r + '/' + p; return normalize(r); },
    basename: (p, ext) => { let b = String(p).split('/').filter(Boolean).pop() || ''; if (ext && b.endsWith(ext)) b = b.slice(0, -ext.length); return b; },
    extname: (p) => { const b = path.basename(p); const i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); },
    isAbsolute: (p) => String(p).startsWith('/'),
  };
  path.posix = path;

  // ---- fs: /var/task read-only and /tmp read-write, text only ----
  function fsCall(op, p, data) {
    const r = host.fs(op, String(p), data === undefined ? null : data);
    if (r.code) {
      const e = new Error(r.code + ': ' + r.message + ", " + op + " '" + p + "'");
      e.code = r.code;
      e.path = String(p);
      throw e;
    }
    return r.ok;
  }
  const fs = {
    readFileSync: (p) => fsCall('read', p),
    writeFileSync: (p, data) => { fsCall('write', p, String(data)); },
    appendFileSync: (p, data) => { fsCall('append', p, String(data)); },
    existsSync: (p) => { try { return fsCall('exists', p) === true; } catch (e) { return false; } },
    readdirSync: (p) => Array.from(fsCall('readdir', p)),
    mkdirSync: (p, o) => { fsCall(o && o.recursive ? 'mkdirs' : 'mkdir', p); },
    unlinkSync: (p) => { fsCall('unlink', p); },
  };
  fs.promises = {
    readFile: async (p) => fs.readFileSync(p),
    writeFile: async (p, d) => fs.writeFileSync(p, d),
    appendFile: async (p, d) => fs.appendFileSync(p, d),
    readdir: async (p) => fs.readdirSync(p),
    mkdir: async (p, o) => fs.mkdirSync(p, o),
    unlink: async (p) => fs.unlinkSync(p),
  };
  const timers = { setTimeout: g.setTimeout, setInterval: g.setInterval, setImmediate: g.setImmediate,
    clearTimeout: clear, clearInterval: clear, clearImmediate: clear };
  const builtins = { fs, path, timers, 'fs/promises': fs.promises, perf_hooks: { performance: g.performance,
    PerformanceEntry: g.PerformanceEntry, PerformanceMark: g.PerformanceMark,
    PerformanceMeasure: g.PerformanceMeasure } };

  // ---- CommonJS: Node's resolution over /var/task, files compiled (and cached) by the host ----
  const cache = Object.create(null);
  const isFile = (p) => host.stat(p) === 1;
  function tryFile(p) {
    if (isFile(p)) return p;
    for (const ext of ['.js', '.json', '.cjs']) if (isFile(p + ext)) return p + ext;
    return null;
  }
  function tryIndex(p) {
    for (const n of ['/index.js', '/index.json', '/index.cjs']) if (isFile(p + n)) return p + n;
    return null;
  }
  function tryDirectory(p) {
    if (host.stat(p) !== 2) return null;
    if (isFile(p + '/package.json')) {
      let main;
      try { main = JSON.parse(host.readText(p + '/package.json')).main; } catch (e) { main = undefined; }
      if (typeof main === 'string' && main) {
        const m = normalize(p + '/' + main);
        const r = tryFile(m) || tryIndex(m);
        if (r) return r;
      }
    }
    return tryIndex(p);
  }
  // parent: the requiring module (null for the global require), whose chain is Node's "Require stack"
  function resolve(request, fromDir, parent) {
    if (request === '.' || request === '..' || request.startsWith('./') || request.startsWith('../')
        || request.startsWith('/')) {
      const base = normalize(request.startsWith('/') ? request : fromDir + '/' + request);
      const r = tryFile(base) || tryDirectory(base);
      if (r) return r;
    } else {
      for (let dir = fromDir; ; dir = dirname(dir)) {
        if (!dir.endsWith('/node_modules')) {
          const base = normalize(dir + '/node_modules/' + request);
          const r = tryFile(base) || tryDirectory(base);
          if (r) return r;
        }
        if (dir === '/') break;
      }
    }
    const requireStack = [];
    for (let m = parent; m; m = m.parent) requireStack.push(m.filename);
    const e = new Error("Cannot find module '" + request + "'"
      + (requireStack.length ? '\nRequire stack:\n- ' + requireStack.join('\n- ') : ''));
    e.code = 'MODULE_NOT_FOUND';
    e.requireStack = requireStack;
    throw e;
  }
  function load(filename, parent) {
    const cached = cache[filename];
    if (cached) return cached.exports;
    const module = { id: filename, filename, exports: {}, parent: parent || null, loaded: false, children: [] };
    cache[filename] = module;
    try {
      if (filename.endsWith('.json')) {
        module.exports = JSON.parse(host.readText(filename));
      } else {
        const dir = dirname(filename);
        host.compile(filename).call(module.exports, module.exports, makeRequire(dir, module), module, filename, dir);
      }
    } catch (e) {
      delete cache[filename]; // as Node does: a failed module is retried by the next require
      throw e;
    }
    module.loaded = true;
    return module.exports;
  }
  function makeRequire(dir, parent) {
    const require = (request) => {
      if (typeof request !== 'string' || request === '') {
        throw new TypeError('The "id" argument must be a non-empty string');
      }
      const name = request.startsWith('node:') ? request.slice(5) : request;
      if (Object.prototype.hasOwnProperty.call(builtins, name)) return builtins[name];
      return load(resolve(request, dir, parent), parent);
    };
    require.resolve = (request) => resolve(request, dir, parent);
    require.cache = cache;
    return require;
  }
  g.require = makeRequire('/var/task', null);

  // ---- the driver ----
  // What the context says about the function itself; the host sets it before the first invoke and again only when it
  // changes (an environment serves one version, so in practice once), so that an invoke carries two strings, not six.
  let functionName;
  let functionVersion;
  let memoryLimitInMB;
  let invokedFunctionArn;
  const remaining = () => host.remaining();
  return {
    describe,
    describeLoadFailure,
    load,
    identity(name, version, memory, arn) {
      functionName = name;
      functionVersion = version;
      memoryLimitInMB = String(memory); // a string in Lambda's Node runtime too
      invokedFunctionArn = arn;
    },
    // `number` tells the host which invocation a settlement is for: one left open by an earlier invocation may settle
    // during a later one, and the host ignores it.
    invoke(handler, payload, requestId, number) {
      let event;
      try {
        event = payload.length === 0 ? null : JSON.parse(payload);
      } catch (e) {
        host.badPayload(String(e.message));
        return;
      }
      let done = false;
      const context = {
        awsRequestId: requestId,
        functionName,
        functionVersion,
        memoryLimitInMB,
        invokedFunctionArn,
        logGroupName: '/aws/lambda/' + functionName,
        logStreamName,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: remaining,
      };
      const finish = (error, value, viaCallback) => {
        if (done) return;
        done = true;
        if (error !== null && error !== undefined) {
          host.failed(number, describe(error));
          return;
        }
        let json;
        try {
          json = JSON.stringify(value);
        } catch (e) {
          host.failed(number, describe(e));
          return;
        }
        host.succeeded(number, json === undefined ? 'null' : json,
          viaCallback && context.callbackWaitsForEmptyEventLoop !== false);
      };
      const callback = (error, value) => finish(error, value, true);
      context.done = callback;
      context.succeed = (value) => finish(null, value, true);
      context.fail = (error) => finish(error === undefined || error === null ? new Error('failed') : error, undefined, true);
      let result;
      try {
        result = handler(event, context, callback);
      } catch (e) {
        finish(e === undefined || e === null ? new Error(String(e)) : e, undefined, false);
        return;
      }
      // As in Lambda: a promise settles the invocation; anything else waits for the callback (or an empty loop).
      if (result !== null && (typeof result === 'object' || typeof result === 'function')
          && typeof result.then === 'function') {
        result.then((v) => finish(null, v, false),
          (e) => finish(e === undefined || e === null ? new Error('Promise rejected with ' + e) : e, undefined, false));
      }
    },
  };
})
