#!/usr/bin/env python3
"""The whole ingestion path under sustained load (issue 5's last benchmark target):

    PutItem (wrk, bench/wrk/put_item.lua) -> the table's Kinesis streaming destination
      -> Firehose (KinesisStreamAsSource) -> Python Lambda transform (bench/pipeline/
      lambda_function.py, flattens DynamoDB JSON) -> objects in the lake

Phase 1 (sustained): wrk PutItem load for --seconds with delivery running alongside; records/s
arriving in the lake in steady state (the last 75% of the load). Phase 2 (backlog): the
function waits at a gate (bench_entry.py) while the same load fills the Kinesis stream, then
the gate opens: records/s of the drain, i.e. what delivery itself sustains. At the end every
item of the table must be in the lake exactly once. Then the same handler runs standalone
(python3 calling lambda_handler in a loop) over the same Firehose event batches (the records
read back from the Kinesis stream, cut into the batch sizes the deployed function saw) and the
ratios are printed (target: at least 80%). Also PutItem -> object listed latency with
IntervalInSeconds 0 (bench/firehose's pipeline_latency, reused).

    bench/pipeline/pipeline_bench.py [--quick] [--seconds 20] [--connections 8]
    bench/run.sh --suite pipeline [--quick] [options]

Report: bench/results/<timestamp>-pipeline.md (+ .json).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile

PIPELINE_DIR = os.path.dirname(os.path.abspath(__file__))
BENCH_DIR = os.path.dirname(PIPELINE_DIR)
REPO_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(BENCH_DIR, "firehose"))
sys.path.insert(0, PIPELINE_DIR)

import firehose_bench  # noqa: E402  (Server, Client, start, pipeline_latency)
import lambda_function  # noqa: E402  (the handler, for the standalone run)

ROLE = firehose_bench.ROLE
TABLE, KINESIS, BUCKET, STREAM, FUNCTION = "bench_sales", "sales-cdc", "sales-lake", "sales", "flatten-sales"


def log(message):
    print(f"pipeline_bench: {message}", file=sys.stderr, flush=True)


def clients(port):
    import boto3
    import botocore.config

    session = boto3.session.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="x",
                                    region_name="us-east-1")
    cfg = botocore.config.Config(retries={"max_attempts": 1}, read_timeout=300)
    url = f"http://127.0.0.1:{port}"
    return {name: session.client(name, endpoint_url=url, config=cfg)
            for name in ("dynamodb", "kinesis", "lambda", "firehose", "s3")}


def set_up(c, args, batch_log, gate):
    c["s3"].create_bucket(Bucket=BUCKET)
    c["dynamodb"].create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}])
    c["kinesis"].create_stream(StreamName=KINESIS, ShardCount=args.shards)
    stream_arn = c["kinesis"].describe_stream_summary(
        StreamName=KINESIS)["StreamDescriptionSummary"]["StreamARN"]
    c["dynamodb"].enable_kinesis_streaming_destination(TableName=TABLE, StreamArn=stream_arn)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("lambda_function.py", "bench_entry.py"):
            z.write(os.path.join(PIPELINE_DIR, name), name)
    fn = c["lambda"].create_function(
        FunctionName=FUNCTION, Runtime="python3.12", Role=ROLE, Handler="bench_entry.handler",
        Code={"ZipFile": buf.getvalue()}, Timeout=900, MemorySize=1024,
        Environment={"Variables": {"BENCH_BATCH_LOG": batch_log, "BENCH_GATE": gate}})["FunctionArn"]
    c["firehose"].create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{BUCKET}", "Prefix": "sales/",
            "BufferingHints": {"SizeInMBs": args.size_mb, "IntervalInSeconds": args.interval},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": fn},
                {"ParameterName": "BufferSizeInMBs", "ParameterValue": str(args.processor_mb)},
                {"ParameterName": "BufferIntervalInSeconds",
                 "ParameterValue": str(args.processor_interval)}]}]}})
    return stream_arn


class LakeCounter:
    """Counts the records (lines) of the objects under the bucket by polling ListObjectsV2.
    While the load runs it reads only the first few objects, and estimates the others' records
    from their sizes (reading 5 MB objects every second would take CPU from the pipeline it
    measures); read_all() then reads every object once for the exact count and the
    exactly-once check. samples: (monotonic time, records so far)."""

    def __init__(self, port, period):
        self.client = firehose_bench.Client(port)
        self.period = period
        self.sizes: dict[str, int] = {}
        self.modified: dict[str, float] = {}  # key -> LastModified (server clock, epoch s)
        self.bodies: dict[str, bytes] = {}
        self.records = 0
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def list(self):
        token, out = None, {}
        while True:
            path = f"/{BUCKET}?list-type=2&prefix=sales/&max-keys=1000"
            if token:
                path += "&continuation-token=" + token
            data = self.client.s3("GET", path).decode()
            for key, modified, size in re.findall(
                    r"<Key>([^<]*)</Key>.*?<LastModified>([^<]*)</LastModified>.*?<Size>(\d+)</Size>",
                    data, re.S):
                out[key] = int(size)
                self.modified[key] = datetime.datetime.strptime(
                    modified, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            match = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", data)
            if not match:
                return out
            token = match.group(1)

    def poll(self):
        for key, size in self.list().items():
            if key not in self.sizes and len(self.bodies) < 3:
                self.bodies[key] = self.client.s3("GET", f"/{BUCKET}/{key}")
            self.sizes[key] = size
        known = sum(len(b) for b in self.bodies.values())
        per_record = known / max(1, sum(b.count(b"\n") for b in self.bodies.values()))
        self.records = round(sum(self.sizes.values()) / per_record) if known else 0
        self.samples.append((time.monotonic(), self.records))

    def read_all(self):
        """Reads every object; exact records."""
        for key in self.list():
            if key not in self.bodies:
                self.bodies[key] = self.client.s3("GET", f"/{BUCKET}/{key}")
        self.records = sum(b.count(b"\n") for b in self.bodies.values())
        return self.records

    def run(self):
        try:
            while not self.stop_event.is_set():
                self.poll()
                self.stop_event.wait(self.period)
        except Exception as e:  # reported; the run is marked invalid
            self.error = str(e)

    def committed_after(self, wall):
        """(records, the last LastModified) of the objects committed at or after `wall` (epoch
        s; exact after read_all), leaving out the last object: the tail of a drain is a partial
        buffer that waits for the destination's IntervalInSeconds, not for delivery."""
        keys = sorted((m, k) for k, m in self.modified.items() if m >= wall and k in self.bodies)
        keys = keys[:-1]
        records = sum(self.bodies[k].count(b"\n") for _, k in keys)
        return records, keys[-1][0] if keys else None

    def rate(self, t0, t1):
        """Records/s between the samples nearest to t0 and t1."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return 0.0
        (a, ca), (b, cb) = inside[0], inside[-1]
        return (cb - ca) / (b - a) if b > a else 0.0


def run_wrk(port, seconds, connections, threads):
    script = os.path.join(BENCH_DIR, "wrk", "put_item.lua")
    tag = "pipe" + uuid.uuid4().hex[:6]
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
         f"http://127.0.0.1:{port}/", "--", tag, TABLE],
        capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("BENCHJSON "))
    return json.loads(line[len("BENCHJSON "):])


def per_second(wrk):
    return wrk["requests"] / (wrk["duration_us"] / 1e6)


def wait_delivered(items, counter):
    """Waits until about `items` records are in the lake (the estimate reaches them, or stops
    moving near them for 3 s), or nothing arrives for 60 s."""
    last, last_change = -1, time.monotonic()
    while counter.records < items and time.monotonic() - last_change < 60:
        if counter.records != last:
            last, last_change = counter.records, time.monotonic()
        elif counter.records >= items * 0.98 and time.monotonic() - last_change > 3:
            return
        if counter.error:
            raise RuntimeError(counter.error)
        time.sleep(0.1)


def table_count(ddb):
    total, kwargs = 0, {"TableName": TABLE, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def kinesis_records(port, limit=None):
    """Every record of the Kinesis stream, in shard order, as Firehose's event records (raw
    GetRecords: the data stays base64 text, as Firehose sends it)."""
    client = firehose_bench.Client(port)

    def call(operation, payload):
        status, data = client.request("POST", "/", json.dumps(payload).encode(), {
            "X-Amz-Target": f"Kinesis_20131202.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": firehose_bench.AUTH.format(svc="kinesis"),
            "X-Amz-Date": "20260101T000000Z"})
        if status != 200:
            raise RuntimeError(f"{operation}: HTTP {status}: {data[:200]!r}")
        return json.loads(data)

    out = []
    for shard in call("ListShards", {"StreamName": KINESIS})["Shards"]:
        it = call("GetShardIterator", {"StreamName": KINESIS, "ShardId": shard["ShardId"],
                                       "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while it:
            page = call("GetRecords", {"ShardIterator": it, "Limit": 10000})
            for r in page["Records"]:
                ts = int(r["ApproximateArrivalTimestamp"] * 1000)
                out.append({
                    "recordId": r["SequenceNumber"], "approximateArrivalTimestamp": ts,
                    "data": r["Data"],
                    "kinesisRecordMetadata": {
                        "shardId": shard["ShardId"], "partitionKey": r["PartitionKey"],
                        "approximateArrivalTimestamp": ts, "sequenceNumber": r["SequenceNumber"],
                        "subsequenceNumber": 0}})
            if limit is not None and len(out) >= limit:
                return out[:limit]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            it = page.get("NextShardIterator")
    return out


def tree_cpu_seconds(root):
    """User + system CPU seconds of `root` and every live descendant (the server and its
    function environments)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p != root and p in parents:
            p = parents[p]
        if p == root:
            total += cpu[pid]
    return total


