#!/usr/bin/env python3
"""CDC in steady state: back-to-back PutItem runs on ONE salespipe, with compaction counted.

The Kinesis suite's CDC part takes turns between three tables on one server, so RocksDB's
compaction of what one variant wrote lands on whichever run is going when it starts. This
runs one variant alone: `--runs` wrk runs of PutItem (wrk/put_item.lua) at `--conns`, each
followed by a settle (until the server is idle), and prints per run req/s, server CPU per put
(run + settle) and the settle time; then the CPU of every compaction from RocksDB's LOG
(`compaction_finished` events). bench/README.md, "CDC cost in steady state", was measured so:

    BUILD_DIR=build bench/cdc_steady.py --variant cdc --runs 6 --conns 64

Variants: plain (no stream), stream (NEW_AND_OLD_IMAGES), cdc (stream + Kinesis destination,
4 shards). Needs wrk and a built salespipe ($BUILD_DIR/src/server/salespipe).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile

import driver
import kinesis_cdc

TABLE = "bench_steady"


def setup(url, variant):
    client = kinesis_cdc.Client(url, timeout=60)
    if variant == "plain":
        kinesis_cdc.create_table(client, TABLE)
    elif variant == "stream":
        kinesis_cdc.create_table(client, TABLE, "NEW_AND_OLD_IMAGES")
    else:
        kinesis_cdc.setup_cdc_table(client, TABLE, "bench_steady_cdc", 4)
    client.close()


def compaction_cpu(log_path):
    """(count, CPU seconds) of the compactions RocksDB logged."""
    count, cpu = 0, 0.0
    with open(log_path, errors="replace") as f:
        for line in f:
            match = re.search(r"EVENT_LOG_v1 (\{.*\})", line)
            if not match:
                continue
            event = json.loads(match.group(1))
            if event.get("event") == "compaction_finished":
                count += 1
                cpu += event.get("compaction_time_cpu_micros", 0) / 1e6
    return count, cpu


def main():
    build = os.environ.get("BUILD_DIR", os.path.join(driver.REPO_DIR, "build"))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", choices=["plain", "stream", "cdc"], default="cdc")
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--duration", type=int, default=5, help="seconds per run")
    p.add_argument("--settle-limit", type=float, default=30)
    p.add_argument("--salespipe", default=os.path.join(build, "src", "server", "salespipe"))
    args = p.parse_args()

    data_dir = tempfile.mkdtemp(prefix="bench-cdc-steady-")
    port = driver.free_port()
    server = driver.Server("salespipe", [
        args.salespipe, "serve", "--port", str(port), "--data-dir", data_dir, "--auth", "off",
        "--log-level", "warn"], os.path.join(data_dir, "server.log"))
    try:
        problem = server.start(port)
        if problem:
            raise SystemExit(f"salespipe: {problem}")
        setup(server.url, args.variant)
        pid = server.proc.pid
        script = os.path.join(driver.WRK_DIR, "put_item.lua")
        for run in range(1, args.runs + 1):
            cpu_before = driver.process_tree_cpu(pid)
            out = subprocess.run(
                ["wrk", "-t", "2", "-c", str(args.conns), "-d", f"{args.duration}s", "-s", script,
                 server.url + "/", "--", f"s{run}", TABLE],
                capture_output=True, text=True, check=True).stdout
            settled = driver.settle(pid, args.settle_limit)
            cpu = driver.process_tree_cpu(pid) - cpu_before
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            print(f"{args.variant} run {run}: {rps:,.0f} req/s, server CPU per put "
                  f"{cpu / requests * 1e6:.1f} us, settle {settled:.1f} s", flush=True)
        count, cpu = compaction_cpu(os.path.join(data_dir, "db", "LOG"))
        print(f"compactions: {count}, CPU {cpu:.2f} s")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
