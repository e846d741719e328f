#!/usr/bin/env python3
"""Runs the DynamoDB benchmark: salespipe, dynalite and moto side by side in one run.

Started by bench/run.sh, which installs dynalite first; see bench/README.md. Start every server
on a free loopback port and load its tables (setup_tables.py); then for each operation a short
warm-up per server and, per connection count, one fixed-length wrk run per server in turn;
then stop them.
Then the ceilings: wrk against trivial_http (the load generator's own limit, same scripts) and
raw RocksDB puts (rocksdb_ceiling). Writes bench/results/<timestamp>.md, .json and a folder of
raw outputs, and prints the report. `driver.py --render results/<timestamp>.json` prints the
report of an earlier run again.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import http.client

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
WRK_DIR = os.path.join(BENCH_DIR, "wrk")
SERVERS = ["salespipe", "dynalite", "moto"]
PEERS = ["dynalite", "moto"]
BATCH_SIZE = 25  # items per BatchWriteItem request (batch_write.lua)
DISTURBED_CORES = 0.3  # CPU used by anything but server and wrk that marks a run as disturbed

# name, wrk script, tag prefix
OPERATIONS = [
    ("PutItem", "put_item.lua", "p"),
    ("GetItem", "get_item.lua", "g"),
    ("Query", "query.lua", "q"),
    ("BatchWriteItem", "batch_write.lua", "b"),
]

# The targets, at 64 connections: (operation, peer or "rocksdb", factor).
TARGETS = [
    ("PutItem", "dynalite", 8.0),
    ("PutItem", "moto", 80.0),
    ("PutItem", "rocksdb", 0.40),
    ("GetItem", "dynalite", 5.0),
    ("Query", "dynalite", 10.0),
]

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)

_started = time.monotonic()
_children = []  # Popen objects of servers we started, stopped in stop_all()


def log(msg):
    print(f"[{time.monotonic() - _started:6.1f}s] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return None


def process_tree_cpu(pid):
    """CPU seconds of a process and its descendants (taskset and npm-style wrappers)."""
    total = cpu_seconds(pid) or 0.0
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        children = []
    for child in children:
        total += process_tree_cpu(int(child))
    return total


def machine_cpu_seconds():
    """CPU seconds of the whole machine (every CPU) from /proc/stat: "tasks" (user + nice +
    system: all processes), "irq" (irq + softirq: mostly loopback TCP, which no process is
    charged for) and "steal" (the hypervisor gave the CPU to another VM)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    tick = os.sysconf("SC_CLK_TCK")
    return {"tasks": (v[0] + v[1] + v[2]) / tick, "irq": (v[5] + v[6]) / tick,
            "steal": v[7] / tick}


def machine_busy_seconds():
    c = machine_cpu_seconds()
    return c["tasks"] + c["irq"] + c["steal"]


_quiet_waited = 0.0  # seconds spent in wait_for_quiet over the whole run
QUIET_WAIT_TOTAL = 180  # so that --wait-quiet keeps the whole run within ~10 minutes


def wait_for_quiet(budget):
    """Waits (at most `budget` seconds) until others use under 0.3 cores; returns the wait."""
    global _quiet_waited
    budget = min(budget, QUIET_WAIT_TOTAL - _quiet_waited)
    waited = 0.0
    while waited < budget:
        before = machine_busy_seconds()
        time.sleep(0.5)
        waited += 0.5
        if (machine_busy_seconds() - before) / 0.5 < 0.3:
            break
    _quiet_waited += waited
    return waited


def settle(pids, limit):
    """Waits until every server in `pids` is idle (each under 0.1 cores for 0.2 s), at most
    `limit` seconds; returns the time waited.

    When a run ends, wrk drops its connections but a slow server still works through the
    requests it had queued (moto at 64 connections of Query: seconds of backlog); RocksDB may be
    flushing. The next run must not start while any server is busy. A single pid works too
    (kinesis_driver.py passes one)."""
    if isinstance(pids, int):
        pids = [pids]
    waited = 0.0
    while waited < limit:
        before = [process_tree_cpu(pid) for pid in pids]
        time.sleep(0.2)
        waited += 0.2
        after = [process_tree_cpu(pid) for pid in pids]
        if all(b - a < 0.02 for a, b in zip(before, after)):
            break
    return waited


def raw_status(url, target, body="{}", timeout=5):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + target,
            "X-Amz-Date": "20250101T000000Z",
            "Authorization": AUTHORIZATION,
        })
        response = conn.getresponse()
        data = response.read()
        return response.status, data
    finally:
        conn.close()