def read_sizes(batch_log, limit):
    """The batch sizes the function saw, cut to `limit` records in all."""
    sizes, total = [], 0
    for line in open(batch_log) if os.path.exists(batch_log) else []:
        size = int(line)
        if total + size > limit:
            break
        sizes.append(size)
        total += size
    return sizes


def standalone(records, sizes, stream_arn, passes):
    """lambda_function.lambda_handler over the same batches; best records/s of `passes`."""
    events, i = [], 0
    for size in sizes:
        events.append({"invocationId": str(uuid.uuid4()),
                       "deliveryStreamArn": f"arn:aws:firehose:us-east-1:000000000000:deliverystream/{STREAM}",
                       "sourceKinesisStreamArn": stream_arn, "region": "us-east-1",
                       "records": records[i:i + size]})
        i += size
    total = sum(len(e["records"]) for e in events)
    best, cpu = 0.0, None
    for _ in range(passes):
        started, cpu_started = time.perf_counter(), time.process_time()
        for event in events:
            lambda_function.lambda_handler(event, None)
        best = max(best, total / (time.perf_counter() - started))
        used = (time.process_time() - cpu_started) / total * 1e6
        cpu = used if cpu is None else min(cpu, used)
    return {"records_per_s": best, "records": total, "batches": len(events),
            "cpu_us_per_record": cpu}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.environ.get("BUILD_DIR", os.path.join(REPO_DIR, "build"))
    p.add_argument("--salespipe", default=os.path.join(build, "src/server/salespipe"))
    p.add_argument("--quick", action="store_true", help="10 s of load, 50 latency samples")
    p.add_argument("--seconds", type=int, default=20, help="PutItem load per phase")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--shards", type=int, default=1, help="shards of the Kinesis stream")
    p.add_argument("--size-mb", type=int, default=5, help="destination SizeInMBs")
    p.add_argument("--interval", type=int, default=1, help="destination IntervalInSeconds")
    p.add_argument("--processor-mb", type=int, default=1, help="Lambda processor BufferSizeInMBs")
    p.add_argument("--processor-interval", type=int, default=0,
                   help="Lambda processor BufferIntervalInSeconds")
    p.add_argument("--samples", type=int, default=200, help="PutItem -> lake latency samples (0: skip)")
    p.add_argument("--passes", type=int, default=3, help="standalone passes (best counts)")
    p.add_argument("--perf", metavar="FILE",
                   help="perf record -a -g the first 8 s of the backlog drain into FILE")
    p.add_argument("--keep", action="store_true", help="keep the data directory and server log")
    p.add_argument("--out", default=os.path.join(BENCH_DIR, "results"))
    args = p.parse_args()
    if args.quick:
        args.seconds, args.samples = 10, min(args.samples, 50)
    tmp = tempfile.mkdtemp(prefix="bench-pipeline-")
    batch_log = os.path.join(tmp, "batches.txt")
    args.salespipe = os.path.abspath(args.salespipe)
    server = firehose_bench.start("salespipe", args, tmp)
    res = {"args": vars(args), "loadavg_before": os.getloadavg()}
    try:
        if args.samples:
            res["latency"] = firehose_bench.pipeline_latency(server.port, args.samples)
            log(f"PutItem -> Lambda -> lake (IntervalInSeconds 0): {res['latency']}")
        c = clients(server.port)
        gate = os.path.join(tmp, "gate")
        open(gate, "w").close()
        stream_arn = set_up(c, args, batch_log, gate)
        counter = LakeCounter(server.port, period=0.5)
        counter.thread.start()

        # Phase 1, sustained: PutItem load with delivery running alongside.
        started = time.monotonic()
        log(f"phase 1 (sustained): PutItem load {args.seconds} s, {args.connections} connections")
        res["wrk"] = run_wrk(server.port, args.seconds, args.connections, args.wrk_threads)
        load_end = time.monotonic()
        res["loadavg_during"] = os.getloadavg()
        log(f"PutItem: {per_second(res['wrk']):,.0f}/s acknowledged ({res['wrk']['requests']} "
            f"requests, {res['wrk']['errors_status']} non-2xx)")
        items = phase1_items = table_count(c["dynamodb"])
        wait_delivered(items, counter)
        steady = counter.rate(started + args.seconds * 0.25, load_end)

        # Phase 2, backlog: the function waits at its gate while PutItem load fills the Kinesis
        # stream; then the gate opens and the backlog drains through delivery alone.
        os.remove(gate)
        log(f"phase 2 (backlog): PutItem load {args.seconds} s with the transform held")
        res["wrk_backlog"] = run_wrk(server.port, args.seconds, args.connections, args.wrk_threads)
        # Counted before the gate opens: a Scan during the drain would compete with it.
        items = table_count(c["dynamodb"])
        before = phase1_items
        # The handler standalone right before the drain too (phase 1's records and batches):
        # the machine may be busier or quieter than after it.
        phase1 = kinesis_records(server.port, limit=before)
        res["standalone_before"] = standalone(phase1, read_sizes(batch_log, len(phase1)),
                                              stream_arn, 1)
        del phase1
        perf = None
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "-a", "-g", "-F", "499", "-o", args.perf,
                                     "--", "sleep", "8"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        open_index, at_open = len(counter.samples), counter.records
        cpu_before, wall_before = tree_cpu_seconds(server.proc.pid), time.monotonic()
        # LastModified has millisecond resolution here; a whole second is subtracted from the
        # opening time only to match objects, never from the rate's interval.
        opened_wall = time.time()
        open(gate, "w").close()
        wait_delivered(items, counter)
        cpu_drain = tree_cpu_seconds(server.proc.pid) - cpu_before
        wall_drain = time.monotonic() - wall_before
        if perf:
            perf.wait()
        drained = [(t, n) for t, n in counter.samples[open_index:] if n > at_open]
        polled_rate = None
        if len(drained) >= 2 and drained[-1][0] > drained[0][0]:
            polled_rate = (drained[-1][1] - drained[0][1]) / (drained[-1][0] - drained[0][0])
        time.sleep(1.5)  # a late duplicate would show up here
        counter.stop_event.set()
        counter.thread.join()
        deadline = time.monotonic() + 60
        while counter.read_all() < items and time.monotonic() < deadline:
            time.sleep(0.5)
        # The drain rate: the records committed after the gate opened, over the time from the
        # opening to the last of their objects' commits (the server's LastModified, ms), i.e.
        # how fast the backlog empties, start-up of the first invocations included; without the
        # final partial object (committed when the buffer interval expires). (The polled
        # estimate, from 0.5 s samples of estimated counts, is kept for comparison.)
        drained_records, last_commit = counter.committed_after(opened_wall)
        drain_rate = None
        if last_commit and last_commit > opened_wall:
            drain_rate = drained_records / (last_commit - opened_wall)
        ids = [json.loads(line)["order_id"] for body in counter.bodies.values()
               for line in body.decode().splitlines() if line]
        exactly_once = len(ids) == len(set(ids)) == items
        res["pipeline"] = {"items_in_table": items, "records_in_lake": len(ids),
                           "distinct_in_lake": len(set(ids)), "exactly_once": exactly_once,
                           "objects": len(counter.bodies), "steady_records_per_s": steady,
                           "backlog_records": items - before,
                           "drain_records_per_s": drain_rate,
                           "drain_records_per_s_polled": polled_rate,
                           "drain_cpu_us_per_record": cpu_drain / (items - before) * 1e6,
                           "drain_cores_used": cpu_drain / wall_drain}
        log(f"lake: {res['pipeline']}")
        records = kinesis_records(server.port)
        sizes = read_sizes(batch_log, len(records))
        sizes_fit = sizes
        res["batches"] = {"count": len(sizes), "mean": sum(sizes) / len(sizes) if sizes else 0,
                          "max": max(sizes, default=0), "min": min(sizes, default=0)}
        res["standalone"] = standalone(records, sizes_fit, stream_arn, args.passes)
        alone = max(res["standalone"]["records_per_s"], res["standalone_before"]["records_per_s"])
        res["ratio_steady"] = steady / alone
        if drain_rate:
            res["ratio_drain"] = drain_rate / alone
        if polled_rate:
            res["ratio_drain_polled"] = polled_rate / alone
        log(f"standalone: {res['standalone']}; ratio steady {res['ratio_steady']:.2f}")
    finally:
        server.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    write_report(args, res)


