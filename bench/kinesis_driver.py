#!/usr/bin/env python3
"""Runs the Kinesis benchmark: salespipe, kinesalite and moto side by side in one run, then
the cost and the latency of CDC (table -> Kinesis) on salespipe.

Started by `bench/run.sh --suite kinesis`, which installs kinesalite first; see bench/README.md.
Reuses driver.py's machinery (servers in their own sessions on free ports, wrk runs with CPU
accounting, settle, wait-quiet, the trivial_http ceiling, formatting).

1. Kinesis API, every server: PutRecord, PutRecords (500 x 300 B) and GetRecords (Limit 10000
   from a shard pre-filled with 10000 records), taking turns run by run as in driver.py.
2. CDC cost, salespipe (a fresh instance): PutItem (wrk/put_item.lua) on a plain table, on a
   table with a DynamoDB stream (NEW_AND_OLD_IMAGES), and on a table with the stream and a
   Kinesis streaming destination, taking turns; then the destination is read back in full.
3. CDC latency, salespipe: kinesis_cdc.py latency (PutItem acknowledged -> readable in Kinesis).

Writes bench/results/<timestamp>-kinesis.md and .json (also latest-kinesis.md) and a folder of
raw outputs. `kinesis_driver.py --render results/<timestamp>-kinesis.json` renders again.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402  (bench/driver.py: the DynamoDB suite's machinery)
import kinesis_cdc  # noqa: E402
from driver import fmt_cpu, fmt_rate, fmt_ratio, fmt_us, log  # noqa: E402

BENCH_DIR = driver.BENCH_DIR
SERVERS = ["salespipe", "kinesalite", "moto"]
PEERS = ["kinesalite", "moto"]
BATCH = 500          # records per PutRecords (kinesis_put_records.lua)
RECORD_BYTES = 300   # kinesis_common.lua
PUT_STREAM, PUT_SHARDS = "bench_put", 4
GET_STREAM = "bench_get"  # one shard

# name, wrk script, tag prefix
OPERATIONS = [
    ("PutRecord", "kinesis_put_record.lua", "kr"),
    ("PutRecords", "kinesis_put_records.lua", "kb"),
    ("GetRecords", "kinesis_get_records.lua", "kg"),
]
# The targets, in records/s against kinesalite, at the highest connection count run.
TARGETS = [("PutRecords", 15.0), ("GetRecords", 10.0), ("PutRecord", 8.0)]
CDC_TARGET = 0.25  # streams + destination cost at most 25% of PutItem throughput
LATENCY_TARGET_MS = 20.0

CDC_VARIANTS = [
    ("plain", "bench_sales", "no stream"),
    ("stream", "bench_sales_stream", "StreamSpecification NEW_AND_OLD_IMAGES"),
    ("cdc", "bench_sales_cdc", "stream + Kinesis streaming destination"),
]
CDC_STREAM, CDC_SHARDS = "bench_cdc", 4
LAT_TABLE, LAT_STREAM = "bench_cdc_latency", "bench_cdc_latency"


def server_argv(name, args, data_dir, salespipe=None):
    pin = driver.pin_prefix(args.server_cpus)
    if name == "salespipe":
        return pin + [salespipe or args.salespipe, "serve", "--port", "{port}", "--data-dir",
                      data_dir, "--auth", "off", "--log-level", "warn"]
    if name == "kinesalite":  # in memory (no --path); it listens on every interface
        return pin + ["node", args.kinesalite_cli, "--port", "{port}", "--createStreamMs", "0",
                      "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "100"]
    if name == "moto":
        return pin + [args.moto_server, "-H", "127.0.0.1", "-p", "{port}"]
    raise ValueError(name)


def start(name, args, raw_dir, log_name, salespipe=None):
    """Starts a server and waits for Kinesis ListStreams; returns (Server, problem)."""
    binary = salespipe or args.salespipe
    if name == "salespipe" and not os.access(binary, os.X_OK):
        return None, f"{binary} is not built"
    data_dir = tempfile.mkdtemp(prefix=f"bench-k-{name}-")
    port = driver.free_port()
    argv = [a.replace("{port}", str(port)) for a in server_argv(name, args, data_dir, binary)]
    server = driver.Server(name, argv, os.path.join(raw_dir, f"{log_name}-server.log"))
    server.data_dir = data_dir
    log(f"{log_name}: starting on port {port}")
    problem = server.start(port, needs_dynamodb=False)
    deadline = time.monotonic() + 60
    while not problem:
        try:
            kinesis_cdc.Client(server.url, timeout=5).kinesis("ListStreams", {})
            return server, None
        except (OSError, kinesis_cdc.ApiError, ValueError) as e:
            if time.monotonic() > deadline or server.proc.poll() is not None:
                problem = f"did not answer Kinesis ListStreams: {e}"
            time.sleep(0.1)
    driver.stop_server(server)
    return None, problem


def put_all(client, stream, records):
    """PutRecords in batches of 500, retrying rejected records; records: (key, bytes)."""
    import base64
    for i in range(0, len(records), BATCH):
        batch = [{"PartitionKey": k, "Data": base64.b64encode(d).decode()}
                 for k, d in records[i:i + BATCH]]
        for _ in range(20):
            out = client.kinesis("PutRecords", {"StreamName": stream, "Records": batch})
            if not out.get("FailedRecordCount"):
                break
            batch = [b for b, r in zip(batch, out["Records"]) if r.get("ErrorCode")]
            time.sleep(0.05)
        else:
            raise RuntimeError("PutRecords kept rejecting records while pre-filling")


def setup_kinesis(server, args, raw_dir):
    """Streams, pre-fill, and the response sizes of the three operations (for the ceiling)."""
    client = kinesis_cdc.Client(server.url, timeout=120)
    t0 = time.monotonic()
    kinesis_cdc.create_stream(client, PUT_STREAM, PUT_SHARDS)
    kinesis_cdc.create_stream(client, GET_STREAM, 1)
    records = []
    for i in range(args.get_records):
        data = (b'{"order_id":"o-%07d","store":"store-%03d","pad":"' % (i, i % 200))
        data = data + b"x" * (RECORD_BYTES - len(data) - 2) + b'"}'
        records.append((f"cust-{i % 5000}", data))
    put_all(client, GET_STREAM, records)
    load_seconds = time.monotonic() - t0
    shard = kinesis_cdc.shard_ids(client, GET_STREAM)[0]
    it = kinesis_cdc.iterator(client, GET_STREAM, shard)
    out = client.kinesis("GetRecords", {"ShardIterator": it, "Limit": 10000})
    got = len(out.get("Records", []))
    get_bytes = client.last_response_bytes
    again = len(client.kinesis("GetRecords", {"ShardIterator": it, "Limit": 10000})
                .get("Records", []))
    import base64
    data = base64.b64encode(records[0][1]).decode()
    client.kinesis("PutRecord", {"StreamName": PUT_STREAM, "PartitionKey": "k", "Data": data})
    put_bytes = client.last_response_bytes
    client.kinesis("PutRecords", {"StreamName": PUT_STREAM, "Records": [
        {"PartitionKey": f"k{i}", "Data": data} for i in range(BATCH)]})
    puts_bytes = client.last_response_bytes
    client.close()
    setup = {"load_seconds": round(load_seconds, 2), "get_records_per_response": got,
             "iterator_reused_records": again, "response_bytes": {
                 "PutRecord": put_bytes, "PutRecords": puts_bytes, "GetRecords": get_bytes}}
    with open(os.path.join(raw_dir, f"{server.name}-setup.json"), "w") as f:
        json.dump(setup, f)
    if got != min(10000, args.get_records) or again != got:
        raise RuntimeError(f"GetRecords returned {got} records, then {again} with the same "
                           f"iterator; expected {min(10000, args.get_records)}")
    return setup


def write_iterators(server, args, path):
    """Fresh TRIM_HORIZON iterators of the pre-filled shard, JSON-escaped, one per line."""
    client = kinesis_cdc.Client(server.url)
    shard = kinesis_cdc.shard_ids(client, GET_STREAM)[0]
    with open(path, "w") as f:
        for _ in range(args.iterators):
            f.write(json.dumps(kinesis_cdc.iterator(client, GET_STREAM, shard))[1:-1] + "\n")
    client.close()


def records_per_request(op, setup):
    if op == "PutRecord":
        return 1
    if op == "PutRecords":
        return BATCH
    return (setup or {}).get("get_records_per_response")


def check_run(op, result):
    if op == "PutRecords" and result.get("requests"):
        if result.get("failed_records"):
            result["problems"].append(f"{result['failed_records']} records rejected "
                                      "(FailedRecordCount > 0)")


def op_conns(args, op):
    return args.get_conns if op == "GetRecords" else args.conns


def bench_kinesis(args, raw_dir, results):
    outs = results["servers"]
    ceiling = {"runs": {}, "skipped": None}
    if not args.no_ceilings:
        results["wrk_ceiling"] = ceiling
    live = {}
    trivial = None
    try:
        for name in SERVERS:
            if name not in args.servers:
                continue
            outs[name] = {"name": name, "runs": {}, "skipped": None}
            server, problem = start(name, args, raw_dir, name)
            if server:
                try:
                    outs[name]["setup"] = setup_kinesis(server, args, raw_dir)
                    log(f"{name}: streams ready, {args.get_records} records pre-filled in "
                        f"{outs[name]['setup']['load_seconds']} s")
                    live[name] = server
                    continue
                except (OSError, RuntimeError, ValueError, KeyError, kinesis_cdc.ApiError) as e:
                    problem = f"setup failed: {e}"
                    driver.stop_server(server)
            outs[name]["skipped"] = problem
            log(f"{name}: skipped, {problem}")
        reference = next((o.get("setup") for o in outs.values() if o.get("setup")), {})
        for op, script, prefix in OPERATIONS:
            if op not in args.ops:
                continue
            # The peers answer a PutRecords or GetRecords in 0.1-0.8 s: at 64 connections their
            # queue is seconds long.
            timeout = "10s" if op == "PutRecord" else "30s"
            iter_file = {n: os.path.join(raw_dir, f"{n}-iterators.txt") for n in live}

            def extra(name):
                return [iter_file[name] if op == "GetRecords" else PUT_STREAM]

            if not args.no_ceilings and not ceiling["skipped"]:
                body = reference.get("response_bytes", {}).get(op, 100)
                trivial, ceiling["skipped"] = start_trivial(args, raw_dir, op, body)
            if args.warmup > 0:
                for name, server in live.items():
                    if op == "GetRecords":
                        write_iterators(server, args, iter_file[name])
                    driver.run_wrk(args, server.url, script, min(8, max(op_conns(args, op))),
                                   args.warmup, prefix + "w", extra(name),
                                   os.path.join(raw_dir, f"{name}-{op}-warmup.txt"),
                                   server.proc.pid, [s.proc.pid for s in live.values()],
                                   timeout=timeout)
            for conns in op_conns(args, op):
                for name, server in list(live.items()):
                    if op == "GetRecords":  # fresh ones: iterators expire after 5 minutes
                        write_iterators(server, args, iter_file[name])
                    seconds = args.moto_duration if name == "moto" else args.duration
                    result = driver.run_wrk(args, server.url, script, conns, seconds,
                                            f"{prefix}{conns}", extra(name),
                                            os.path.join(raw_dir, f"{name}-{op}-c{conns}.txt"),
                                            server.proc.pid,
                                            [s.proc.pid for s in live.values()], timeout=timeout)
                    check_run(op, result)
                    if server.proc.poll() is not None:
                        result["problems"].append(f"server exited ({server.proc.returncode})")
                    per = records_per_request(op, outs[name].get("setup"))
                    if "rps" in result and per:
                        result["records_per_s"] = result["rps"] * per
                    outs[name]["runs"][f"{op}/{conns}"] = result
                    log(f"{name:<10} {op:<10} c={conns:<3} {result.get('rps', 0):>9.0f} req/s "
                        f"{result.get('records_per_s', 0):>10.0f} rec/s  "
                        f"p50 {fmt_us(result.get('p50_us'))}  p99 {fmt_us(result.get('p99_us'))}"
                        f"  cpu srv/wrk/irq/other {fmt_cpu(result)}"
                        + ("  INVALID: " + "; ".join(result["problems"]) if result["problems"]
                           else ""))
                    if server.proc.poll() is not None:
                        outs[name]["skipped"] = f"server exited during {op} c={conns}"
                        driver.stop_server(live.pop(name))
                if trivial:
                    ctag = f"{prefix}{conns}"
                    if op == "GetRecords":
                        with open(os.path.join(raw_dir, "ceiling-iterators.txt"), "w") as f:
                            f.write("AAAA\n")
                    cextra = ([os.path.join(raw_dir, "ceiling-iterators.txt")]
                              if op == "GetRecords" else [PUT_STREAM])
                    result = driver.run_wrk(args, trivial.url, script, conns,
                                            args.ceiling_duration, ctag, cextra,
                                            os.path.join(raw_dir, f"ceiling-{op}-c{conns}.txt"),
                                            trivial.proc.pid, [s.proc.pid for s in live.values()],
                                            timeout=timeout)
                    result["body_bytes"] = trivial.body_bytes
                    ceiling["runs"][f"{op}/{conns}"] = result
                    log(f"{'ceiling':<10} {op:<10} c={conns:<3} {result.get('rps', 0):>9.0f} "
                        f"req/s  (wrk -> trivial_http)  cpu srv/wrk/irq/other {fmt_cpu(result)}")
            if trivial:
                trivial.stop()
                trivial = None
    finally:
        if trivial:
            trivial.stop()
        for server in live.values():
            driver.stop_server(server)


def start_trivial(args, raw_dir, op, body_bytes):
    if not os.access(args.trivial_http, os.X_OK):
        return None, f"{args.trivial_http} is not built"
    port = driver.free_port()
    argv = driver.pin_prefix(args.server_cpus) + [
        args.trivial_http, "--port", str(port), "--threads", str(args.trivial_threads),
        "--body-bytes", str(body_bytes)]
    server = driver.Server("trivial_http", argv, os.path.join(raw_dir, f"trivial_http-{op}.log"))
    server.body_bytes = body_bytes
    problem = server.start(port, ready_timeout=10, needs_dynamodb=False)
    if problem:
        server.stop()
        return None, f"trivial_http: {problem}"
    return server, None


# ---------------------------------------------------------------------------------------------
# Parts 2 and 3: CDC on salespipe


def bench_cdc(args, raw_dir, results):
    cdc = results["cdc"] = {"runs": {}, "skipped": None}
    lat = results["latency"] = {"skipped": None}
    binary = args.cdc_salespipe or args.salespipe
    cdc["binary"] = lat["binary"] = binary
    server, problem = start("salespipe", args, raw_dir, "salespipe-cdc", binary)
    if not server:
        cdc["skipped"] = lat["skipped"] = problem
        log(f"cdc: skipped, {problem}")
        return
    try:
        client = kinesis_cdc.Client(server.url, timeout=60)
        try:
            kinesis_cdc.create_table(client, CDC_VARIANTS[0][1])
            kinesis_cdc.create_table(client, CDC_VARIANTS[1][1], "NEW_AND_OLD_IMAGES")
            kinesis_cdc.setup_cdc_table(client, CDC_VARIANTS[2][1], CDC_STREAM, CDC_SHARDS)
            kinesis_cdc.setup_cdc_table(client, LAT_TABLE, LAT_STREAM, 1)
        except (kinesis_cdc.ApiError, RuntimeError, KeyError) as e:
            detail = (e.error_type() if isinstance(e, kinesis_cdc.ApiError) and e.error_type()
                      else str(e).splitlines()[0][:200])
            why = (f"DynamoDB Streams + EnableKinesisStreamingDestination not available in this "
                   f"salespipe build ({binary}): {detail}")
            cdc["skipped"] = lat["skipped"] = why
            log(f"cdc: skipped, {why}")
            return
        client.close()
        log("cdc: tables, stream and destinations ready")
        pid = server.proc.pid
        acked_cdc = 0
        in_flight = 0
        if args.warmup > 0 and "cdc" in args.parts:
            for variant, table, _ in CDC_VARIANTS:
                r = driver.run_wrk(args, server.url, "put_item.lua", 8, args.warmup,
                                   f"cw{variant}", [table],
                                   os.path.join(raw_dir, f"cdc-{variant}-warmup.txt"), pid)
                if variant == "cdc":
                    acked_cdc += r.get("requests", 0)
                    in_flight += 8
        # Rounds: others' load on a shared machine comes and goes; each variant's figure is its
        # median round.
        all_runs = cdc["all_runs"] = {}
        plan = [(r, c) for r in range(args.cdc_rounds) for c in args.conns]
        for round_no, conns in (plan if "cdc" in args.parts else []):
            for variant, table, _ in CDC_VARIANTS:
                driver.settle(pid, args.settle_limit)
                cpu_before = driver.process_tree_cpu(pid)
                t_start = time.monotonic()
                result = driver.run_wrk(args, server.url, "put_item.lua", conns, args.duration,
                                        f"c{variant}{conns}r{round_no}", [table],
                                        os.path.join(raw_dir,
                                                     f"cdc-{variant}-c{conns}-r{round_no}.txt"),
                                        pid)
                t_wrk = time.monotonic()
                # The connector may still be shipping changes after wrk has stopped: count the
                # time and server CPU until the server is idle again.
                result["drain_seconds"] = round(driver.settle(pid, args.settle_limit), 2)
                total_cpu = driver.process_tree_cpu(pid) - cpu_before
                if result.get("requests"):
                    result["server_cpu_us_per_put"] = round(total_cpu / result["requests"] * 1e6, 1)
                result["wall_seconds"] = round(t_wrk - t_start, 2)
                if variant == "cdc":
                    acked_cdc += result.get("requests", 0)
                    in_flight += conns
                if server.proc.poll() is not None:
                    result["problems"].append(f"server exited ({server.proc.returncode})")
                result["round"] = round_no
                all_runs.setdefault(f"{variant}/{conns}", []).append(result)
                log(f"cdc {variant:<7} PutItem c={conns:<3} r{round_no} {result.get('rps', 0):>9.0f} req/s  "
                    f"p50 {fmt_us(result.get('p50_us'))}  p99 {fmt_us(result.get('p99_us'))}  "
                    f"drain {result['drain_seconds']} s  cpu srv/wrk/irq/other {fmt_cpu(result)}"
                    + ("  INVALID: " + "; ".join(result["problems"]) if result["problems"]
                       else ""))
                if server.proc.poll() is not None:
                    cdc["skipped"] = lat["skipped"] = "salespipe exited during the CDC runs"
                    return
        for key, runs in all_runs.items():
            good = sorted((r for r in runs if not r.get("problems") and "rps" in r),
                          key=lambda r: r["rps"])
            chosen = good[(len(good) - 1) // 2] if good else runs[0]
            chosen = dict(chosen, rounds_rps=[round(r.get("rps", 0)) for r in runs])
            cdc["runs"][key] = chosen
        # Everything acknowledged must be in the destination, once.
        t0 = time.monotonic()
        if "latency" not in args.parts and "cdc" not in args.parts:
            return
        client = kinesis_cdc.Client(server.url, timeout=120)
        records, keys = kinesis_cdc.read_stream(client, CDC_STREAM, keys=True)
        client.close()
        cdc["destination"] = {"records": records, "distinct_keys": keys, "acked": acked_cdc,
                              "in_flight_max": in_flight,
                              "read_seconds": round(time.monotonic() - t0, 2)}
        ok = acked_cdc <= keys == records <= acked_cdc + in_flight
        cdc["destination"]["ok"] = ok
        log(f"cdc: destination holds {records} records ({keys} distinct keys) for {acked_cdc} "
            f"acknowledged PutItems (+ at most {in_flight} unacknowledged at run ends): "
            f"{'OK' if ok else 'MISMATCH'}")

        # Part 3: latency.
        driver.settle(pid, args.settle_limit)
        argv = [sys.executable, os.path.join(BENCH_DIR, "kinesis_cdc.py"), "latency",
                "--endpoint", server.url, "--table", LAT_TABLE, "--stream", LAT_STREAM,
                "--samples", str(args.latency_samples), "--rate", str(args.latency_rate)]
        busy_before = driver.machine_cpu_seconds()
        t0 = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        elapsed = time.monotonic() - t0
        busy_after = driver.machine_cpu_seconds()
        with open(os.path.join(raw_dir, "cdc-latency.txt"), "w") as f:
            f.write(" ".join(argv) + "\n\n" + proc.stdout + proc.stderr)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 and not lines:
            lat["skipped"] = f"latency probe failed: {proc.stderr.strip()[-300:]}"
            log(f"cdc latency: {lat['skipped']}")
            return
        lat.update(json.loads(lines[-1]))
        lat["machine_busy_cores"] = round(
            sum(busy_after[k] - busy_before[k] for k in busy_after) / elapsed, 2)
        log(f"cdc latency: p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms"
            f"  ({lat['seen']}/{lat['samples']} seen; PutItem p50 {lat['put_p50_ms']} ms)")
    finally:
        driver.stop_server(server)


# ---------------------------------------------------------------------------------------------
# Report


def run_of(results, name, op, conns):
    return results["servers"].get(name, {}).get("runs", {}).get(f"{op}/{conns}")


def valid(run, key="records_per_s"):
    if not run or run.get("problems") or key not in run:
        return None
    return run[key]


def flag(run):
    out = " **INVALID**" if run.get("problems") else ""
    if (run.get("other_cpu_cores") or 0) > driver.DISTURBED_CORES:
        out += " †"
    return out


def build_report(results):
    a = results["settings"]
    servers = results["servers"]
    ceiling = results.get("wrk_ceiling", {})
    lines = []
    w = lines.append
    w(f"# salespipe Kinesis benchmark — {results['started']}")
    w("")
    m = results["machine"]
    v = results["versions"]
    w(f"- machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, {m['kernel']}; "
      f"load average before the run {m['load_before']}, after {m.get('load_after', '-')}")
    w(f"- salespipe {v.get('salespipe_binary', '?')}, repo at {v.get('salespipe_commit', '?')}; "
      f"CDC parts: {results.get('cdc', {}).get('binary', '-')}; kinesalite "
      f"{v.get('kinesalite', '?')} (node {v.get('node', '?')}, in memory); moto "
      f"{v.get('moto', '?')}; {v.get('wrk', 'wrk')}")
    w(f"- each run {a['duration']} s (moto {a['moto_duration']} s) after a {a['warmup']} s "
      f"warm-up; wrk threads: 1 at 1 connection, else {a['wrk_threads']}; pinning {a['pin']}; "
      f"{PUT_STREAM}: {PUT_SHARDS} shards; {GET_STREAM}: 1 shard pre-filled with "
      f"{a['get_records']} records of {RECORD_BYTES} B; GetRecords reuses {a['iterators']} "
      f"TRIM_HORIZON iterators fetched right before each run")
    w(f"- total time {results.get('elapsed_seconds', 0):.0f} s")
    w("")
    for name, s in servers.items():
        if s.get("skipped"):
            w(f"**{name}: skipped, {s['skipped']}**")
            w("")

    # Targets.
    w("## Targets")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    for op, factor in TARGETS:
        if op not in a["ops"]:
            continue
        conns = max(a["get_conns"] if op == "GetRecords" else a["conns"])
        mine = valid(run_of(results, "salespipe", op, conns))
        base = valid(run_of(results, "kinesalite", op, conns))
        label = f"{op} ≥ {factor:g}x kinesalite, records/s at {conns} conns"
        if mine is None or base is None:
            w(f"| {label} | n/a | not measured |")
        else:
            w(f"| {label} | {fmt_ratio(mine / base)} ({fmt_rate(mine)} vs {fmt_rate(base)}) | "
              f"{'PASS' if mine / base >= factor else 'FAIL'} |")
    cdc = results.get("cdc", {})
    if cdc.get("skipped") or not cdc.get("runs"):
        w(f"| CDC costs ≤ {CDC_TARGET:.0%} of PutItem throughput | n/a | "
          f"not measured: {cdc.get('skipped', 'not run')} |")
    else:
        conns = max(a["conns"])
        plain = valid(cdc["runs"].get(f"plain/{conns}"), "rps")
        with_cdc = valid(cdc["runs"].get(f"cdc/{conns}"), "rps")
        if plain and with_cdc:
            cost = 1 - with_cdc / plain
            w(f"| stream + destination cost ≤ {CDC_TARGET:.0%} of PutItem req/s at {conns} conns"
              f" | {cost:.0%} ({fmt_rate(with_cdc)} vs {fmt_rate(plain)}) | "
              f"{'PASS' if cost <= CDC_TARGET else 'FAIL'} |")
        else:
            w(f"| CDC cost ≤ {CDC_TARGET:.0%} | n/a | a run was INVALID |")
    lat = results.get("latency", {})
    if lat.get("skipped") or lat.get("p99_ms") is None:
        w(f"| PutItem → Kinesis readable p99 < {LATENCY_TARGET_MS:g} ms | n/a | not measured: "
          f"{lat.get('skipped', 'no sample')} |")
    else:
        ok = lat["p99_ms"] < LATENCY_TARGET_MS and not lat.get("missing")
        w(f"| PutItem → Kinesis readable p99 < {LATENCY_TARGET_MS:g} ms | p99 {lat['p99_ms']:.1f} ms"
          f" (p50 {lat['p50_ms']:.1f} ms, {lat['seen']}/{lat['samples']} seen) | "
          f"{'PASS' if ok else 'FAIL'} |")
    w("")

    # Part 1 tables.
    w("## 1. Kinesis API: salespipe vs kinesalite vs moto")
    w("")
    for op, _, _ in OPERATIONS:
        if op not in a["ops"]:
            continue
        unit = {"PutRecord": "1 record of 300 B per request",
                "PutRecords": f"{BATCH} records of 300 B per request",
                "GetRecords": "Limit 10000; every response carries "
                              + ", ".join(f"{n} {s.get('setup', {}).get('get_records_per_response', '?')}"
                                          for n, s in servers.items() if s.get("setup"))
                              + " records"}[op]
        w(f"### {op} ({unit})")
        w("")
        head = "| conns |"
        rule = "|---:|"
        for name in SERVERS:
            head += f" {name} records/s | req/s | p50 | p99 |"
            rule += "---:|---:|---:|---:|"
        head += " salespipe/kinesalite | salespipe/moto | wrk ceiling req/s |"
        rule += "---:|---:|---:|"
        w(head)
        w(rule)
        for conns in (a["get_conns"] if op == "GetRecords" else a["conns"]):
            row = f"| {conns} |"
            for name in SERVERS:
                run = run_of(results, name, op, conns)
                if not run or "rps" not in run:
                    row += " - | - | - | - |"
                    continue
                row += (f" {fmt_rate(run.get('records_per_s'))}{flag(run)} | {fmt_rate(run['rps'])}"
                        f" | {fmt_us(run['p50_us'])} | {fmt_us(run['p99_us'])} |")
            mine = valid(run_of(results, "salespipe", op, conns))
            for peer in PEERS:
                base = valid(run_of(results, peer, op, conns))
                row += f" {fmt_ratio(mine / base) if mine and base else '-'} |"
            crun = ceiling.get("runs", {}).get(f"{op}/{conns}")
            row += f" {fmt_rate(crun['rps']) if crun and 'rps' in crun else '-'} |"
            w(row)
        w("")
    w(f"† other processes used more than {driver.DISTURBED_CORES} cores during that run: the "
      "figure is low and noisy. The wrk ceiling is trivial_http answering a fixed body as large "
      "as salespipe's response (bytes: " + ", ".join(
          f"{op} {r['body_bytes']}" for op, r in sorted(
              {k.split('/')[0]: r for k, r in ceiling.get("runs", {}).items()}.items())) + ").")
    w("")
    w("CPU during each run (cores: server / wrk / kernel network / everything else):")
    w("")
    w("| operation | conns | " + " | ".join(SERVERS) + " | wrk ceiling |")
    w("|---|---:|" + "---:|" * (len(SERVERS) + 1))
    for op, _, _ in OPERATIONS:
        if op not in a["ops"]:
            continue
        for conns in (a["get_conns"] if op == "GetRecords" else a["conns"]):
            cells = []
            for run in [run_of(results, n, op, conns) for n in SERVERS] + [
                    ceiling.get("runs", {}).get(f"{op}/{conns}")]:
                cells.append(fmt_cpu(run) if run and "rps" in run else "-")
            w(f"| {op} | {conns} | " + " | ".join(cells) + " |")
    w("")

    # Part 2.
    w("## 2. Cost of CDC: salespipe PutItem without and with streams")
    w("")
    if cdc.get("skipped") or not cdc.get("runs"):
        w(f"**Not measured: {cdc.get('skipped', 'not run')}**")
    else:
        w("PutItem (`wrk/put_item.lua`, 361-byte items, new keys) on three tables of one fresh "
          "salespipe, taking turns run by run: " + "; ".join(
              f"`{t}`: {d}" for _, t, d in CDC_VARIANTS)
          + f" (`{CDC_STREAM}`, {CDC_SHARDS} shards), {a.get('cdc_rounds', 1)} rounds; each "
          "row is the variant's median round (all rounds' req/s in the last column). *drain*: seconds until the server went idle "
          "after wrk stopped (the connector catching up); *CPU/put*: server CPU from the start of "
          "the run to the end of the drain, per acknowledged PutItem.")
        w("")
        w("| conns | variant | req/s | vs plain | p50 | p99 | drain | server CPU/put | "
          "cpu srv/wrk/irq/other | rounds req/s |")
        w("|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
        for conns in a["conns"]:
            plain = valid(cdc["runs"].get(f"plain/{conns}"), "rps")
            for variant, _, _ in CDC_VARIANTS:
                run = cdc["runs"].get(f"{variant}/{conns}")
                if not run or "rps" not in run:
                    continue
                rel = f"{run['rps'] / plain:.0%}" if plain and not run.get("problems") else "-"
                w(f"| {conns} | {variant} | {fmt_rate(run['rps'])}{flag(run)} | {rel} | "
                  f"{fmt_us(run['p50_us'])} | {fmt_us(run['p99_us'])} | "
                  f"{run.get('drain_seconds', '-')} s | {run.get('server_cpu_us_per_put', '-')} µs"
                  f" | {fmt_cpu(run)} | {', '.join(fmt_rate(x) for x in run.get('rounds_rps', []))} |")
        dest = cdc.get("destination")
        if dest:
            w("")
            w(f"Destination check: `{CDC_STREAM}` holds {dest['records']:,} records "
              f"({dest['distinct_keys']:,} distinct keys) for {dest['acked']:,} acknowledged "
              f"PutItems on the CDC table (+ at most {dest['in_flight_max']} sent but not "
              f"acknowledged when a run stopped): **{'OK' if dest['ok'] else 'MISMATCH'}** "
              f"(read back in {dest['read_seconds']} s).")
    w("")

    # Part 3.
    w("## 3. Latency: PutItem acknowledged → record readable from Kinesis")
    w("")
    if lat.get("skipped") or lat.get("p50_ms") is None:
        w(f"**Not measured: {lat.get('skipped', 'no sample')}**")
    else:
        w(f"{lat['samples']} sequential PutItems at {lat['rate_per_s']:g}/s on `{LAT_TABLE}` "
          f"(destination `{LAT_STREAM}`, 1 shard) while a second process tails the stream "
          f"(GetRecords along the NextShardIterator chain, {lat['poll_ms']:g} ms pause after an "
          "empty read); `kinesis_cdc.py latency`, raw HTTP keep-alive, time.perf_counter.")
        w("")
        w("| p50 | p90 | p99 | max | mean | seen | seen before the ack | PutItem p50 / p99 | "
          "GetRecords p50 / p99 | polls | machine busy |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        w(f"| {lat['p50_ms']:.2f} ms | {lat['p90_ms']:.2f} ms | {lat['p99_ms']:.2f} ms | "
          f"{lat['max_ms']:.2f} ms | {lat['mean_ms']:.2f} ms | {lat['seen']}/{lat['samples']} | "
          f"{lat['before_ack']} | {lat['put_p50_ms']:.2f} / {lat['put_p99_ms']:.2f} ms | "
          f"{lat['get_p50_ms']:.2f} / {lat['get_p99_ms']:.2f} ms | {lat['polls']} | "
          f"{lat.get('machine_busy_cores', '-')} cores |")
    w("")

    problems = []
    for name, s in servers.items():
        for key, run in s.get("runs", {}).items():
            if run.get("problems"):
                problems.append(f"- {name} {key}: " + "; ".join(run["problems"]))
    for key, runs in cdc.get("all_runs", {}).items():
        for run in runs:
            if run.get("problems"):
                problems.append(f"- CDC {key} round {run.get('round')}: "
                                + "; ".join(run["problems"]))
    if problems:
        w("## INVALID runs (left out of every ratio)")
        w("")
        lines.extend(problems)
        w("")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def versions(args):
    out = driver.versions(args)
    out.pop("dynalite", None)
    try:
        pkg = os.path.join(os.path.dirname(args.kinesalite_cli), "package.json")
        out["kinesalite"] = json.load(open(pkg))["version"]
    except (OSError, ValueError, KeyError):
        out["kinesalite"] = "?"
    return out


def parse_args():
    build_dir = os.environ.get("BUILD_DIR", os.path.join(driver.REPO_DIR, "build"))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="about 2 minutes: 2 s runs")
    p.add_argument("--duration", type=int, help="seconds per run (default 5, --quick 2)")
    p.add_argument("--moto-duration", type=int, help="seconds per moto run (default: --duration)")
    p.add_argument("--ceiling-duration", type=int, help="seconds per ceiling run (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds per operation (0: none)")
    p.add_argument("--servers", default=",".join(SERVERS))
    p.add_argument("--ops", default=",".join(o[0] for o in OPERATIONS))
    p.add_argument("--conns", default="1,8,64", help="PutRecord(s) and CDC PutItem")
    p.add_argument("--get-conns", default="1,8",
                   help="GetRecords (a consumer reads a shard on one connection; at 64, 5 MB "
                        "responses from the peers queue past wrk's timeout)")
    p.add_argument("--get-records", type=int, default=10000, help="records pre-filled")
    p.add_argument("--iterators", type=int, default=16)
    p.add_argument("--parts", default="api,cdc,latency")
    p.add_argument("--cdc-rounds", type=int, help="rounds of the CDC runs (default 3, --quick 2)")
    p.add_argument("--latency-samples", type=int, help="default 500, --quick 300")
    p.add_argument("--latency-rate", type=float, default=100)
    p.add_argument("--no-ceilings", action="store_true")
    p.add_argument("--pin", choices=["none", "split"], default="none")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--trivial-threads", type=int, default=0)
    p.add_argument("--wait-quiet", type=float, default=0)
    p.add_argument("--settle-limit", type=float, default=30)
    p.add_argument("--build-dir", default=build_dir)
    p.add_argument("--salespipe")
    p.add_argument("--cdc-salespipe", help="salespipe binary for parts 2 and 3 (default: "
                                           "--salespipe)")
    p.add_argument("--kinesalite-cli", default=os.environ.get("KINESALITE_CLI", ""))
    p.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    p.add_argument("--results-dir", default=os.path.join(BENCH_DIR, "results"))
    args = p.parse_args()
    args.duration = args.duration or (2 if args.quick else 5)
    args.moto_duration = args.moto_duration or args.duration
    args.ceiling_duration = args.ceiling_duration or (1 if args.quick else 3)
    args.latency_samples = args.latency_samples or (300 if args.quick else 500)
    args.cdc_rounds = args.cdc_rounds or (2 if args.quick else 3)
    args.servers = [s for s in args.servers.split(",") if s]
    args.ops = [o for o in args.ops.split(",") if o]
    args.parts = [x for x in args.parts.split(",") if x]
    args.conns = [int(c) for c in args.conns.split(",") if c]
    args.get_conns = [int(c) for c in args.get_conns.split(",") if c]
    args.salespipe = args.salespipe or os.path.join(args.build_dir, "src/server/salespipe")
    args.trivial_http = os.path.join(args.build_dir, "bench/trivial_http")
    args.dynalite_cli = ""  # driver.versions() looks for it
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
    if "kinesalite" in args.servers and not os.path.exists(args.kinesalite_cli):
        p.error("kinesalite not found: run through bench/run.sh --suite kinesis or pass "
                "--kinesalite-cli")
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
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-kinesis"
    os.makedirs(args.results_dir, exist_ok=True)
    raw_dir = os.path.join(args.results_dir, stamp)
    os.makedirs(raw_dir, exist_ok=True)
    results = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": driver.machine_info(),
        "versions": versions(args),
        "settings": {k: getattr(args, k) for k in (
            "duration", "moto_duration", "ceiling_duration", "warmup", "conns", "get_conns",
            "ops", "parts", "pin", "server_cpus", "wrk_cpus", "wrk_threads", "trivial_threads",
            "get_records", "iterators", "cdc_rounds", "latency_samples", "latency_rate",
            "wait_quiet")},
        "servers": {},
        "wrk_ceiling": {"skipped": "not run"},
        "cdc": {"skipped": "not run"},
        "latency": {"skipped": "not run"},
    }
    if float(results["machine"]["load_before"].split()[0]) > 0.5:
        log(f"warning: load average {results['machine']['load_before']} before the run: others "
            "are using the CPUs, numbers will be low and noisy")
    interrupted = None
    try:
        if "api" in args.parts:
            bench_kinesis(args, raw_dir, results)
        if "cdc" in args.parts or "latency" in args.parts:
            bench_cdc(args, raw_dir, results)
    except KeyboardInterrupt as e:
        interrupted = str(e) or "interrupted"
        log(f"interrupted ({interrupted}); writing what was measured")
    finally:
        driver.stop_all()
    results["machine"]["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    results["elapsed_seconds"] = time.monotonic() - driver._started
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
    shutil.copyfile(md_path, os.path.join(args.results_dir, "latest-kinesis.md"))
    print(report)
    log(f"report: {md_path} (raw outputs and server logs in {raw_dir}/)")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
