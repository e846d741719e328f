#!/usr/bin/env python3
"""Runs the S3 benchmark: salespipe and moto side by side in one run (bench/run.sh --suite s3).

Reuses bench/driver.py's machinery (servers in their own session on free loopback ports, wrk
runs with CPU accounting and BENCHJSON parsing, settle, stop on Ctrl-C) and adds the S3 parts:

  1. PutObject / GetObject of 1 KB and 1 MB objects with wrk (bench/wrk/s3_put.lua,
     s3_get.lua) at each connection count, servers taking turns run by run;
  2. PutObject / GetObject of 64 MB objects, one at a time, with a small streaming client;
  3. ListObjectsV2 over 10,000 keys: full listings in 1000-key pages (continuation tokens);
  4. `aws s3 cp` of a 1 GiB file up and down (AWS CLI v1, `python3 -m awscli`), against a plain
     local `cp` of the same file, with the server's VmRSS sampled every 100 ms (salespipe only
     unless --cp-servers says otherwise: moto keeps objects in memory).

Writes bench/results/<timestamp>-s3.md, -s3.json and a folder of raw outputs.
`s3_bench.py --render results/<timestamp>-s3.json` prints an earlier report again.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH_DIR)
import driver  # noqa: E402  (bench/driver.py: shared machinery)
from driver import log  # noqa: E402

SERVERS = ["salespipe", "moto"]
KB, MB, GIB = 1000, 1000 * 1000, 1 << 30
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64)
HEADERS = {"X-Amz-Date": "20250101T000000Z", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
           "Authorization": AUTHORIZATION}
LIST_KEYS = 10000
SMALL_TARGET = 20.0      # x moto, 1 KB PUT and GET at the highest connection count
LARGE_TARGET = 0.50      # of the local cp rate
RSS_FLAT_MIB = 64        # max - min VmRSS during the 1 GiB transfers


# ------------------------------------------------------------------------------------------
# A tiny S3 client (path-style, unsigned; servers run without signature checks)

class Client:
    def __init__(self, url):
        self.host, self.port = url.split("//")[1].split(":")
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=120)
        return self.conn

    def request(self, method, path, body=None, sink=None):
        """Returns (status, body bytes or byte count when `sink` is a bytearray to read into)."""
        for attempt in range(2):
            conn = self._conn()
            try:
                headers = dict(HEADERS)
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                if sink is not None:
                    view, total = memoryview(sink), 0
                    while True:
                        n = response.readinto(view)
                        if not n:
                            break
                        total += n
                    data = total
                else:
                    data = response.read()
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    self.close()
                return response.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check(status, what):
    if status // 100 != 2:
        raise RuntimeError(f"{what}: HTTP {status}")


def load_objects(url, bucket, names, size, threads=8):
    """PUTs objects `names` of `size` bytes with `threads` keep-alive clients."""
    body = (b"salespipe-bench-" * (size // 16 + 1))[:size]
    chunks = [names[i::threads] for i in range(threads)]
    errors = []

    def work(part):
        client = Client(url)
        try:
            for name in part:
                status, _ = client.request("PUT", f"/{bucket}/{name}", body)
                check(status, f"PUT {bucket}/{name}")
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(str(e))
        finally:
            client.close()

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(errors[0])


# ------------------------------------------------------------------------------------------
# CPU accounting around runs of this process's own client (the wrk runs use driver.run_wrk)

class CpuMeter:
    def __init__(self, server_pid):
        self.pid = server_pid

    def __enter__(self):
        self.t0 = time.monotonic()
        self.server0 = driver.process_tree_cpu(self.pid)
        self.machine0 = driver.machine_cpu_seconds()
        self.self0 = self._own()
        return self

    @staticmethod
    def _own():
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.t0
        server = driver.process_tree_cpu(self.pid) - self.server0
        client = self._own() - self.self0
        m1 = driver.machine_cpu_seconds()
        delta = {k: m1[k] - self.machine0[k] for k in m1}
        other = max(0.0, delta["tasks"] - server - client + delta["steal"])
        e = max(self.elapsed, 1e-9)
        self.cpu = {"server_cpu_cores": round(server / e, 2), "wrk_cpu_cores": round(client / e, 2),
                    "irq_cpu_cores": round(delta["irq"] / e, 2),
                    "other_cpu_cores": round(other / e, 2)}
        return False


def percentile(values, p):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ------------------------------------------------------------------------------------------
# The runs

def wrk_run(args, server, script, conns, tag, bucket, arg, raw_dir, label):
    seconds = args.duration
    result = driver.run_wrk(args, server.url, script, conns, seconds, tag, [bucket, str(arg)],
                            os.path.join(raw_dir, f"{server.name}-{label}-c{conns}.txt"),
                            server_pid=server.proc.pid)
    if result.get("rps") is not None:
        result["mb_per_s"] = result["rps"] * arg / MB if "put" in script else None
    if server.proc.poll() is not None:
        result["problems"].append("server died")
    return result


def large_run(args, server, bucket, size, count):
    """PUT then GET `count` objects of `size` bytes one at a time; MB/s and latencies."""
    body = os.urandom(1 << 20) * (size // (1 << 20))
    sink = bytearray(1 << 20)
    out = {}
    client = Client(server.url)
    try:
        for op in ("PutObject", "GetObject"):
            driver.settle(server.proc.pid, args.settle_limit)
            lat, problems = [], []
            with CpuMeter(server.proc.pid) as meter:
                for i in range(count):
                    t = time.monotonic()
                    if op == "PutObject":
                        status, _ = client.request("PUT", f"/{bucket}/big-{i}", body)
                    else:
                        status, n = client.request("GET", f"/{bucket}/big-{i}", sink=sink)
                        if status == 200 and n != size:
                            problems.append(f"GET big-{i} returned {n} bytes")
                    lat.append(time.monotonic() - t)
                    if status // 100 != 2:
                        problems.append(f"{op} big-{i}: HTTP {status}")
                        break
            total = sum(lat)
            out[op] = {"requests": len(lat), "seconds": round(total, 3),
                       "rps": len(lat) / total if total else 0,
                       "mb_per_s": len(lat) * size / MB / total if total else 0,
                       "p50_us": percentile(lat, 50) * 1e6, "p99_us": percentile(lat, 99) * 1e6,
                       "problems": problems, **meter.cpu}
    finally:
        client.close()
    return out


def list_run(args, server, bucket):
    """Full ListObjectsV2 listings (1000-key pages) for args.duration seconds, 1 connection."""
    client = Client(server.url)
    lat, listings, keys, problems = [], 0, 0, []
    driver.settle(server.proc.pid, args.settle_limit)
    try:
        with CpuMeter(server.proc.pid) as meter:
            deadline = time.monotonic() + args.duration
            while time.monotonic() < deadline or listings == 0:
                token, seen = None, 0
                while True:
                    path = f"/{bucket}?list-type=2&max-keys=1000"
                    if token:
                        path += "&continuation-token=" + urllib_quote(token)
                    t = time.monotonic()
                    status, data = client.request("GET", path)
                    lat.append(time.monotonic() - t)
                    if status != 200:
                        problems.append(f"ListObjectsV2: HTTP {status}")
                        break
                    seen += data.count(b"<Key>")
                    m = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", data)
                    if not m:
                        break
                    token = m.group(1).decode().replace("&amp;", "&")
                if problems:
                    break
                if seen != LIST_KEYS:
                    problems.append(f"a full listing returned {seen} keys, not {LIST_KEYS}")
                    break
                listings += 1
                keys += seen
    finally:
        client.close()
    e = meter.elapsed
    return {"listings": listings, "pages": len(lat), "seconds": round(e, 3),
            "listings_per_s": listings / e, "keys_per_s": keys / e,
            "p50_us": percentile(lat, 50) * 1e6, "p99_us": percentile(lat, 99) * 1e6,
            "problems": problems, **meter.cpu}


def urllib_quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


class RssSampler(threading.Thread):
    """VmRSS of a process every 100 ms, in KiB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop_flag = pid, [], threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                for line in open(f"/proc/{self.pid}/status"):
                    if line.startswith("VmRSS:"):
                        self.samples.append(int(line.split()[1]))
            except OSError:
                pass
            self.stop_flag.wait(0.1)

    def finish(self):
        self.stop_flag.set()
        self.join()
        s = self.samples or [0]
        return {"rss_min_mib": round(min(s) / 1024, 1), "rss_max_mib": round(max(s) / 1024, 1),
                "rss_samples": len(self.samples)}


