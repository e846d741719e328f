# salespipe's runtime client for pythonX.Y functions (spec 7.6), written to
# $LAMBDA_RUNTIME_DIR/python_bootstrap.py and run with the machine's python3.
#
# It behaves like AWS's own runtime (awslambdaric): imports `module.function` from _HANDLER
# (folders as "dir/module", packages as "pkg.module"), loops on /invocation/next over one
# keep-alive connection, calls handler(event, context), posts the JSON result, and reports
# exceptions with AWS's error document {"errorMessage","errorType","requestId","stackTrace"}.
# Init failures go to /init/error (Runtime.ImportModuleError, Runtime.UserCodeSyntaxError,
# Runtime.MalformedHandlerName); a missing handler is Runtime.HandlerNotFound at invoke time.
# Only the standard library: the function's own packages stay in charge of everything else.
import decimal
import gc
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

_API_PREFIX = "/2018-06-01/runtime"
_BOOTSTRAP_FILE = os.path.abspath(__file__)


class _Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class _Response:
    def __init__(self, status, headers):
        self.status = status
        self.headers = headers  # lower-case names

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


class _RuntimeClient:
    """One keep-alive HTTP/1.1 connection to the Runtime API.

    A minimal client on a raw socket rather than http.client: the server is ours and always
    answers with Content-Length, and http.client's header parsing (email.parser) tripled the
    platform's share of a warm invoke (bench/lambda: 147 us -> 39 us p50 per invocation).
    """

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self._address = (host, int(port))
        self._sock = None
        self._buffer = bytearray()  # received, not yet parsed (appends are amortized O(1))

    def _connect(self):
        self._sock = socket.create_connection(self._address)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def _close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._buffer = bytearray()

    def _receive(self):
        data = self._sock.recv(65536)  # larger reads cost an mmap each
        if not data:
            raise ConnectionError("the Runtime API closed the connection")
        self._buffer += data

    def _exchange(self, method, path, body, headers):
        if self._sock is None:
            self._connect()
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, *self._address)
        for name, value in headers.items():
            head += "%s: %s\r\n" % (name, value)
        head += "Content-Length: %d\r\n\r\n" % len(body)
        self._sock.sendall(head.encode("latin-1") + body if len(body) < 65536
                           else head.encode("latin-1"))
        if len(body) >= 65536:
            self._sock.sendall(body)
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._receive()
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        del self._buffer[:end + 4]
        status = int(lines[0].split(" ", 2)[1])
        response_headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        if len(self._buffer) >= length:
            data = bytes(self._buffer[:length])
            del self._buffer[:length]
        else:
            # A large body (an event of megabytes) goes straight into its own buffer: no
            # staging copies, and a few large reads instead of 64 KB ones.
            data = bytearray(length)
            have = len(self._buffer)
            data[:have] = self._buffer
            self._buffer = bytearray()
            view = memoryview(data)
            while have < length:
                received = self._sock.recv_into(view[have:])
                if not received:
                    raise ConnectionError("the Runtime API closed the connection")
                have += received
            view.release()
        if response_headers.get("connection", "").lower() == "close":
            self._close()
        return _Response(status, response_headers), data

    def _call(self, method, path, body=b"", headers=None):
        # Reconnect once if the server dropped the connection (e.g. after a 413).
        for attempt in (0, 1):
            try:
                return self._exchange(method, path, body, headers or {})
            except (OSError, ValueError, IndexError):
                self._close()
                if attempt == 1:
                    raise

    def next(self):
        return self._call("GET", _API_PREFIX + "/invocation/next")

    def post_response(self, request_id, body):
        self._call("POST", "%s/invocation/%s/response" % (_API_PREFIX, request_id), body,
                   {"Content-Type": "application/json"})

    def post_error(self, request_id, document, error_type):
        self._call("POST", "%s/invocation/%s/error" % (_API_PREFIX, request_id),
                   json.dumps(document).encode(),
                   {"Content-Type": "application/json",
                    "Lambda-Runtime-Function-Error-Type": error_type})

    def post_init_error(self, document):
        self._call("POST", _API_PREFIX + "/init/error", json.dumps(document).encode(),
                   {"Content-Type": "application/json",
                    "Lambda-Runtime-Function-Error-Type": document["errorType"]})


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s,client_context=%s,identity=%s])" % (
                    self.aws_request_id, self.log_group_name, self.log_stream_name,
                    self.function_name, self.memory_limit_in_mb, self.function_version,
                    self.invoked_function_arn, self.client_context, self.identity))


class _ClientContext:
    def __init__(self, document):
        self.client = document.get("client")
        self.custom = document.get("custom")
        self.env = document.get("env")


def _decimal_serializer(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _to_json(value):
    return json.dumps(value, default=_decimal_serializer)


def _parse_event(body):
    # json.loads builds no reference cycles, but its thousands of new dicts and lists would
    # trigger young collections that walk the half-built event again and again: the collector
    # waits until it is built (one collection then, if due).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(body)
    finally:
        if enabled:
            gc.enable()


def _user_frames(tb):
    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if frame.filename != _BOOTSTRAP_FILE:
            return frames[i:]
    return []


def _error_document(exc, request_id):
    if isinstance(exc, _Fault):
        return {"errorMessage": exc.message, "errorType": exc.error_type,
                "requestId": request_id, "stackTrace": exc.trace}
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_list(_user_frames(exc.__traceback__))}


