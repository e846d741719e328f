"""Wire-test harness: a real salespipe server driven by boto3 and the AWS CLI.

Each test class gets its own server on a free loopback port with a fresh data directory:

    import harness

    class DynamoDbSmokeTest(harness.ServerTestCase):
        def test_list_tables(self):
            ddb = self.client("dynamodb")
            self.assertIsInstance(ddb.list_tables()["TableNames"], list)

        def test_cli(self):
            out = self.cli_json(["dynamodb", "list-tables"])

        def test_survives_kill9(self):
            ...write...
            self.kill9()
            self.restart()   # same data dir, same port: existing clients keep working
            ...read back...

Run one file with `python3 -m unittest -v test_smoke_cli` from tests/wire; ctest runs every
test_*.py that way with SALESPIPE_BIN set. Python 3.11 stdlib + boto3 + awscli only (no pytest).

Environment:
  SALESPIPE_BIN           the server binary (default: <repo>/build/src/server/salespipe)
  SALESPIPE_WIRE_LOG_DIR  where each class's server stderr is kept (default: its temp dir,
                          removed at the end); ctest sets build/tests/wire/logs
  SALESPIPE_KEEP_TMP=1    keep the temporary data directories for inspection
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from typing import Any, Sequence

import boto3
import botocore.config

REGION = "us-east-1"
# AWS's documented example keys: shaped like real ones, valid nowhere.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 120.0

_REPO_ROOT = Path(__file__).resolve().parents[2]
_LISTENING_RE = re.compile(
    r"salespipe listening on http://(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d+)")

# Servers still running when the interpreter exits (a crash or Ctrl-C in the middle of a
# class) are killed rather than left behind.
_live_servers: "weakref.WeakSet[_Server]" = weakref.WeakSet()


@atexit.register
def _kill_leftover_servers() -> None:
    for server in list(_live_servers):
        server.kill()


def server_binary() -> str:
    path = os.environ.get("SALESPIPE_BIN") or str(_REPO_ROOT / "build/src/server/salespipe")
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"salespipe binary not found at {path}: build it (make build) or set SALESPIPE_BIN")
    return path


class _Server:
    """One server process; its stderr is copied line by line into a log file."""

    def __init__(self, argv: list[str], log_path: Path):
        self.argv = argv
        self.log_path = log_path
        self.host: str | None = None
        self.port: int | None = None
        self._listening = threading.Event()
        self._stderr_closed = threading.Event()
        self._wake = threading.Event()  # set by either of the two above
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_lock = threading.Lock()
        self._log = open(log_path, "a", encoding="utf-8", errors="replace")
        self._log.write(f"=== {' '.join(argv)}\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,  # the server logs to stderr; stdout is kept too, just in case
            stderr=subprocess.PIPE,
            # Its own process group: a Ctrl-C meant for the test runner does not stop the
            # server behind the harness's back, and kill() can take its children with it.
            start_new_session=True,
        )
        _live_servers.add(self)
        self._reader = threading.Thread(target=self._pump_stderr, daemon=True)
        self._reader.start()

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        # Keeps draining after start-up, so a chatty server never blocks on a full pipe.
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            with self._log_lock:
                if not self._log.closed:
                    self._log.write(line)
                    self._log.flush()
            if not self._listening.is_set():
                match = _LISTENING_RE.search(line)
                if match:
                    self.host = match.group("host")
                    self.port = int(match.group("port"))
                    self._listening.set()
                    self._wake.set()
        self._stderr_closed.set()
        self._wake.set()

    def wait_listening(self, timeout: float) -> None:
        """Returns once the server printed its listening line; raises AssertionError if it
        exited first or did not do so within `timeout` seconds."""
        self._wake.wait(timeout)
        if self._listening.is_set():
            return
        if not self._stderr_closed.is_set():
            self.kill()
            raise AssertionError(
                f"salespipe did not print 'salespipe listening on http://HOST:PORT' within "
                f"{timeout:.0f}s.\n{self.describe()}")
        try:
            code = self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            code = "none (it closed stderr and was killed)"
        self._close()
        raise AssertionError(
            f"salespipe exited with code {code} before listening.\n{self.describe()}")

    def terminate(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> int | None:
        """SIGTERM to the server alone (it stops its own children), then wait. Returns the exit
        code, or None if it was still running after `timeout` and had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL to the server's whole process group, as if the machine lost it."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._close()

    def _close(self) -> None:
        _live_servers.discard(self)
        # A child that inherited stderr could keep the pipe open: do not wait for it forever.
        self._reader.join(timeout=5)
        if not self._reader.is_alive() and self.proc.stderr is not None:
            self.proc.stderr.close()
        with self._log_lock:
            if not self._log.closed:
                self._log.flush()
                self._log.close()

    def stderr_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "".join(text.splitlines(keepends=True)[-lines:])

    def describe(self) -> str:
        return (f"command: {' '.join(self.argv)}\n"
                f"stderr log: {self.log_path}\n"
                f"--- last lines ---\n{self.stderr_tail()}")