class Server:
    """A server process started in its own session, so stopping it stops its children too."""

    def __init__(self, name, argv, log_path, cwd=None):
        self.name = name
        self.port = None
        self.url = None
        self.log_path = log_path
        self.argv = argv
        self.cwd = cwd
        self.proc = None

    def start(self, port, ready_timeout=60.0, needs_dynamodb=True):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.cwd,
                                     start_new_session=True)
        _children.append(self)
        deadline = time.monotonic() + ready_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with code {self.proc.returncode} (log: {self.log_path})"
            try:
                if not needs_dynamodb:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return None
                status, data = raw_status(self.url, "ListTables")
                if status == 200:
                    return None
                last = f"ListTables answered {status}: {data[:200]!r}"
                # It serves HTTP but not (yet) DynamoDB: give it a few seconds, not a minute.
                deadline = min(deadline, time.monotonic() + 5)
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        return f"not ready after {ready_timeout:.0f}s ({last})"

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            self._close()
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self._close()

    def _close(self):
        if getattr(self, "log_file", None):
            self.log_file.close()
            self.log_file = None
        if self in _children:
            _children.remove(self)


def stop_all():
    for server in list(_children):
        server.stop()


def pin_prefix(cpus):
    return ["taskset", "-c", cpus] if cpus else []


def run_wrk(args, url, script, conns, seconds, tag, extra, raw_path, server_pid=None,
            idle_pids=None, timeout="10s"):
    threads = 1 if conns == 1 else min(conns, args.wrk_threads)
    argv = pin_prefix(args.wrk_cpus) + [
        "wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", timeout,
        "--latency", "-s", os.path.join(WRK_DIR, script), url + "/", "--", tag] + extra
    pids = idle_pids or ([server_pid] if server_pid else [])
    settled = settle(pids, args.settle_limit) if pids else 0.0
    waited = wait_for_quiet(args.wait_quiet) if args.wait_quiet else 0.0
    server_cpu_before = process_tree_cpu(server_pid) if server_pid else None
    load_before = os.getloadavg()[0]
    busy_before = machine_cpu_seconds()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = machine_cpu_seconds()
    server_cpu_after = process_tree_cpu(server_pid) if server_pid else None
    with open(raw_path, "w") as f:
        f.write(" ".join(argv) + "\n\n" + proc.stdout + proc.stderr)
    result = {"conns": conns, "wrk_threads": threads, "seconds": seconds, "tag": tag,
              "load_1m_before": round(load_before, 2), "waited_for_quiet": waited,
              "waited_for_server_idle": settled, "problems": []}
    if settled >= args.settle_limit:
        result["problems"].append(f"server still busy {settled:.0f} s after the previous run")
    match = re.search(r"^BENCHJSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or not match:
        result["problems"].append(f"wrk failed (exit {proc.returncode}): "
                                  f"{(proc.stderr or proc.stdout)[-300:]!r}")
        return result
    stats = json.loads(match.group(1))
    result.update(stats)
    elapsed = stats["duration_us"] / 1e6
    result["rps"] = stats["requests"] / elapsed if elapsed > 0 else 0.0
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["wrk_cpu_cores"] = round(wrk_cpu / elapsed, 2) if elapsed > 0 else None
    server_cpu = 0.0
    if server_cpu_before is not None and server_cpu_after is not None and elapsed > 0:
        server_cpu = server_cpu_after - server_cpu_before
        result["server_cpu_cores"] = round(server_cpu / elapsed, 2)
    # Every other process the machine ran meanwhile (other people's builds, ...) and CPU the
    # hypervisor gave to other VMs: above ~0.3 cores the run was disturbed. Kernel network work
    # (softirq) is shown apart: on loopback it is part of the cost of the test itself.
    if elapsed > 0:
        delta = {k: busy_after[k] - busy_before[k] for k in busy_after}
        other = delta["tasks"] - wrk_cpu - server_cpu + delta["steal"]
        result["other_cpu_cores"] = round(max(0.0, other) / elapsed, 2)
        result["irq_cpu_cores"] = round(delta["irq"] / elapsed, 2)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", proc.stdout)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = {k: stats[k] for k in ("errors_connect", "errors_read", "errors_write",
                                    "errors_status", "errors_timeout") if stats.get(k)}
    if result["non_2xx"]:
        errors["non_2xx"] = result["non_2xx"]
    if errors:
        result["problems"].append("errors " + ", ".join(f"{k}={v}" for k, v in errors.items()))
    if stats["requests"] == 0:
        result["problems"].append("no request completed")
    return result