def timed(argv, env=None, log_path=None):
    t = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - t
    if log_path:
        with open(log_path, "a") as f:
            f.write(" ".join(argv) + f"\n(exit {proc.returncode}, {elapsed:.2f} s)\n"
                    + proc.stdout[-2000:] + proc.stderr[-2000:] + "\n")
    return elapsed, proc


def make_big_file(path, size):
    block = os.urandom(64 << 20)
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)


def cp_runs(args, servers, raw_dir, work_dir):
    """Local cp of a 1 GiB file, then `aws s3 cp` up and down per server with RSS sampling."""
    size = args.cp_bytes
    src = os.path.join(work_dir, "big.bin")
    make_big_file(src, size)
    out = {"bytes": size, "servers": {}}
    log_path = os.path.join(raw_dir, "cp.txt")
    # The disk's limit: a plain copy of the same file (twice; the better one counts).
    best = None
    for i in range(2):
        dst = os.path.join(work_dir, f"local-{i}.bin")
        elapsed, proc = timed(["cp", src, dst], log_path=log_path)
        os.unlink(dst)
        if proc.returncode == 0:
            best = elapsed if best is None else min(best, elapsed)
    out["local_cp_seconds"] = best
    out["local_cp_mb_per_s"] = size / MB / best if best else None
    # For reference, the same copy made durable (cp, then fsync of the copy: `sync FILE`).
    dst = os.path.join(work_dir, "local-sync.bin")
    elapsed, proc = timed(["sh", "-c", 'cp "$1" "$2" && sync "$2"', "cp", src, dst],
                          log_path=log_path)
    os.unlink(dst)
    out["local_cp_sync_mb_per_s"] = size / MB / elapsed if proc.returncode == 0 else None
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    for server in servers:
        res = {"problems": []}
        aws = [sys.executable, "-m", "awscli", "--endpoint-url", server.url, "s3", "cp",
               "--only-show-errors"]
        for direction in ("upload", "download"):
            driver.settle(server.proc.pid, args.settle_limit)
            dst = os.path.join(work_dir, f"down-{server.name}.bin")
            argv = aws + ([src, "s3://bench-cp/big.bin"] if direction == "upload"
                          else ["s3://bench-cp/big.bin", dst])
            sampler = RssSampler(server.proc.pid)
            sampler.start()
            with CpuMeter(server.proc.pid) as meter:
                elapsed, proc = timed(argv, env=env, log_path=log_path)
            rss = sampler.finish()
            r = {"seconds": round(elapsed, 2), "mb_per_s": size / MB / elapsed, **rss, **meter.cpu}
            if proc.returncode != 0:
                res["problems"].append(f"{direction}: aws exit {proc.returncode}: "
                                       f"{proc.stderr.strip()[-200:]}")
            if direction == "download" and proc.returncode == 0:
                if subprocess.run(["cmp", "-s", src, dst]).returncode != 0:
                    res["problems"].append("downloaded file differs from the original")
            if os.path.exists(dst):
                os.unlink(dst)
            res[direction] = r
            log(f"{server.name}: aws s3 cp {direction} {elapsed:.1f}s "
                f"({r['mb_per_s']:.0f} MB/s), RSS {rss['rss_min_mib']}-{rss['rss_max_mib']} MiB")
        out["servers"][server.name] = res
    os.unlink(src)
    return out