def _load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         "Cannot use built-in module %s as a handler module" % module_name)
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise _Fault("Runtime.ImportModuleError",
                     "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise _Fault("Runtime.UserCodeSyntaxError",
                     "Syntax error in module '%s': %s" % (module_name, e), trace)
    handler_function = getattr(module, function_name, None)
    if handler_function is None:
        fault = _Fault("Runtime.HandlerNotFound",
                       "Handler '%s' missing on module '%s'" % (function_name, module_name))

        def missing(event, context):
            raise fault
        return missing
    return handler_function


_current_request_id = ""


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current_request_id
        return True


def _install_log_handler():
    # As AWS's runtime: the root logger writes "[LEVEL]\t<time>Z\t<request id>\t<message>";
    # its level stays WARNING until the function sets it.
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _flush_logs():
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass


def main():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass
    global _current_request_id
    _install_log_handler()
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    client = _RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:  # an exception in the module's top level is reported as is
        document = _error_document(e, "")
        print("[ERROR] %s: %s" % (document["errorType"], document["errorMessage"]),
              file=sys.stderr)
        _flush_logs()
        client.post_init_error(document)
        sys.exit(1)
    # What exists now (the runtime, boto3 preloaded by the zygote, the function's module) lives
    # as long as the environment: frozen out of the cyclic collector, so that the collections
    # the invocations' many objects trigger do not walk it again and again.
    gc.freeze()

    while True:
        response, body = client.next()
        header = response.header
        request_id = header("Lambda-Runtime-Aws-Request-Id", "")
        _current_request_id = request_id
        trace_id = header("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        client_context = None
        raw_context = header("Lambda-Runtime-Client-Context")
        if raw_context:
            try:
                client_context = _ClientContext(json.loads(raw_context))
            except Exception:
                client_context = None
        identity = header("Lambda-Runtime-Cognito-Identity")
        context = LambdaContext(request_id,
                                int(header("Lambda-Runtime-Deadline-Ms", "0") or 0),
                                header("Lambda-Runtime-Invoked-Function-Arn"),
                                client_context, identity)
        try:
            event = _parse_event(body) if body else None
            result = handler(event, context)
            try:
                payload = _to_json(result).encode()
            except Exception as e:
                raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)
        except Exception as e:
            document = _error_document(e, request_id)
            print("[ERROR] %s: %s" % (document["errorType"], document["errorMessage"]),
                  file=sys.stderr)
            _flush_logs()
            client.post_error(request_id, document, document["errorType"])
            continue
        _flush_logs()
        client.post_response(request_id, payload)


# --- zygote mode (environment_zygote.h) ---------------------------------------------------
_CLONE_PARENT = 0x00008000
_PR_SET_PDEATHSIG = 1
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}


def _become_environment(request, fds, server_pid, libc, preloaded):
    """Runs in the forked child: turns the zygote's copy into a fresh environment."""
    import ctypes
    import signal
    code = 1
    try:
        os.setpgid(0, 0)
        libc.prctl(ctypes.c_long(_PR_SET_PDEATHSIG), ctypes.c_long(signal.SIGKILL),
                   ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
        if os.getppid() != server_pid:
            os._exit(127)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 1 << 20)
        cwd = request["cwd"]
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        # A function that ships its own copy of a preloaded package (boto3, botocore, ...)
        # gets its own, as it would on AWS: drop everything the zygote preloaded.
        roots = {name.split(".")[0] for name in preloaded}
        try:
            shipped = set(os.listdir(cwd))
        except OSError:
            shipped = set()
        if any(root in shipped or root + ".py" in shipped for root in roots):
            for name in preloaded:
                sys.modules.pop(name, None)
        sys.argv = [_BOOTSTRAP_FILE]
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    _flush_logs()
    os._exit(code)


def _zygote(control_fd):
    import ctypes
    import platform
    import signal
    import struct
    syscall_number = _SYS_CLONE.get(platform.machine())
    control = socket.socket(fileno=control_fd)
    if syscall_number is None:
        control.sendall(struct.pack("i", -38))  # ENOSYS: the runner falls back to exec
        os._exit(1)
    before = set(sys.modules)
    try:
        import boto3  # most functions import it first: ~0.2-0.5 s, paid once here
        # Warm botocore's loader (service models, endpoint rules) in the default session that a
        # function's boto3.client() uses. Credentials, region and endpoint stay unresolved: the
        # function's clients read them from its own environment, as without the zygote.
        for service in ("dynamodb", "s3", "kinesis", "firehose", "lambda", "sts"):
            boto3.client(service, region_name="us-east-1", aws_access_key_id="preload",
                         aws_secret_access_key="preload")
    except Exception:
        pass
    preloaded = [name for name in sys.modules if name not in before]
    # PyDLL: the GIL stays held across the clone, as os.fork() holds it.
    libc = ctypes.PyDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    server_pid = os.getppid()
    control.sendall(struct.pack("i", os.getpid()))  # ready
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)  # the server closed the socket
        pid = -22  # EINVAL
        try:
            request = json.loads(message)
            if len(fds) == 3:
                _flush_logs()
                ctypes.pythonapi.PyOS_BeforeFork()
                pid = libc.syscall(ctypes.c_long(syscall_number),
                                   ctypes.c_long(_CLONE_PARENT | signal.SIGCHLD),
                                   ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0),
                                   ctypes.c_long(0))
                if pid == 0:
                    ctypes.pythonapi.PyOS_AfterFork_Child()
                    control.close()
                    _become_environment(request, fds, server_pid, libc, preloaded)
                ctypes.pythonapi.PyOS_AfterFork_Parent()
                if pid < 0:
                    pid = -ctypes.get_errno()
        except Exception:
            traceback.print_exc()
        for fd in fds:
            os.close(fd)
        control.sendall(struct.pack("i", pid))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--zygote":
        _zygote(int(sys.argv[2]))
    else:
        main()