def setup_tables(url, args, raw_dir, name):
    argv = [sys.executable, os.path.join(BENCH_DIR, "setup_tables.py"), "setup", "--endpoint",
            url, "--get-items", str(args.get_items), "--partitions", str(args.partitions)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    with open(os.path.join(raw_dir, f"{name}-setup.txt"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        return None, (proc.stderr or proc.stdout).strip().splitlines()[-1:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def verify_keys(url, keys):
    """Checks with consistent GetItems (sent as the wrk scripts send requests) that every key
    exists in bench_sales; returns (ok, detail)."""
    missing = []
    for key in keys:
        body = json.dumps({"TableName": "bench_sales", "Key": {"order_id": {"S": key}},
                           "ConsistentRead": True})
        try:
            status, data = raw_status(url, "GetItem", body, timeout=60)
        except OSError as e:
            return False, f"GetItem {key}: {e}"
        if status != 200:
            return False, f"GetItem {key} answered {status}: {data[:200]!r}"
        if "Item" not in json.loads(data or b"{}"):
            missing.append(key)
    return not missing, f"missing {missing}" if missing else f"{len(keys)} found"


def written_keys(op, tag):
    """Keys that the first wrk thread certainly wrote once it completed a few requests."""
    if op == "PutItem":
        return [f"put-{tag}-1-2"]
    if op == "BatchWriteItem":
        return [f"bw-{tag}-1-2-01", f"bw-{tag}-1-2-{BATCH_SIZE:02d}"]
    return []


def server_argv(name, args, data_dir):
    pin = pin_prefix(args.server_cpus)
    if name == "salespipe":
        return pin + [args.salespipe, "serve", "--port", "{port}", "--data-dir", data_dir,
                      "--auth", "off", "--log-level", "warn"]
    if name == "dynalite":
        return pin + ["node", args.dynalite_cli, "--host", "127.0.0.1", "--port", "{port}",
                      "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    if name == "moto":
        return pin + [args.moto_server, "-H", "127.0.0.1", "-p", "{port}"]
    raise ValueError(name)


def start_server(name, args, raw_dir, info, out):
    """Starts one server and loads its tables; returns the Server, or None (out["skipped"])."""
    if name == "salespipe" and not os.access(args.salespipe, os.X_OK):
        out["skipped"] = f"{args.salespipe} is not built"
        log(f"{name}: skipped, {out['skipped']}")
        return None
    data_dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in server_argv(name, args, data_dir)]
    server = Server(name, argv, os.path.join(raw_dir, f"{name}-server.log"))
    server.data_dir = data_dir
    log(f"{name}: starting on port {port}")
    problem = server.start(port)
    if problem:
        out["skipped"] = f"did not answer DynamoDB ListTables: {problem}"
    else:
        setup, problem = setup_tables(server.url, args, raw_dir, name)
        if problem:
            out["skipped"] = f"table setup failed: {' '.join(problem)}"
        else:
            out["setup"] = setup
            info.setdefault("setup", setup)
            log(f"{name}: loaded {args.get_items} items + {args.partitions}x100 in "
                f"{setup['load_seconds']}s")
            return server
    log(f"{name}: skipped, {out['skipped']}")
    stop_server(server)
    return None


def stop_server(server):
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


def bench_servers(args, raw_dir, info, results):
    """Runs every operation x connection count against every server.

    All servers run at once (idle between their turns) and take turns run by run: salespipe,
    dynalite, moto at 1 connection, then at 8, ... So when others' work comes and goes on a
    shared machine, it disturbs the servers alike and the ratios stay fair. Before each run
    every server must be idle (settle), so a backlog or a flush of one does not slow another.
    The wrk ceiling (trivial_http) takes its turn after the servers, and the RocksDB ceiling
    runs right after the PutItem runs, for the same reason."""
    outs = results["servers"]
    ceiling = {"runs": {}, "skipped": None}
    if not args.no_ceilings:
        results["wrk_ceiling"] = ceiling
    live = {}
    trivial = None
    try:
        for name in SERVERS:
            if name in args.servers:
                outs[name] = {"name": name, "runs": {}, "skipped": None}
                server = start_server(name, args, raw_dir, info, outs[name])
                if server:
                    live[name] = server
        for op, script, prefix in OPERATIONS:
            if op not in args.ops:
                continue
            extra = {"GetItem": [str(args.get_items)], "Query": [str(args.partitions)]}.get(op, [])
            if not args.no_ceilings and not ceiling["skipped"]:
                trivial, ceiling["skipped"] = start_trivial(args, raw_dir, info, op)
            if args.warmup > 0:
                for name, server in live.items():
                    run_wrk(args, server.url, script, 8, args.warmup, prefix + "w", extra,
                            os.path.join(raw_dir, f"{name}-{op}-warmup.txt"), server.proc.pid,
                            idle_pids=[s.proc.pid for s in live.values()])
            for conns in args.conns:
                for name, server in list(live.items()):
                    tag = f"{prefix}{conns}"
                    seconds = args.moto_duration if name == "moto" else args.duration
                    result = run_wrk(args, server.url, script, conns, seconds, tag, extra,
                                     os.path.join(raw_dir, f"{name}-{op}-c{conns}.txt"),
                                     server.proc.pid,
                                     idle_pids=[s.proc.pid for s in live.values()])
                    if server.proc.poll() is not None:
                        result["problems"].append(f"server exited ({server.proc.returncode})")
                    elif written_keys(op, tag) and result.get("requests"):
                        settle([server.proc.pid], args.settle_limit)
                        ok, detail = verify_keys(server.url, written_keys(op, tag))
                        if not ok:
                            result["problems"].append(f"written keys not readable: {detail}")
                    outs[name]["runs"][f"{op}/{conns}"] = result
                    log(f"{name:<9} {op:<14} c={conns:<3} {result.get('rps', 0):>10.0f} req/s  "
                        f"p50 {fmt_us(result.get('p50_us'))}  p99 {fmt_us(result.get('p99_us'))}"
                        f"  cpu srv/wrk/irq/other {fmt_cpu(result)}"
                        + ("  INVALID: " + "; ".join(result["problems"]) if result["problems"]
                           else ""))
                    if server.proc.poll() is not None:
                        outs[name]["skipped"] = f"server exited during {op} c={conns}"
                        stop_server(live.pop(name))
                if trivial:
                    result = run_wrk(args, trivial.url, script, conns, args.ceiling_duration,
                                     f"{prefix}{conns}", extra,
                                     os.path.join(raw_dir, f"ceiling-{op}-c{conns}.txt"),
                                     trivial.proc.pid,
                                     idle_pids=[s.proc.pid for s in live.values()])
                    result["body_bytes"] = trivial.body_bytes
                    ceiling["runs"][f"{op}/{conns}"] = result
                    log(f"{'ceiling':<9} {op:<14} c={conns:<3} {result.get('rps', 0):>10.0f} "
                        f"req/s  (wrk -> trivial_http)  cpu srv/wrk/irq/other {fmt_cpu(result)}")
            if trivial:
                trivial.stop()
                trivial = None
            if op == "PutItem" and not args.no_ceilings:
                settle([s.proc.pid for s in live.values()], args.settle_limit)
                results["rocksdb_ceiling"] = rocksdb_ceiling(args, raw_dir, info)
        if "PutItem" not in args.ops and not args.no_ceilings:
            results["rocksdb_ceiling"] = rocksdb_ceiling(args, raw_dir, info)
    finally:
        if trivial:
            trivial.stop()
        for server in live.values():
            stop_server(server)


def start_trivial(args, raw_dir, info, op):
    """trivial_http for the wrk ceiling of `op`, answering with a body as large as the real
    response (measured by setup_tables.py on the first server); returns (Server, problem)."""
    if not os.access(args.trivial_http, os.X_OK):
        return None, f"{args.trivial_http} is not built"
    setup = info.get("setup") or {}
    body_bytes = {
        "PutItem": 2,
        "GetItem": setup.get("get_item_response_bytes", 420),
        "Query": setup.get("query_response_bytes", 40000),
        "BatchWriteItem": len('{"UnprocessedItems":{}}'),
    }[op]
    port = free_port()
    argv = pin_prefix(args.server_cpus) + [
        args.trivial_http, "--port", str(port), "--threads", str(args.trivial_threads),
        "--body-bytes", str(body_bytes)]
    server = Server("trivial_http", argv, os.path.join(raw_dir, f"trivial_http-{op}.log"))
    server.body_bytes = body_bytes
    problem = server.start(port, ready_timeout=10, needs_dynamodb=False)
    if problem:
        server.stop()
        return None, f"trivial_http: {problem}"
    return server, None


def rocksdb_ceiling(args, raw_dir, info):
    out = {"runs": [], "skipped": None}
    if not os.access(args.rocksdb_ceiling, os.X_OK):
        out["skipped"] = f"{args.rocksdb_ceiling} is not built"
        return out
    value_bytes = (info.get("setup") or {}).get("item_json_bytes", 360)
    data_dir = tempfile.mkdtemp(prefix="bench-rocksdb-")
    argv = [args.rocksdb_ceiling, "--seconds", str(args.ceiling_duration), "--value-bytes",
            str(value_bytes), "--threads", "1,2", "--dir", data_dir]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=8 * args.ceiling_duration + 60)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    with open(os.path.join(raw_dir, "rocksdb_ceiling.txt"), "w") as f:
        f.write(" ".join(argv) + "\n\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        out["skipped"] = f"rocksdb_ceiling failed: {proc.stderr.strip()[-300:]}"
        return out
    out["runs"] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    for r in out["runs"]:
        log(f"rocksdb ceiling: {r['mode']:<10} threads={r['threads']} "
            f"{r['ops_per_sec']:>10.0f} puts/s  p50 {r['p50_us']:.1f}us p99 {r['p99_us']:.1f}us")
    return out


# ---------------------------------------------------------------------------------------------
# Report


def fmt_cpu(run):
    """server / wrk / kernel network / everything else, in cores."""
    return " / ".join(str(run.get(k, "-")) for k in (
        "server_cpu_cores", "wrk_cpu_cores", "irq_cpu_cores", "other_cpu_cores"))


def fmt_us(us):
    if us is None:
        return "-"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.0f} µs"


def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def fmt_ratio(x):
    if x is None:
        return "-"
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"


def valid_rps(server, key):
    """req/s of a run that had no problem, else None (an INVALID run is in no ratio)."""
    run = (server or {}).get("runs", {}).get(key)
    if not run or run.get("problems") or "rps" not in run:
        return None
    return run["rps"]


def rocksdb_best(rocks, mode="put"):
    runs = [r for r in rocks.get("runs", []) if r["mode"] == mode]
    return max(runs, key=lambda r: r["ops_per_sec"]) if runs else None


def build_report(results):
    a = results["settings"]
    servers = results["servers"]
    ceiling = results["wrk_ceiling"]
    rocks = results["rocksdb_ceiling"]
    best_put = rocksdb_best(rocks)
    lines = []
    w = lines.append
    w(f"# salespipe DynamoDB benchmark — {results['started']}")
    w("")
    m = results["machine"]
    w(f"- machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, {m['kernel']}; "
      f"load average before the run {m['load_before']}, after {m.get('load_after', '-')}")
    w(f"- salespipe {results['versions'].get('salespipe_binary', '?')}, repo at "
      f"{results['versions'].get('salespipe_commit', '?')}; dynalite "
      f"{results['versions'].get('dynalite', '?')} (node {results['versions'].get('node', '?')}, "
      f"in memory); moto {results['versions'].get('moto', '?')}; "
      f"{results['versions'].get('wrk', 'wrk')}")
    w(f"- each run {a['duration']} s (moto {a['moto_duration']} s) after a {a['warmup']} s "
      f"warm-up at 8 connections; wrk threads: 1 at 1 connection, else {a['wrk_threads']}; "
      f"pinning: {a['pin']} (server CPUs {a['server_cpus'] or 'any'}, wrk CPUs "
      f"{a['wrk_cpus'] or 'any'}); {a['get_items']} items for GetItem, {a['partitions']} "
      f"partitions of 100 items for Query")
    w(f"- total time {results.get('elapsed_seconds', 0):.0f} s")
    w("")
    skipped = [(n, s["skipped"]) for n, s in servers.items() if s.get("skipped")]
    for name, why in skipped:
        w(f"**{name}: {why}**")
        w("")

    # Targets.
    w("## Targets at 64 connections")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    sp = servers.get("salespipe", {})
    for op, against, factor in TARGETS:
        mine = valid_rps(sp, f"{op}/64")
        if against == "rocksdb":
            label = f"{op} ≥ {factor:.0%} of raw RocksDB puts (WAL on)"
            base = best_put["ops_per_sec"] if best_put else None
        else:
            label = f"{op} ≥ {factor:g}x {against}"
            base = valid_rps(servers.get(against, {}), f"{op}/64")
        if mine is None or base is None:
            w(f"| {label} | n/a | not measured |")
            continue
        ratio = mine / base
        shown = f"{ratio:.0%} of ceiling" if against == "rocksdb" else fmt_ratio(ratio)
        w(f"| {label} | {shown} ({fmt_rate(mine)} vs {fmt_rate(base)}/s) | "
          f"{'PASS' if ratio >= factor else 'FAIL'} |")
    w("")

    # One table per operation.
    for op, _, _ in OPERATIONS:
        if op not in a["ops"]:
            continue
        unit = (f" (requests of {BATCH_SIZE} items: items/s = {BATCH_SIZE} x req/s)"
                if op == "BatchWriteItem" else "")
        w(f"## {op}{unit}")
        w("")
        head = "| conns |"
        rule = "|---:|"
        for name in SERVERS:
            head += f" {name} req/s | p50 | p99 |"
            rule += "---:|---:|---:|"
        head += " salespipe/dynalite | salespipe/moto |"
        rule += "---:|---:|"
        if op in ("PutItem", "BatchWriteItem"):
            head += " salespipe % of RocksDB |"
            rule += "---:|"
        head += " wrk ceiling req/s |"
        rule += "---:|"
        w(head)
        w(rule)
        for conns in a["conns"]:
            key = f"{op}/{conns}"
            row = f"| {conns} |"
            for name in SERVERS:
                run = servers.get(name, {}).get("runs", {}).get(key)
                if not run or "rps" not in run:
                    row += " - | - | - |"
                    continue
                flag = " **INVALID**" if run.get("problems") else ""
                if (run.get("other_cpu_cores") or 0) > DISTURBED_CORES:
                    flag += " †"
                row += (f" {fmt_rate(run['rps'])}{flag} | {fmt_us(run['p50_us'])} | "
                        f"{fmt_us(run['p99_us'])} |")
            mine = valid_rps(sp, key)
            for peer in PEERS:
                base = valid_rps(servers.get(peer, {}), key)
                row += f" {fmt_ratio(mine / base) if mine and base else '-'} |"
            if op in ("PutItem", "BatchWriteItem"):
                items = mine * (BATCH_SIZE if op == "BatchWriteItem" else 1) if mine else None
                row += (f" {items / best_put['ops_per_sec']:.0%} |" if items and best_put
                        else " - |")
            crun = ceiling.get("runs", {}).get(key)
            row += f" {fmt_rate(crun['rps']) if crun and 'rps' in crun else '-'} |"
            w(row)
        w("")
    w(f"† other processes used more than {DISTURBED_CORES} cores during that run (see the CPU "
      "table): the figure is low and noisy.")
    w("")

    # CPU use, to see who was the bottleneck on a 2-core machine.
    w("## CPU used during each run (cores)")
    w("")
    w("server / wrk / kernel network (irq+softirq, loopback TCP) / everything else (other "
      "processes and CPU stolen by the hypervisor), in cores, averaged over the run. On 2 cores "
      "a sum near 2.0 means the machine, not the server, was the limit; \"everything else\" "
      "above 0.3 means someone else's work (a build) disturbed the run (marked †).")
    w("")
    w("| operation | conns | " + " | ".join(SERVERS) + " | wrk ceiling (trivial_http) |")
    w("|---|---:|" + "---:|" * (len(SERVERS) + 1))
    for op, _, _ in OPERATIONS:
        if op not in a["ops"]:
            continue
        for conns in a["conns"]:
            key = f"{op}/{conns}"
            cells = []
            for run in [servers.get(n, {}).get("runs", {}).get(key) for n in SERVERS] + [
                    ceiling.get("runs", {}).get(key)]:
                if not run or "rps" not in run:
                    cells.append("-")
                else:
                    cells.append(fmt_cpu(run))
            w(f"| {op} | {conns} | " + " | ".join(cells) + " |")
    w("")

    # CPU cost per request: on 2 cores throughput is bounded by it.
    w("## Server CPU per request (µs)")
    w("")
    w("Server process CPU time per completed request (server cores / req/s). With 2 cores "
      "shared with wrk, this is what bounds throughput once the machine is saturated.")
    w("")
    w("| operation | conns | " + " | ".join(SERVERS) + " |")
    w("|---|---:|" + "---:|" * len(SERVERS))
    for op, _, _ in OPERATIONS:
        if op not in a["ops"]:
            continue
        for conns in a["conns"]:
            key = f"{op}/{conns}"
            cells = []
            for n in SERVERS:
                run = servers.get(n, {}).get("runs", {}).get(key)
                cores = (run or {}).get("server_cpu_cores")
                if not run or not run.get("rps") or cores is None:
                    cells.append("-")
                else:
                    cells.append(f"{cores / run['rps'] * 1e6:,.0f}")
            w(f"| {op} | {conns} | " + " | ".join(cells) + " |")
    w("")

    # Ceilings.
    w("## Ceilings")
    w("")
    if ceiling.get("skipped"):
        w(f"wrk ceiling: {ceiling['skipped']}")
    else:
        w("**wrk against trivial_http** (same Lua scripts; the server answers a fixed 200 with a "
          "body as large as the real response), requests/s:")
        w("")
        w("| operation | body bytes | " + " | ".join(f"{c} conns" for c in a["conns"]) + " |")
        w("|---|---:|" + "---:|" * len(a["conns"]))
        for op, _, _ in OPERATIONS:
            if op not in a["ops"]:
                continue
            runs = [ceiling["runs"].get(f"{op}/{c}") for c in a["conns"]]
            body = next((r["body_bytes"] for r in runs if r), "-")
            w(f"| {op} | {body} | " + " | ".join(
                fmt_rate(r["rps"]) if r and "rps" in r else "-" for r in runs) + " |")
    w("")
    if rocks.get("skipped"):
        w(f"RocksDB ceiling: {rocks['skipped']}")
    else:
        value_bytes = rocks["runs"][0]["value_bytes"] if rocks["runs"] else "?"
        w(f"**Raw RocksDB** ({value_bytes}-byte items, one WriteBatch per item, WAL on, no "
          "fsync, options as in src/kv/db.cc):")
        w("")
        w("| mode | threads | puts/s | p50 | p99 |")
        w("|---|---:|---:|---:|---:|")
        for r in rocks["runs"]:
            w(f"| {r['mode']} | {r['threads']} | {fmt_rate(r['ops_per_sec'])} | "
              f"{fmt_us(r['p50_us'])} | {fmt_us(r['p99_us'])} |")
        if best_put:
            w("")
            w(f"The PutItem ceiling used above is the best `put` row: "
              f"{fmt_rate(best_put['ops_per_sec'])} puts/s.")
    w("")

    problems = []
    for name, s in servers.items():
        for key, run in s.get("runs", {}).items():
            if run.get("problems"):
                problems.append(f"- {name} {key}: " + "; ".join(run["problems"]))
    for key, run in ceiling.get("runs", {}).items():
        if run.get("problems"):
            problems.append(f"- wrk ceiling {key}: " + "; ".join(run["problems"]))
    if problems:
        w("## INVALID runs (left out of every ratio)")
        w("")
        lines.extend(problems)
        w("")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def command_output(argv, default="?", any_exit=False):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0 and not any_exit:
            return default
        text = (proc.stdout or proc.stderr).strip()
        return text.splitlines()[0] if text else default
    except (OSError, subprocess.TimeoutExpired):
        return default


def machine_info():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) / (1 << 20)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(memory, 1),
            "kernel": platform.platform(), "load_before": "%.2f %.2f %.2f" % os.getloadavg()}


def versions(args):
    out = {
        "node": command_output(["node", "--version"]),
        "wrk": command_output(["wrk", "--version"], any_exit=True).split(" Copyright")[0],
        "moto": command_output([sys.executable, "-c", "import moto; print(moto.__version__)"]),
        "salespipe_commit": command_output(["git", "-C", REPO_DIR, "rev-parse", "--short",
                                            "HEAD"], "uncommitted"),
    }
    try:
        built = datetime.datetime.fromtimestamp(os.path.getmtime(args.salespipe))
        out["salespipe_binary"] = f"{args.salespipe} (built {built:%Y-%m-%d %H:%M})"
    except OSError:
        out["salespipe_binary"] = f"{args.salespipe} (missing)"
    try:
        pkg = os.path.join(os.path.dirname(args.dynalite_cli), "package.json")
        out["dynalite"] = json.load(open(pkg))["version"]
    except (OSError, ValueError, KeyError):
        out["dynalite"] = "?"
    return out


def parse_args():
    build_dir = os.environ.get("BUILD_DIR", os.path.join(REPO_DIR, "build"))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="about 2 minutes: 2 s runs, less data")
    p.add_argument("--duration", type=int, help="seconds per run (default 5, --quick 2)")
    p.add_argument("--moto-duration", type=int, help="seconds per moto run (default: --duration)")
    p.add_argument("--ceiling-duration", type=int, help="seconds per ceiling run (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per operation (0: none)")
    p.add_argument("--servers", default=",".join(SERVERS))
    p.add_argument("--ops", default=",".join(o[0] for o in OPERATIONS))
    p.add_argument("--conns", default="1,8,64")
    p.add_argument("--no-ceilings", action="store_true")
    p.add_argument("--pin", choices=["none", "split"], default="none",
                   help="split: servers on CPU 0, wrk on CPU 1 (see README)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--trivial-threads", type=int, default=0,
                   help="trivial_http threads (default: 1 when pinned, else 2)")
    p.add_argument("--wait-quiet", type=float, default=0,
                   help="before each run, wait up to this many seconds for other processes to "
                        "use under 0.3 cores (shared machines); at most 180 s in all")
    p.add_argument("--settle-limit", type=float, default=30,
                   help="before each run, wait up to this many seconds for the server to finish "
                        "the previous run's backlog (it must go idle)")
    p.add_argument("--get-items", type=int)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--build-dir", default=build_dir)
    p.add_argument("--salespipe")
    p.add_argument("--dynalite-cli", default=os.environ.get("DYNALITE_CLI", ""))
    p.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    p.add_argument("--results-dir", default=os.path.join(BENCH_DIR, "results"))
    args = p.parse_args()
    args.duration = args.duration or (2 if args.quick else 5)
    args.moto_duration = args.moto_duration or args.duration
    args.ceiling_duration = args.ceiling_duration or (1 if args.quick else 3)
    args.get_items = args.get_items or (1000 if args.quick else 5000)
    args.servers = [s for s in args.servers.split(",") if s]
    args.ops = [o for o in args.ops.split(",") if o]
    args.conns = [int(c) for c in args.conns.split(",") if c]
    args.salespipe = args.salespipe or os.path.join(args.build_dir, "src/server/salespipe")
    args.trivial_http = os.path.join(args.build_dir, "bench/trivial_http")
    args.rocksdb_ceiling = os.path.join(args.build_dir, "bench/rocksdb_ceiling")
    if args.pin == "split":
        args.server_cpus, args.wrk_cpus = "0", "1"
    else:
        args.server_cpus, args.wrk_cpus = "", ""
    if not args.trivial_threads:
        args.trivial_threads = 1 if args.pin == "split" else 2
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s}")
    for o in args.ops:
        if o not in [op[0] for op in OPERATIONS]:
            p.error(f"unknown operation {o}")
    if "dynalite" in args.servers and not os.path.exists(args.dynalite_cli):
        p.error("dynalite not found: run through bench/run.sh or pass --dynalite-cli")
    return args


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        # Re-render the report of an earlier run from its .json.
        with open(sys.argv[2]) as f:
            print(build_report(json.load(f)))
        return 0
    args = parse_args()

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    os.makedirs(args.results_dir, exist_ok=True)
    raw_dir = os.path.join(args.results_dir, stamp)
    os.makedirs(raw_dir, exist_ok=True)
    results = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions(args),
        "settings": {k: getattr(args, k) for k in (
            "duration", "moto_duration", "ceiling_duration", "warmup", "conns", "ops", "pin",
            "server_cpus", "wrk_cpus", "wrk_threads", "trivial_threads", "get_items",
            "partitions", "wait_quiet")},
        "servers": {},
        "wrk_ceiling": {"skipped": "not run"},
        "rocksdb_ceiling": {"skipped": "not run"},
    }
    if float(results["machine"]["load_before"].split()[0]) > 0.5:
        log(f"warning: load average {results['machine']['load_before']} before the run: others "
            "are using the CPUs, numbers will be low and noisy")
    info = {}
    interrupted = None
    try:
        bench_servers(args, raw_dir, info, results)
    except KeyboardInterrupt as e:
        interrupted = str(e) or "interrupted"
        log(f"interrupted ({interrupted}); writing what was measured")
    finally:
        stop_all()
    results["machine"]["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    results["elapsed_seconds"] = time.monotonic() - _started
    if interrupted:
        results["interrupted"] = interrupted
    report = build_report(results)
    if interrupted:
        report = f"**Interrupted ({interrupted}): partial results.**\n\n" + report
    md_path = os.path.join(args.results_dir, f"{stamp}.md")
    with open(md_path, "w") as f:
        f.write(report)
    with open(os.path.join(args.results_dir, f"{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    shutil.copyfile(md_path, os.path.join(args.results_dir, "latest.md"))
    print(report)
    log(f"report: {md_path} (raw outputs and server logs in {raw_dir}/)")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
