#!/usr/bin/env python3
"""Firehose benchmark: PutRecordBatch throughput (records/s, MB/s) of salespipe and moto in
the same run, and the end-to-end latency PutRecord -> object visible in the lake (ListObjectsV2)
with IntervalInSeconds 0 (p50/p99).

    bench/firehose/firehose_bench.py [--quick] [--servers salespipe,moto] [--salespipe PATH]

Each server runs on a free loopback port with a fresh data directory; requests are raw HTTP
(pre-built JSON bodies, a dummy SigV4 header, no botocore in the loop) from --threads client
threads over keep-alive connections. Report: bench/results/<timestamp>-firehose.md (+ .json).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(BENCH_DIR)
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/{svc}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
ROLE = "arn:aws:iam::000000000000:role/bench"


def log(message):
    print(f"firehose_bench: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=b"", headers=None):
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def firehose(self, operation, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, data = self.request("POST", "/", body, {
            "X-Amz-Target": f"Firehose_20150804.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTH.format(svc="firehose"),
            "X-Amz-Date": "20260101T000000Z"})
        if status != 200:
            raise RuntimeError(f"{operation}: HTTP {status}: {data[:300]!r}")
        return json.loads(data or b"{}")

    def s3(self, method, path):
        status, data = self.request(method, path, b"", {
            "Authorization": AUTH.format(svc="s3"), "X-Amz-Date": "20260101T000000Z",
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        if status not in (200, 204):
            raise RuntimeError(f"S3 {method} {path}: HTTP {status}: {data[:300]!r}")
        return data


class Server:
    def __init__(self, name, argv, port, log_path):
        self.name, self.port = name, port
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start (see {log_path})")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start(name, args, tmp):
    port = free_port()
    log_path = os.path.join(tmp, f"{name}.log")
    if name == "salespipe":
        data = os.path.join(tmp, "salespipe-data")
        argv = [args.salespipe, "serve", "--port", str(port), "--host", "127.0.0.1",
                "--data-dir", data, "--auth", "off", "--log-level", "warn"]
    else:
        argv = [args.moto_server, "-H", "127.0.0.1", "-p", str(port)]
    log(f"{name}: starting on port {port}")
    return Server(name, argv, port, log_path)


def create_stream(client, name, bucket, interval):
    client.s3("PUT", f"/{bucket}")
    client.firehose("CreateDeliveryStream", {
        "DeliveryStreamName": name,
        "ExtendedS3DestinationConfiguration": {
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": f"{name}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": interval}}})


def throughput(port, stream, seconds, threads, record_bytes, batch):
    """PutRecordBatch of `batch` records of `record_bytes` from `threads` threads."""
    payload = base64.b64encode(b"x" * (record_bytes - 1) + b"\n").decode()
    body = json.dumps({"DeliveryStreamName": stream,
                       "Records": [{"Data": payload}] * batch}).encode()
    counts = [0] * threads
    failures = [0] * threads
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def run(i):
        client = Client(port)
        try:
            while time.monotonic() < stop_at:
                out = client.firehose("PutRecordBatch", body)
                counts[i] += batch - out.get("FailedPutCount", 0)
                failures[i] += out.get("FailedPutCount", 0)
        except Exception as e:  # reported, the run is marked invalid
            errors.append(str(e))

    started = time.monotonic()
    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    records = sum(counts)
    return {"records_per_s": records / elapsed,
            "mb_per_s": records * record_bytes / elapsed / 1e6,
            "records": records, "failed": sum(failures), "seconds": elapsed,
            "errors": errors[:3]}


def count_objects(client, bucket, prefix):
    data = client.s3("GET", f"/{bucket}?list-type=2&prefix={prefix}&max-keys=1000")
    return data.count(b"<Key>")


def latency(port, stream, bucket, samples):
    """PutRecord, then ListObjectsV2 in a loop until one more object is listed."""
    client = Client(port)
    seen = count_objects(client, bucket, f"{stream}/")
    out = []
    for i in range(samples):
        payload = base64.b64encode(f"latency-{i}\n".encode()).decode()
        started = time.perf_counter()
        client.firehose("PutRecord", {"DeliveryStreamName": stream, "Record": {"Data": payload}})
        deadline = time.monotonic() + 30
        while True:
            now = count_objects(client, bucket, f"{stream}/")
            if now > seen:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"record {i} not delivered within 30 s")
        out.append((time.perf_counter() - started) * 1000)
        seen = now
    out.sort()
    return {"p50_ms": statistics.median(out), "p99_ms": out[min(len(out) - 1, int(len(out) * 0.99))],
            "max_ms": out[-1], "samples": len(out)}


TRANSFORM = """\
import base64, json

def lambda_handler(event, context):
    out = []
    for record in event["records"]:
        change = json.loads(base64.b64decode(record["data"]))
        image = change.get("dynamodb", {}).get("NewImage", {})
        row = {k: list(v.values())[0] for k, v in image.items()}
        out.append({"recordId": record["recordId"], "result": "Ok",
                    "data": base64.b64encode((json.dumps(row) + "\\n").encode()).decode()})
    return {"records": out}