def write_report(args, res):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"{stamp}-pipeline")
    with open(base + ".json", "w") as f:
        json.dump(res, f, indent=2, default=str)
    pipe, alone, b, w = res["pipeline"], res["standalone"], res["batches"], res["wrk"]
    drain = pipe["drain_records_per_s"]
    lines = [
        f"# Pipeline benchmark {stamp}", "",
        f"PutItem (wrk, {args.connections} connections, {args.seconds} s per phase) -> Kinesis "
        f"destination ({args.shards} shard(s)) -> Firehose (processor {args.processor_mb} MB / "
        f"{args.processor_interval} s, destination {args.size_mb} MB / {args.interval} s) -> "
        "Python transform -> lake. Load average before / during: "
        f"{res['loadavg_before'][0]:.1f} / {res['loadavg_during'][0]:.1f}.", "",
        "| measure | value |", "|---|---:|",
        f"| phase 1: PutItem acknowledged /s | {per_second(w):,.0f} |",
        f"| phase 1: lake records/s, steady state under PutItem load | "
        f"{pipe['steady_records_per_s']:,.0f} |",
        f"| phase 2: lake records/s draining a backlog of {pipe['backlog_records']:,} (records "
        f"committed after the gate opened / time to the last full object's commit) | "
        f"{'-' if drain is None else f'{drain:,.0f}'} |",
        f"| standalone handler records/s (same batches, best of {args.passes} after the run; "
        f"one pass over phase 1's right before the drain) | {alone['records_per_s']:,.0f}; "
        f"{res['standalone_before']['records_per_s']:,.0f} |",
        f"| ratios below use the faster standalone figure | |",
        f"| ratio phase 1 / standalone | {res['ratio_steady']:.2f} |",
        f"| ratio phase 2 / standalone (target >= 0.80) | {res.get('ratio_drain', float('nan')):.2f} |",
        f"| the same from the 0.5 s polls of estimated counts (includes the tail's buffer "
        f"interval) | {res.get('ratio_drain_polled', float('nan')):.2f} |",
        f"| phase 2: CPU us per record, salespipe + function environments / standalone handler | "
        f"{pipe['drain_cpu_us_per_record']:.1f} / {alone['cpu_us_per_record']:.1f} |",
        f"| phase 2: cores the server and its functions got (of {os.cpu_count()}) | "
        f"{pipe['drain_cores_used']:.2f} |",
        f"| invocations, records per batch mean / min / max | {b['count']}, "
        f"{b['mean']:.0f} / {b['min']} / {b['max']} |",
        f"| items in table / records in lake / distinct | {pipe['items_in_table']} / "
        f"{pipe['records_in_lake']} / {pipe['distinct_in_lake']} |",
        f"| exactly once | {'yes' if pipe['exactly_once'] else 'NO'} |",
    ]
    if "latency" in res:
        lat = res["latency"]
        lines.append(f"| PutItem -> object listed (IntervalInSeconds 0) p50 / p99 ms | "
                     f"{lat['p50_ms']:.2f} / {lat['p99_ms']:.2f} ({lat['samples']} items) |")
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    log(f"report: {base}.md")


if __name__ == "__main__":
    main()