# ------------------------------------------------------------------------------------------
# Servers

def start_server(name, args, raw_dir):
    data_dir = tempfile.mkdtemp(prefix=f"bench-s3-{name}-", dir=args.tmp_dir)
    port = driver.free_port()
    if name == "salespipe":
        argv = [args.salespipe, "serve", "--port", str(port), "--data-dir", data_dir,
                "--auth", "off", "--log-level", "warn"]
    else:
        argv = [args.moto_server, "-H", "127.0.0.1", "-p", str(port)]
    server = driver.Server(name, argv, os.path.join(raw_dir, f"{name}-server.log"))
    server.data_dir = data_dir
    log(f"{name}: starting on port {port}")
    problem = server.start(port, needs_dynamodb=False)
    deadline = time.monotonic() + 30
    while not problem:
        try:
            status, _ = Client(server.url).request("GET", "/")
            if status == 200:
                break
            problem = f"ListBuckets answered {status}"
        except OSError as e:
            if time.monotonic() > deadline:
                problem = str(e)
        time.sleep(0.1)
    if problem:
        log(f"{name}: skipped, {problem}")
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        return None, problem
    return server, None


def bench(args, raw_dir, results):
    live = {}
    outs = results["servers"]
    for name in args.servers:
        outs[name] = {"runs": {}, "skipped": None}
        if name == "salespipe" and not os.access(args.salespipe, os.X_OK):
            outs[name]["skipped"] = f"{args.salespipe} is not built"
            continue
        server, problem = start_server(name, args, raw_dir)
        if problem:
            outs[name]["skipped"] = problem
            continue
        live[name] = server
        c = Client(server.url)
        for bucket in ("bench-1k", "bench-1m", "bench-64m", "bench-list", "bench-cp"):
            check(c.request("PUT", "/" + bucket)[0], "CreateBucket " + bucket)
        c.close()
        t = time.monotonic()
        load_objects(server.url, "bench-1k", [f"obj-{i}" for i in range(args.get_objects)], KB)
        load_objects(server.url, "bench-1m", [f"obj-{i}" for i in range(args.get_objects_1m)], MB)
        load_objects(server.url, "bench-list", [f"data/part-{i:05d}.json" for i in range(LIST_KEYS)],
                     16)
        outs[name]["load_seconds"] = round(time.monotonic() - t, 1)
        log(f"{name}: loaded {args.get_objects} x 1 KB, {args.get_objects_1m} x 1 MB, "
            f"{LIST_KEYS} list keys in {outs[name]['load_seconds']}s")
    try:
        for size, label, bucket, count in ((KB, "1KB", "bench-1k", args.get_objects),
                                           (MB, "1MB", "bench-1m", args.get_objects_1m)):
            for op, script, arg in (("PutObject", "s3_put.lua", size),
                                    ("GetObject", "s3_get.lua", count)):
                key = f"{op} {label}"
                for conns in args.conns:
                    for name, server in live.items():
                        tag = f"{label.lower()}c{conns}"
                        r = wrk_run(args, server, script, conns, tag, bucket, arg, raw_dir,
                                    f"{op}-{label}")
                        if op == "GetObject" and r.get("rps") is not None:
                            r["mb_per_s"] = r["rps"] * size / MB
                        if op == "PutObject" and not r["problems"]:
                            # A key the first thread certainly wrote reads back whole.
                            status, data = Client(server.url).request(
                                "GET", f"/{bucket}/put-{tag}-1-2")
                            if status != 200 or len(data) != size:
                                r["problems"].append(f"put-{tag}-1-2 does not read back "
                                                     f"(HTTP {status}, {len(data)} bytes)")
                        outs[name]["runs"].setdefault(key, {})[str(conns)] = r
                        log(f"{name}: {key} c{conns}: {r.get('rps', 0):.0f} req/s"
                            + (f" ({'; '.join(r['problems'])})" if r["problems"] else ""))
        for name, server in live.items():
            r = large_run(args, server, "bench-64m", 64 << 20, args.large_count)
            for op, v in r.items():
                outs[name]["runs"].setdefault(f"{op} 64MB", {})["1"] = v
                log(f"{name}: {op} 64MB: {v['mb_per_s']:.0f} MB/s")
        for name, server in live.items():
            r = list_run(args, server, "bench-list")
            outs[name]["list"] = r
            log(f"{name}: ListObjectsV2: {r['listings_per_s']:.2f} listings/s")
        cp_servers = [live[n] for n in args.cp_servers if n in live]
        if cp_servers and args.cp_bytes > 0:
            work_dir = tempfile.mkdtemp(prefix="bench-s3-cp-", dir=args.tmp_dir)
            try:
                results["cp"] = cp_runs(args, cp_servers, raw_dir, work_dir)
            finally:
                shutil.rmtree(work_dir, ignore_errors=True)
    finally:
        for server in live.values():
            server.stop()
            shutil.rmtree(server.data_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# Report

def fmt_rate(x):
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_us(us):
    return driver.fmt_us(us) if us is not None else "—"


def disturbed(run):
    return (run.get("other_cpu_cores") or 0) > driver.DISTURBED_CORES


def cell(run, field):
    if run is None:
        return "—"
    if run.get("problems"):
        return "INVALID"
    return fmt_rate(run.get(field)) + (" †" if disturbed(run) else "")


def build_report(results):
    lines = [f"# S3 benchmark {results['started']}", ""]
    m, v = results["machine"], results["versions"]
    lines += [f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, load "
              f"{m['load_before']} before, {m.get('load_after', '?')} after. salespipe "
              f"{v.get('salespipe_commit')} ({v.get('salespipe_binary')}), moto {v.get('moto')}, "
              f"{v.get('wrk')}, {v.get('awscli')}.", "",
              f"Settings: {json.dumps(results['settings'])}", "",
              "† = others used more than 0.3 cores during the run (disturbed). INVALID = errors, "
              "a dead server or a write that did not read back (left out of the ratios).", ""]
    outs = results["servers"]
    names = [n for n in SERVERS if n in outs]
    for n in names:
        if outs[n].get("skipped"):
            lines.append(f"- {n}: skipped ({outs[n]['skipped']})")
    lines += ["", "## PUT and GET", "",
              "| operation | conns | " + " | ".join(f"{n} req/s | {n} MB/s | {n} p50 | {n} p99"
                                                    for n in names)
              + " | salespipe/moto |", "|---|---:|" + "---:|" * (4 * len(names) + 1)]
    keys = []
    for n in names:
        for k in outs[n].get("runs", {}):
            if k not in keys:
                keys.append(k)
    ratios = {}
    for k in keys:
        conns = []
        for n in names:
            for c in outs[n]["runs"].get(k, {}):
                if c not in conns:
                    conns.append(c)
        for c in conns:
            row = [k, c]
            for n in names:
                r = outs[n].get("runs", {}).get(k, {}).get(c)
                row += [cell(r, "rps"), cell(r, "mb_per_s"),
                        fmt_us(r.get("p50_us")) if r else "—", fmt_us(r.get("p99_us")) if r else "—"]
            s = outs.get("salespipe", {}).get("runs", {}).get(k, {}).get(c)
            p = outs.get("moto", {}).get("runs", {}).get(k, {}).get(c)
            ratio = None
            if s and p and not s.get("problems") and not p.get("problems") and p.get("rps"):
                ratio = s["rps"] / p["rps"]
                ratios[(k, c)] = ratio
            row.append(f"{ratio:.1f}x" if ratio else "—")
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "CPU per run (cores: server / load generator / kernel network / others):", "",
              "| operation | conns | " + " | ".join(names) + " |", "|---|---:|" + "---|" * len(names)]
    for k in keys:
        for c in sorted({c for n in names for c in outs[n].get("runs", {}).get(k, {})}, key=int):
            row = [k, c]
            for n in names:
                r = outs[n].get("runs", {}).get(k, {}).get(c)
                row.append("—" if not r or r.get("server_cpu_cores") is None else
                           f"{r.get('server_cpu_cores')} / {r.get('wrk_cpu_cores')} / "
                           f"{r.get('irq_cpu_cores')} / {r.get('other_cpu_cores')}")
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## ListObjectsV2 over 10,000 keys (full listings, 1000-key pages, 1 connection)",
              "", "| server | listings/s | keys/s | page p50 | page p99 | server / client / others CPU |",
              "|---|---:|---:|---:|---:|---|"]
    list_ratio = None
    for n in names:
        r = outs[n].get("list")
        if not r:
            continue
        lines.append(f"| {n} | {cell(r, 'listings_per_s')} | {cell(r, 'keys_per_s')} | "
                     f"{fmt_us(r['p50_us'])} | {fmt_us(r['p99_us'])} | {r['server_cpu_cores']} / "
                     f"{r['wrk_cpu_cores']} / {r['other_cpu_cores']} |")
    s, p = outs.get("salespipe", {}).get("list"), outs.get("moto", {}).get("list")
    if s and p and p.get("listings_per_s") and not s["problems"] and not p["problems"]:
        list_ratio = s["listings_per_s"] / p["listings_per_s"]
        lines += ["", f"salespipe/moto: {list_ratio:.1f}x"]
    for n in names:
        for where in ("list",):
            r = outs[n].get(where)
            if r and r.get("problems"):
                lines.append(f"- {n} listing problems: {'; '.join(r['problems'])}")
    cp = results.get("cp")
    if cp:
        lines += ["", f"## aws s3 cp of a {cp['bytes'] / GIB:.0f} GiB file (AWS CLI v1) vs local cp",
                  "", f"Local `cp` of the same file: {cp['local_cp_seconds']:.2f} s = "
                  f"{fmt_rate(cp['local_cp_mb_per_s'])} MB/s (the better of two; page cache warm, "
                  "no fsync — like the server under --durability os). The same copy followed by an fsync "
                  f"of the copy: {fmt_rate(cp.get('local_cp_sync_mb_per_s'))} MB/s.", "",
                  "| server | direction | seconds | MB/s | % of local cp | VmRSS min–max (MiB) | "
                  "server / client / others CPU |", "|---|---|---:|---:|---:|---|---|"]
        for n, res in cp["servers"].items():
            for d in ("upload", "download"):
                r = res.get(d)
                if not r:
                    continue
                share = r["mb_per_s"] / cp["local_cp_mb_per_s"] if cp["local_cp_mb_per_s"] else None
                lines.append(f"| {n} | {d} | {r['seconds']} | {fmt_rate(r['mb_per_s'])}"
                             f"{' †' if disturbed(r) else ''} | "
                             f"{share * 100:.0f}% | {r['rss_min_mib']}–{r['rss_max_mib']} | "
                             f"{r['server_cpu_cores']} / {r['wrk_cpu_cores']} / "
                             f"{r['other_cpu_cores']} |")
            if res.get("problems"):
                lines.append(f"- {n}: {'; '.join(res['problems'])}")
    # Targets.
    lines += ["", "## Targets (issue 4)", ""]
    top = str(max(results["settings"]["conns"]))
    for k in ("PutObject 1KB", "GetObject 1KB"):
        r = ratios.get((k, top))
        lines.append(f"- {k} at {top} connections: ≥{SMALL_TARGET:.0f}x moto: "
                     + (f"{r:.1f}x — {'PASS' if r >= SMALL_TARGET else 'FAIL'}" if r else "n/a"))
    local = cp.get("local_cp_mb_per_s") if cp else None
    sp = outs.get("salespipe", {})
    for what, r in (("PutObject 64MB", sp.get("runs", {}).get("PutObject 64MB", {}).get("1")),
                    ("GetObject 64MB", sp.get("runs", {}).get("GetObject 64MB", {}).get("1")),
                    ("aws s3 cp upload 1 GiB", (cp or {}).get("servers", {}).get("salespipe", {}).get("upload")),
                    ("aws s3 cp download 1 GiB", (cp or {}).get("servers", {}).get("salespipe", {}).get("download"))):
        if r and local and not r.get("problems"):
            share = r["mb_per_s"] / local
            lines.append(f"- {what}: ≥{LARGE_TARGET:.0%} of local cp: {share:.0%} "
                         f"({fmt_rate(r['mb_per_s'])} of {fmt_rate(local)} MB/s) — "
                         f"{'PASS' if share >= LARGE_TARGET else 'FAIL'}")
    for d in ("upload", "download"):
        r = (cp or {}).get("servers", {}).get("salespipe", {}).get(d)
        if r:
            growth = r["rss_max_mib"] - r["rss_min_mib"]
            lines.append(f"- VmRSS during the 1 GiB {d}: {r['rss_min_mib']}–{r['rss_max_mib']} MiB "
                         f"(+{growth:.0f} MiB; flat = under {RSS_FLAT_MIB} MiB) — "
                         f"{'PASS' if growth < RSS_FLAT_MIB else 'FAIL'}")
    return "\n".join(lines) + "\n"