class ServerTestCase(unittest.TestCase):
    """Starts one salespipe server per test class.

    Class attributes set for tests: `endpoint` ("http://127.0.0.1:PORT"), `host`, `port`,
    `data_dir`, `tmp_dir`, `log_path`. Subclasses may set `server_args` (extra `serve` flags,
    e.g. ["--auth", "verify", "--credentials-file", path]) before setUpClass runs.
    """

    server_args: Sequence[str] = ()
    log_level = "warn"

    endpoint: str
    host: str
    port: int
    data_dir: str
    tmp_dir: str
    log_path: Path
    _server: _Server | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.tmp_dir = tempfile.mkdtemp(prefix=f"salespipe-{cls.__name__}-")
        # Class cleanups run even when setUpClass fails half-way; they run after
        # tearDownClass, so the server is gone before its directory is removed.
        cls.addClassCleanup(cls._remove_tmp_dir)
        cls.addClassCleanup(cls._kill_if_running)
        cls.data_dir = os.path.join(cls.tmp_dir, "data")
        log_dir = Path(os.environ.get("SALESPIPE_WIRE_LOG_DIR") or cls.tmp_dir)
        cls.log_path = log_dir / f"{cls.__module__}.{cls.__name__}.stderr.log"
        if cls.log_path.exists():
            cls.log_path.unlink()  # one run per file; a restart appends to it
        cls.start_server()

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            if cls._server is not None:
                code = cls.stop_server()
                if code != 0:
                    raise AssertionError(
                        "salespipe did not exit cleanly on SIGTERM: "
                        + ("still running after %.0fs, killed" % SHUTDOWN_TIMEOUT_S
                           if code is None else f"exit code {code}")
                        + f"\n{cls._describe_server()}")
        finally:
            super().tearDownClass()

    @classmethod
    def start_server(cls, port: int = 0) -> None:
        """Starts the server on `data_dir` (port 0: any free port) and waits until it
        listens. REQUIRES: no server of this class is running."""
        assert cls._server is None or cls._server.proc.poll() is not None, "already running"
        argv = [server_binary(), "serve",
                "--port", str(port),
                "--host", "127.0.0.1",
                "--data-dir", cls.data_dir,
                "--log-level", cls.log_level,
                *cls.server_args]
        cls._server = _Server(argv, cls.log_path)
        cls._server.wait_listening(STARTUP_TIMEOUT_S)
        cls.host = cls._server.host or "127.0.0.1"
        cls.port = cls._server.port or 0
        cls.endpoint = f"http://{cls.host}:{cls.port}"

    @classmethod
    def stop_server(cls) -> int | None:
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        server, cls._server = cls._server, None
        return server.terminate() if server is not None else 0

    @classmethod
    def kill9(cls) -> None:
        """SIGKILLs the server (and any children it started), as a crash would: nothing gets
        flushed or closed. Follow with restart()."""
        if cls._server is not None:
            cls._server.kill()

    @classmethod
    def restart(cls, same_port: bool = True) -> None:
        """Starts the server again on the same data directory, after a SIGTERM (which must
        exit 0) if it is still running, or after kill9(). On the same port by default, so
        clients made before the restart keep working."""
        port = cls.port if same_port else 0
        if cls._server is not None and cls._server.proc.poll() is None:
            code = cls.stop_server()
            if code != 0:
                raise AssertionError(f"salespipe exited with {code} on SIGTERM before restart"
                                     f"\n{cls._describe_server()}")
        cls._server = None
        cls.start_server(port=port)

    @classmethod
    def server_running(cls) -> bool:
        return cls._server is not None and cls._server.proc.poll() is None

    @classmethod
    def _kill_if_running(cls) -> None:
        if cls._server is not None:
            cls._server.kill()
            cls._server = None

    @classmethod
    def _remove_tmp_dir(cls) -> None:
        if os.environ.get("SALESPIPE_KEEP_TMP") == "1":
            print(f"keeping {cls.tmp_dir}", file=sys.stderr)
            return
        shutil.rmtree(cls.tmp_dir, ignore_errors=True)

    @classmethod
    def _describe_server(cls) -> str:
        return (f"stderr log: {cls.log_path}\n--- last lines ---\n"
                f"{_tail(cls.log_path)}")

    def run(self, result=None):
        # When a test fails, show what the server said around it.
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        outcome = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            print(f"\n--- salespipe stderr after {self.id()} ({self.log_path}) ---\n"
                  f"{_tail(self.log_path)}", file=sys.stderr)
        return outcome

    # --- clients ---------------------------------------------------------------------------

    @classmethod
    def session(cls, access_key: str = ACCESS_KEY_ID, secret_key: str = SECRET_ACCESS_KEY,
                region: str = REGION) -> boto3.session.Session:
        return boto3.session.Session(aws_access_key_id=access_key,
                                     aws_secret_access_key=secret_key,
                                     region_name=region)

    @classmethod
    def _config(cls, service: str, config: botocore.config.Config | None):
        base = botocore.config.Config(
            # One attempt: a test sees the server's first answer, never a retry that hides it.
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
            s3={"addressing_style": "path"} if service == "s3" else None,
        )
        return base.merge(config) if config is not None else base

    @classmethod
    def client(cls, service: str, config: botocore.config.Config | None = None,
               **session_kwargs: Any):
        """A boto3 client for `service` against this server (region us-east-1, dummy keys,
        no retries). `session_kwargs`: access_key, secret_key, region."""
        return cls.session(**session_kwargs).client(
            service, endpoint_url=cls.endpoint, config=cls._config(service, config))

    @classmethod
    def resource(cls, service: str, config: botocore.config.Config | None = None,
                 **session_kwargs: Any):
        """A boto3 resource (e.g. dynamodb.Table) against this server."""
        return cls.session(**session_kwargs).resource(
            service, endpoint_url=cls.endpoint, config=cls._config(service, config))

    # --- AWS CLI ---------------------------------------------------------------------------

    @classmethod
    def cli_env(cls, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                     "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"):
            env.pop(name, None)
        missing = os.path.join(cls.tmp_dir, "no-such-aws-file")
        env.update({
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            # Nothing from the user's ~/.aws leaks into a test.
            "AWS_CONFIG_FILE": missing,
            "AWS_SHARED_CREDENTIALS_FILE": missing,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_RETRY_MODE": "standard",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        })
        env.update(extra or {})
        return env

    @classmethod
    def run_cli(cls, args: Sequence[str], check: bool = True, input: str | None = None,
                env: dict[str, str] | None = None,
                timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Runs `aws <args> --endpoint-url <endpoint>` and returns the completed process
        (text stdout/stderr). With check=True a non-zero exit fails the test with the CLI's
        output.

        The CLI is AWS CLI v1 for this python3; `aws` on PATH may be a pyenv shim, so it is
        run as `python3 -m awscli` with the interpreter running the tests."""
        argv = [sys.executable, "-m", "awscli", *args, "--endpoint-url", cls.endpoint]
        proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                              env=cls.cli_env(env), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(args)} exited with {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    @classmethod
    def cli_json(cls, args: Sequence[str], **kwargs: Any) -> Any:
        """run_cli with `--output json`; returns the parsed output (None if it printed
        nothing)."""
        proc = cls.run_cli([*args, "--output", "json"], **kwargs)
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    # --- plain HTTP ------------------------------------------------------------------------

    @classmethod
    def http(cls, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None,
             timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """A raw HTTP request to the server; returns (status, headers, body) and does not raise
        on 4xx/5xx."""
        request = urllib.request.Request(cls.endpoint + path, data=body, method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    @classmethod
    def http_get(cls, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        return cls.http("GET", path, **kwargs)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "".join(text.splitlines(keepends=True)[-lines:])
