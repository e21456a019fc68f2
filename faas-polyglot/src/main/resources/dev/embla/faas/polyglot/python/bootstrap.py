# Embla's Lambda-style runtime layer for GraalPy, evaluated once per execution environment (context) as
# /var/runtime/bootstrap.py, the name Lambda's own Python runtime has, so that its frames are recognised and left out
# of a function's stack traces the same way. It mirrors awslambdaric: the handler module is imported by name,
# the event is json.loads of the payload, the response json.dumps of the result (both through the scanner and encoder
# the json module itself uses, see below), errors keep Lambda's shape, and the root logger gets Lambda's handler and
# format. The host calls the returned driver for Init and Invoke (PyEnvironment).


def _embla_bootstrap(host, function_name, function_version, memory_size, log_group_name, log_stream_name,
                     environment):
    # Only what every invocation needs is imported here: an idle environment keeps every module it imported, and
    # logging (with threading, string, weakref ...) and traceback (with linecache, tokenize ...) would hold about as
    # much heap again as the bare context, and take longer to import than the context takes to start. traceback is
    # imported when an error is reported, and logging is configured as Lambda configures it when the function (or a
    # library of its) first imports it, below.
    #
    # Nor json, nor os: both are modules written in Python, and json brings re, enum, functools and collections with
    # it. Importing them took about a third of a cold start's time and allocation, and the module-level code they run
    # (enum's class machinery above all) gets hot inside each new context, so the Graal compiler compiled it again for
    # every environment: most of what it compiled in a steady stream of cold starts, and the garbage it allocated
    # doing so set the pace of the collections. The three modules below are built into GraalPy and cost nothing.
    import _json
    import posix
    import sys

    # the name the host gave this source; its frames are the runtime's, not the function's
    bootstrap_file = (lambda: 0).__code__.co_filename

    # The function's code is the first place imports look, as in Lambda (LAMBDA_TASK_ROOT); the working directory is
    # /var/task too.
    sys.path.insert(0, '/var/task')
    # The function sees its own variables and no others (GraalPy adds one of its own), whether its context was built
    # with them or made blank ahead of need: environment is the variables as [name, value, name, value, ...]. os.environ
    # is built from posix.environ when os is first imported, which has not happened yet.
    posix.environ.clear()
    for i in range(0, len(environment), 2):
        posix.environ[str(environment[i]).encode('utf-8', 'surrogatepass')] = \
            str(environment[i + 1]).encode('utf-8', 'surrogatepass')
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass

    state = {'request_id': ''}

    # ---- logging: awslambdaric's handler, filter and format on the root logger ----
    def configure_logging(logging):
        import time

        class LambdaLoggerHandler(logging.Handler):
            def emit(self, record):
                try:
                    text = self.format(record)
                except Exception:
                    self.handleError(record)
                    return
                for line in text.rstrip('\n').split('\n'):
                    host.log(line)

        class LambdaLoggerFilter(logging.Filter):
            def filter(self, record):
                record.aws_request_id = state['request_id']
                return True

        formatter = logging.Formatter(
            '[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s', '%Y-%m-%dT%H:%M:%S')
        formatter.converter = time.gmtime
        handler = LambdaLoggerHandler()
        handler.setFormatter(formatter)
        handler.addFilter(LambdaLoggerFilter())
        logging.Logger.root.addHandler(handler)
        import os  # logging has imported it already
        level = os.environ.get('AWS_LAMBDA_LOG_LEVEL')
        if level:
            logging.Logger.root.setLevel(level.upper())

    class ConfigureLoggingOnImport:
        """A meta path finder that lets the import system find logging as it would, and configures the module once
        it has run, before the importer gets it: by 'import logging', importlib or a library, from Init or an invoke."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name != 'logging':
                return None
            sys.meta_path.remove(ConfigureLoggingOnImport)
            spec = None
            for finder in sys.meta_path:
                find = getattr(finder, 'find_spec', None)
                spec = find(name, path, target) if find is not None else None
                if spec is not None:
                    break
            if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'):
                return spec
            spec.loader = ConfiguringLoader(spec.loader)
            return spec

    class ConfiguringLoader:
        def __init__(self, loader):
            self.loader = loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            # the module keeps its real loader, so that nothing of the runtime shows through it
            module.__loader__ = self.loader
            module.__spec__.loader = self.loader
            self.loader.exec_module(module)
            configure_logging(module)

    if 'logging' in sys.modules:
        configure_logging(sys.modules['logging'])
    else:
        sys.meta_path.insert(0, ConfigureLoggingOnImport)

    # ---- the context object, with Lambda's names ----
    class LambdaContext:
        def __init__(self, request_id, arn, remaining):
            self.aws_request_id = request_id
            self.invoked_function_arn = arn
            self.function_name = function_name
            self.function_version = function_version
            # a string in Lambda's Python runtime too (read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE)
            self.memory_limit_in_mb = str(memory_size)
            self.log_group_name = log_group_name
            self.log_stream_name = log_stream_name
            self.identity = None
            self.client_context = None
            self._remaining = remaining

        def get_remaining_time_in_millis(self):
            return int(self._remaining())

        def __repr__(self):
            return ('LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,'
                    'memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s])' % (
                        self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
                        self.memory_limit_in_mb, self.function_version, self.invoked_function_arn))

    # ---- errors in Lambda's shape: [kind, errorType, errorMessage, stackTrace, discard] ----
    def frames(tb):
        import traceback
        entries = traceback.extract_tb(tb)
        # awslambdaric drops the leading frames of its own bootstrap
        while entries and entries[0].filename == bootstrap_file:
            entries = entries[1:]
        return traceback.format_list(entries)

    def failure(kind, error_type, message, stack=(), discard=False):
        return [kind, error_type, message, list(stack), discard]

    def from_exception(kind, e):
        # A MemoryError or RecursionError may have left the module's state half-changed: not reused.
        discard = isinstance(e, (MemoryError, RecursionError))
        return failure(kind, type(e).__name__, str(e), frames(e.__traceback__), discard)

    def exit_failure(e):
        status = e.code if isinstance(e, SystemExit) else 1
        if status is None:
            status = 0
        elif not isinstance(status, int):
            status = 1
        return failure('EXIT', 'Runtime.ExitError',
                       'RequestId: %s Error: Runtime exited with error: exit status %s' % (state['request_id'], status))

    def flush():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

    # ---- JSON: json.loads and json.dumps without the json module ----
    # The json module's loads and dumps are thin Python over _json's scanner and encoder (GraalPy implements both in
    # Java, as CPython does in C); these are the same calls with the same arguments, so events and responses come out
    # exactly as awslambdaric's json.loads(payload) and json.dumps(result, default=decimal_serializer) make them.
    def reject_constant(name):
        raise ValueError('%s is not valid JSON' % name)

    class DecoderSettings:
        # what JSONDecoder() holds and the scanner reads; parse_constant refuses NaN and Infinity, which are not JSON
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = staticmethod(reject_constant)

    decoder_settings = DecoderSettings()
    json_whitespace = ' \t\n\r'

    def decode_error(message, doc, pos):
        # json.JSONDecodeError's message, without importing json for it
        line = doc.count('\n', 0, pos) + 1
        column = pos - doc.rfind('\n', 0, pos)
        return ValueError('%s: line %d column %d (char %d)' % (message, line, column, pos))

    def json_loads(doc):
        if doc.startswith('\ufeff'):
            raise decode_error('Unexpected UTF-8 BOM (decode using utf-8-sig)', doc, 0)
        start = len(doc) - len(doc.lstrip(json_whitespace))
        # A scanner per document, as json.loads(payload, parse_constant=...) makes one: GraalPy's scanner keeps every
        # object key it has seen in a memo it never clears, which a long-lived one would grow without bound.
        scan_once = _json.make_scanner(decoder_settings)
        try:
            value, end = scan_once(doc, start)
        except StopIteration as e:
            raise decode_error('Expecting value', doc, e.value) from None
        end = len(doc) - len(doc[end:].lstrip(json_whitespace))
        if end != len(doc):
            raise decode_error('Extra data', doc, end)
        return value

    def decimal_serializer(o):
        # as awslambdaric does; a Decimal exists only if the function imported decimal, so it is not imported here
        decimal = sys.modules.get('decimal')
        if decimal is not None and isinstance(o, decimal.Decimal):
            return float(o)
        raise TypeError(repr(o) + ' is not JSON serializable')

    def json_dumps(value):
        if isinstance(value, str):
            return _json.encode_basestring_ascii(value)
        # JSONEncoder(default=decimal_serializer)'s settings: circular references checked (in a fresh markers dict),
        # ASCII only, NaN allowed, keys unsorted and not skipped, separators ', ' and ': ', no indent. An encoder per
        # result, as json.dumps makes one: GraalPy's keeps its own record of the containers it is inside, and one that
        # failed part way would take those containers for circular references the next time.
        encode = _json.make_encoder({}, decimal_serializer, _json.encode_basestring_ascii, None, ': ', ', ',
                                    False, False, True)
        return ''.join(encode(value, 0))

    class Driver:
        def __init__(self):
            self.handler = None

        def init(self, handler_string):
            try:
                try:
                    modname, fname = handler_string.rsplit('.', 1)
                except ValueError as e:
                    return failure('INIT', 'Runtime.MalformedHandlerName',
                                   "Bad handler '%s': %s" % (handler_string, e))
                try:
                    if modname.split('.')[0] in sys.builtin_module_names:
                        return failure('INIT', 'Runtime.BuiltInModuleConflict',
                                       'Cannot use built-in module %s as a handler module' % modname)
                    # importlib.import_module without importing importlib: __import__ returns the top package
                    dotted = modname.replace('/', '.')
                    __import__(dotted)
                    module = sys.modules[dotted]
                except ImportError as e:
                    return failure('INIT', 'Runtime.ImportModuleError',
                                   "Unable to import module '%s': %s" % (modname, e))
                except SyntaxError as e:
                    trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
                    return failure('INIT', 'Runtime.UserCodeSyntaxError',
                                   "Syntax error in module '%s': %s" % (modname, e), trace)
                except Exception as e:
                    return from_exception('INIT', e)
                except BaseException as e:
                    return exit_failure(e)
                handler = getattr(module, fname, None)
                if handler is None:
                    return failure('INIT', 'Runtime.HandlerNotFound',
                                   "Handler '%s' missing on module '%s'" % (fname, modname))
                if not callable(handler):
                    return failure('INIT', 'Runtime.HandlerNotFound',
                                   "Handler '%s' on module '%s' is not callable" % (fname, modname))
                self.handler = handler
                return None
            finally:
                flush()

        def invoke(self, payload, request_id, arn, remaining):
            state['request_id'] = request_id
            try:
                try:
                    event = None if payload == '' else json_loads(payload)
                except ValueError as e:
                    return failure('BAD_PAYLOAD', 'Runtime.UnmarshalError', 'Unable to unmarshal input: %s' % e)
                context = LambdaContext(request_id, arn, remaining)
                try:
                    result = self.handler(event, context)
                except Exception as e:
                    return from_exception('HANDLER', e)
                except BaseException as e:
                    return exit_failure(e)
                try:
                    return json_dumps(result)
                except Exception as e:
                    return failure('HANDLER', 'Runtime.MarshalError', 'Unable to marshal response: %s' % e)
            finally:
                flush()
                state['request_id'] = ''

    return Driver()


# Evaluated in __main__: the source's value is this function, and __main__ keeps nothing of the runtime's. It is taken
# out here rather than inside the function, where globals() made GraalPy materialise the function's frame at every
# call it makes: once enough environments had started for the Graal compiler to take this once-per-environment
# function up, that compilation ran for 12 s, bailed out ("too many loop explosion iterations") and held hundreds of
# megabytes while it did.
globals().pop('_embla_bootstrap')