def parse_args():
    build_dir = os.environ.get("BUILD_DIR", os.path.join(os.path.dirname(BENCH_DIR), "build"))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 s runs, fewer objects, 3 x 64 MB")
    p.add_argument("--duration", type=int, help="seconds per run (default 5, --quick 2)")
    p.add_argument("--servers", default=",".join(SERVERS))
    p.add_argument("--conns", default="1,16", help="connection counts of the wrk runs")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wait-quiet", type=float, default=0,
                   help="before each wrk run wait up to this many seconds for others to go idle")
    p.add_argument("--settle-limit", type=float, default=30)
    p.add_argument("--get-objects", type=int, help="1 KB objects loaded for GET (default 1000)")
    p.add_argument("--large-count", type=int, help="64 MB objects PUT and GET (default 6)")
    p.add_argument("--cp-bytes", type=int, default=GIB, help="size of the aws s3 cp file (0: skip)")
    p.add_argument("--cp-servers", default="salespipe")
    p.add_argument("--tmp-dir", default=None, help="data dirs and the cp file (default $TMPDIR)")
    p.add_argument("--build-dir", default=build_dir)
    p.add_argument("--salespipe")
    p.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    p.add_argument("--results-dir", default=os.path.join(BENCH_DIR, "results"))
    args = p.parse_args()
    args.duration = args.duration or (2 if args.quick else 5)
    args.get_objects = args.get_objects or (200 if args.quick else 1000)
    args.get_objects_1m = max(10, args.get_objects // 10)
    args.large_count = args.large_count or (3 if args.quick else 6)
    args.servers = [s for s in args.servers.split(",") if s]
    args.cp_servers = [s for s in args.cp_servers.split(",") if s]
    args.conns = [int(c) for c in args.conns.split(",") if c]
    args.salespipe = args.salespipe or os.path.join(args.build_dir, "src/server/salespipe")
    args.server_cpus, args.wrk_cpus = "", ""  # run_wrk's pinning: none (see bench/README.md)
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s}")
    return args


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        with open(sys.argv[2]) as f:
            print(build_report(json.load(f)))
        return 0
    args = parse_args()

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-s3"
    os.makedirs(args.results_dir, exist_ok=True)
    raw_dir = os.path.join(args.results_dir, stamp)
    os.makedirs(raw_dir, exist_ok=True)
    versions = driver.versions(argparse.Namespace(salespipe=args.salespipe, dynalite_cli=""))
    versions["awscli"] = driver.command_output([sys.executable, "-m", "awscli", "--version"],
                                               any_exit=True).split(" Python")[0]
    versions.pop("dynalite", None)
    versions.pop("node", None)
    results = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
               "machine": driver.machine_info(), "versions": versions,
               "settings": {k: getattr(args, k) for k in (
                   "duration", "conns", "wrk_threads", "get_objects", "get_objects_1m",
                   "large_count", "cp_bytes", "wait_quiet")},
               "servers": {}}
    interrupted = None
    try:
        bench(args, raw_dir, results)
    except KeyboardInterrupt as e:
        interrupted = str(e) or "interrupted"
        log(f"interrupted ({interrupted}); writing what was measured")
    finally:
        driver.stop_all()
    results["machine"]["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    results["elapsed_seconds"] = round(time.monotonic() - driver._started, 1)
    report = build_report(results)
    if interrupted:
        report = f"**Interrupted ({interrupted}): partial results.**\n\n" + report
    md_path = os.path.join(args.results_dir, f"{stamp}.md")
    with open(md_path, "w") as f:
        f.write(report)
    with open(os.path.join(args.results_dir, f"{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(report)
    log(f"report: {md_path} (raw outputs and server logs in {raw_dir}/)")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
