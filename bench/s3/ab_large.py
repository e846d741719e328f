#!/usr/bin/env python3
"""Interleaved A/B of large-object PUT and GET between salespipe binaries.

    bench/s3/ab_large.py SIZE_BYTES REPS BINARY_A BINARY_B [BINARY_C ...]

Starts each binary (--auth off, default durability, fresh data dir on a free port), then REPS
times, for each binary in turn: PUT one SIZE-byte object (body from memory, UNSIGNED-PAYLOAD),
GET it back whole. Reports per binary the median MB/s of PUT and GET and the median server CPU
(utime + stime from /proc, ms) per request. Taking turns request by request makes the
binaries share whatever else the machine is doing, which a run of each after the other does
not (bench/s3/README.md: the dev VM is shared). Python client: GET rates are client-bound
above ~1 GB/s; the server CPU column is the better comparison there.
"""
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=00")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def request(port: int, method: str, path: str, body: bytes | None = None) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": AUTH, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    if body is not None:
        headers["Content-Length"] = str(len(body))
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    out = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {out[:200]!r}")
    return out


def main() -> None:
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    size, reps, binaries = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    body = os.urandom(size)
    servers = []
    try:
        for binary in binaries:
            data_dir = tempfile.mkdtemp(prefix="ab-large-")
            proc = subprocess.Popen([binary, "serve", "--port", "0", "--host", "127.0.0.1",
                                     "--data-dir", data_dir + "/data", "--log-level", "warn"],
                                    stderr=subprocess.PIPE, text=True)
            while True:
                line = proc.stderr.readline()
                if not line:
                    raise RuntimeError(f"{binary} did not start")
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if match:
                    break
            servers.append((binary, proc, int(match.group(1)), data_dir))
            request(servers[-1][2], "PUT", "/ab-large")
        results = {binary: {"put": [], "get": [], "put_cpu": [], "get_cpu": []}
                   for binary in binaries}
        for i in range(reps):
            for binary, proc, port, _ in servers:
                r = results[binary]
                cpu, start = cpu_seconds(proc.pid), time.perf_counter()
                request(port, "PUT", f"/ab-large/o{i % 4}", body)
                r["put"].append(size / (time.perf_counter() - start) / 1e6)
                r["put_cpu"].append((cpu_seconds(proc.pid) - cpu) * 1000)
                cpu, start = cpu_seconds(proc.pid), time.perf_counter()
                got = request(port, "GET", f"/ab-large/o{i % 4}")
                r["get"].append(size / (time.perf_counter() - start) / 1e6)
                r["get_cpu"].append((cpu_seconds(proc.pid) - cpu) * 1000)
                if got != body:
                    raise RuntimeError(f"{binary}: GET returned other bytes")
        print(f"{size} bytes x {reps}, medians (load {os.getloadavg()[0]:.1f}):")
        for binary in binaries:
            r = results[binary]
            print(f"  {binary}: PUT {statistics.median(r['put']):.0f} MB/s, "
                  f"{statistics.median(r['put_cpu']):.0f} ms CPU; "
                  f"GET {statistics.median(r['get']):.0f} MB/s, "
                  f"{statistics.median(r['get_cpu']):.0f} ms CPU")
    finally:
        for _, proc, _, data_dir in servers:
            proc.terminate()
            proc.wait()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