"""


def pipeline_latency(port, samples):
    """PutItem -> table's Kinesis destination -> Firehose -> Python Lambda -> object listed."""
    import io
    import zipfile

    import boto3
    import botocore.config

    session = boto3.session.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="x",
                                    region_name="us-east-1")
    cfg = botocore.config.Config(retries={"max_attempts": 1})
    url = f"http://127.0.0.1:{port}"
    ddb, kin = session.client("dynamodb", endpoint_url=url, config=cfg), session.client(
        "kinesis", endpoint_url=url, config=cfg)
    lam, fh = session.client("lambda", endpoint_url=url, config=cfg), session.client(
        "firehose", endpoint_url=url, config=cfg)
    s3 = session.client("s3", endpoint_url=url, config=cfg)
    s3.create_bucket(Bucket="pipe-lake")
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    kin.create_stream(StreamName="orders-cdc", ShardCount=1)
    stream_arn = kin.describe_stream_summary(StreamName="orders-cdc")["StreamDescriptionSummary"]["StreamARN"]
    ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=stream_arn)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("lambda_function.py", TRANSFORM)
    fn = lam.create_function(FunctionName="flatten", Runtime="python3.12", Role=ROLE,
                             Handler="lambda_function.lambda_handler",
                             Code={"ZipFile": buf.getvalue()})["FunctionArn"]
    fh.create_delivery_stream(
        DeliveryStreamName="pipe", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::pipe-lake", "Prefix": "pipe/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": fn},
                {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"}]}]}})
    client = Client(port)
    seen = count_objects(client, "pipe-lake", "pipe/")
    out = []
    for i in range(samples + 5):  # the first few warm the function up
        body = json.dumps({"TableName": "orders", "Item": {"id": {"S": f"o-{i}"},
                                                           "amount": {"N": "42.5"}}}).encode()
        started = time.perf_counter()
        status, data = client.request("POST", "/", body, {
            "X-Amz-Target": "DynamoDB_20120810.PutItem",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": AUTH.format(svc="dynamodb"), "X-Amz-Date": "20260101T000000Z"})
        if status != 200:
            raise RuntimeError(f"PutItem: HTTP {status}: {data[:200]!r}")
        deadline = time.monotonic() + 30
        while True:
            now = count_objects(client, "pipe-lake", "pipe/")
            if now > seen:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"item {i} not in the lake within 30 s")
        if i >= 5:
            out.append((time.perf_counter() - started) * 1000)
        seen = now
    out.sort()
    return {"p50_ms": statistics.median(out), "p99_ms": out[min(len(out) - 1, int(len(out) * 0.99))],
            "max_ms": out[-1], "samples": len(out)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.environ.get("BUILD_DIR", os.path.join(REPO_DIR, "build"))
    p.add_argument("--salespipe", default=os.path.join(build, "src/server/salespipe"))
    p.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    p.add_argument("--servers", default="salespipe,moto")
    p.add_argument("--quick", action="store_true", help="3 s runs, 100 latency samples")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--record-bytes", type=int, default=1024)
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--out", default=os.path.join(BENCH_DIR, "results"))
    args = p.parse_args()
    if args.quick:
        args.seconds, args.samples = 3, 100
    tmp = tempfile.mkdtemp(prefix="bench-firehose-")
    results = {"args": vars(args), "servers": {}}
    try:
        for name in args.servers.split(","):
            try:
                server = start(name, args, tmp)
            except Exception as e:
                log(f"{name}: skipped: {e}")
                continue
            try:
                client = Client(server.port)
                res = {}
                create_stream(client, "tput", "tput-lake", 900)
                for batch in (500, 50):
                    key = f"put_record_batch_{batch}"
                    res[key] = throughput(server.port, "tput", args.seconds, args.threads,
                                          args.record_bytes, batch)
                    log(f"{name}: {key}: {res[key]['records_per_s']:,.0f} records/s "
                        f"{res[key]['mb_per_s']:.1f} MB/s")
                create_stream(client, "lat", "lat-lake", 0)
                res["latency_interval_0"] = latency(server.port, "lat", "lat-lake", args.samples)
                log(f"{name}: latency {res['latency_interval_0']}")
                if name == "salespipe":
                    res["pipeline_latency"] = pipeline_latency(server.port, args.samples)
                    log(f"{name}: PutItem -> Lambda -> lake {res['pipeline_latency']}")
                results["servers"][name] = res
            except Exception as e:
                log(f"{name}: failed: {e}")
                results["servers"][name] = {"error": str(e)}
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"{stamp}-firehose")
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=2)
    lines = [f"# Firehose benchmark {stamp}", "",
             f"{args.threads} client threads, {args.record_bytes}-byte records, {args.seconds:g} s "
             f"runs, {args.samples} latency samples.", "",
             "| server | PutRecordBatch x500 records/s | MB/s | PutRecordBatch x50 records/s | "
             "MB/s | PutRecord -> object p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, res in results["servers"].items():
        if "error" in res:
            lines.append(f"| {name} | error: {res['error']} | | | | | |")
            continue
        a, b, lat = res["put_record_batch_500"], res["put_record_batch_50"], res["latency_interval_0"]
        lines.append(f"| {name} | {a['records_per_s']:,.0f} | {a['mb_per_s']:.1f} | "
                     f"{b['records_per_s']:,.0f} | {b['mb_per_s']:.1f} | {lat['p50_ms']:.2f} | "
                     f"{lat['p99_ms']:.2f} |")
    pipe = results["servers"].get("salespipe", {}).get("pipeline_latency")
    if pipe:
        lines += ["", "PutItem -> table Kinesis destination -> Firehose -> Python Lambda transform "
                  f"-> object listed (salespipe): p50 {pipe['p50_ms']:.2f} ms, p99 "
                  f"{pipe['p99_ms']:.2f} ms over {pipe['samples']} items."]
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    log(f"report: {base}.md")


if __name__ == "__main__":
    main()
