#!/usr/bin/env python3
"""Kinesis suite helpers: a raw JSON client, stream/table setup, and the CDC latency probe.

    kinesis_cdc.py latency --endpoint URL --table T --stream S [--samples 500] [--rate 100]

latency measures, on a table whose changes go to a Kinesis stream (EnableKinesisStreamingDestination),
the time from a PutItem acknowledged to the change record readable with GetRecords. A writer
(this process) puts `samples` new items, one at a time at `rate` per second, and notes
time.perf_counter() when each response has arrived. A tail (a child process, started first)
follows every shard of the stream from TRIM_HORIZON along the NextShardIterator chain, polling
again after --poll-ms when a GetRecords comes back empty, and notes perf_counter() when the
response that first carries an item's key has arrived. perf_counter is CLOCK_MONOTONIC, the
same clock in both processes. Prints one JSON line: percentiles of (seen - acknowledged), the
PutItem and GetRecords round trips, and how many keys never showed up.

Both processes talk raw HTTP/1.1 keep-alive (http.client), not boto3: a GetRecords round trip
costs ~0.2 ms of Python, so the client is not what is measured.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import re
import sys
import time
import urllib.parse

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


class ApiError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        super().__init__(f"HTTP {status}: {text[:300]}")

    def error_type(self):
        try:
            kind = json.loads(self.body).get("__type", "")
        except (ValueError, AttributeError):
            return ""
        return kind.rsplit("#", 1)[-1]


class Client:
    """One keep-alive connection; call() sends a Kinesis or DynamoDB JSON request."""

    def __init__(self, url, timeout=30):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn = None
        self.last_response_bytes = 0

    def raw(self, service, op, body):
        if service == "kinesis":
            target, ctype = "Kinesis_20131202." + op, "application/x-amz-json-1.1"
        else:
            target, ctype = "DynamoDB_20120810." + op, "application/x-amz-json-1.0"
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {"Content-Type": ctype, "X-Amz-Target": target,
                   "X-Amz-Date": "20250101T000000Z",
                   "Authorization": AUTHORIZATION.format(service=service)}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/", body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                self.last_response_bytes = len(payload)
                return response.status, payload
            except (http.client.HTTPException, ConnectionError):
                self.close()  # moto closes every connection; retry once on a fresh one
                if attempt:
                    raise

    def call(self, service, op, body):
        status, payload = self.raw(service, op, body)
        if status != 200:
            raise ApiError(status, payload)
        return json.loads(payload) if payload.strip() else {}

    def kinesis(self, op, body):
        return self.call("kinesis", op, body)

    def dynamodb(self, op, body):
        return self.call("dynamodb", op, body)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def wait_stream_active(client, stream, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        summary = client.kinesis("DescribeStreamSummary", {"StreamName": stream})
        desc = summary["StreamDescriptionSummary"]
        if desc["StreamStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > deadline:
            raise RuntimeError(f"stream {stream} still {desc['StreamStatus']} after {timeout}s")
        time.sleep(0.05)


def create_stream(client, stream, shards):
    client.kinesis("CreateStream", {"StreamName": stream, "ShardCount": shards})
    return wait_stream_active(client, stream)


def shard_ids(client, stream):
    return [s["ShardId"] for s in client.kinesis("ListShards", {"StreamName": stream})["Shards"]]


def iterator(client, stream, shard, kind="TRIM_HORIZON"):
    return client.kinesis("GetShardIterator", {"StreamName": stream, "ShardId": shard,
                                               "ShardIteratorType": kind})["ShardIterator"]


def create_table(client, table, stream_view=None):
    body = {"TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "order_id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "order_id", "AttributeType": "S"}]}
    if stream_view:
        body["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view}
    client.dynamodb("CreateTable", body)
    deadline = time.monotonic() + 60
    while client.dynamodb("DescribeTable", {"TableName": table})["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {table} not ACTIVE after 60 s")
        time.sleep(0.05)


def enable_destination(client, table, stream, timeout=60):
    """EnableKinesisStreamingDestination and wait until DescribeKinesisStreamingDestination says
    ACTIVE. Raises ApiError (e.g. UnknownOperationException) where it is not implemented."""
    arn = wait_stream_active(client, stream)["StreamARN"]
    client.dynamodb("EnableKinesisStreamingDestination", {"TableName": table, "StreamArn": arn})
    deadline = time.monotonic() + timeout
    while True:
        out = client.dynamodb("DescribeKinesisStreamingDestination", {"TableName": table})
        states = [d.get("DestinationStatus") for d in out.get("KinesisDataStreamDestinations", [])
                  if d.get("StreamArn") == arn]
        if states == ["ACTIVE"]:
            return arn
        if time.monotonic() > deadline:
            raise RuntimeError(f"destination of {table} is {states} after {timeout}s")
        time.sleep(0.05)


def setup_cdc_table(client, table, stream, shards, view="NEW_AND_OLD_IMAGES"):
    """A table with a DynamoDB stream and a Kinesis streaming destination (a new stream)."""
    create_table(client, table, view)
    create_stream(client, stream, shards)
    return enable_destination(client, table, stream)


_KEY_RE = re.compile(rb'"Keys":\{"order_id":\{"S":"([^"]*)"')


def record_key(data_b64):
    """order_id of a DynamoDB change record (AWS's Kinesis record format), or None."""
    data = base64.b64decode(data_b64)
    match = _KEY_RE.search(data)
    if match:
        return match.group(1).decode()
    try:
        return json.loads(data)["dynamodb"]["Keys"]["order_id"]["S"]
    except (ValueError, KeyError, TypeError):
        return None


def read_stream(client, stream, keys=False, idle_reads=1):
    """Reads every shard from TRIM_HORIZON to its end; returns (records, distinct keys or None)."""
    count = 0
    seen = set() if keys else None
    for shard in shard_ids(client, stream):
        it = iterator(client, stream, shard)
        empty = 0
        while it and empty < idle_reads:
            out = client.kinesis("GetRecords", {"ShardIterator": it, "Limit": 10000})
            records = out.get("Records", [])
            count += len(records)
            if keys:
                for r in records:
                    seen.add(record_key(r["Data"]))
            it = out.get("NextShardIterator")
            empty = empty + 1 if not records and out.get("MillisBehindLatest", 0) == 0 else 0
    return count, (len(seen - {None}) if keys else None)


# ---------------------------------------------------------------------------------------------
# The latency probe


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def tail(url, stream, poll_s, expected, ready, stop, out):
    """Child process: follows every shard until it has seen `expected` keys (or is stopped),
    then sends {key: first seen perf_counter}."""
    client = Client(url)
    shards = shard_ids(client, stream)
    iterators = {s: iterator(client, stream, s) for s in shards}
    seen = {}
    get_times = []
    ready.set()
    while not stop.is_set() and len(seen) < expected:
        got = False
        for shard, it in list(iterators.items()):
            if not it:
                continue
            t0 = time.perf_counter()
            resp = client.kinesis("GetRecords", {"ShardIterator": it, "Limit": 10000})
            now = time.perf_counter()
            get_times.append(now - t0)
            iterators[shard] = resp.get("NextShardIterator")
            for record in resp.get("Records", []):
                key = record_key(record["Data"])
                if key is not None and key not in seen:
                    seen[key] = now
                    got = True
        if not got and poll_s > 0:
            time.sleep(poll_s)
    out.send({"seen": seen, "get_p50": percentile(get_times, 50),
              "get_p99": percentile(get_times, 99), "polls": len(get_times)})
    out.close()


def latency(args):
    client = Client(args.endpoint)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    parent_end, child_end = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(target=tail, args=(args.endpoint, args.stream,
                                                      args.poll_ms / 1000, args.samples, ready, stop,
                                                      child_end))
    proc.start()
    if not ready.wait(30):
        raise RuntimeError("tail did not start")
    acked = {}
    put_times = []
    interval = 1.0 / args.rate
    next_at = time.perf_counter()
    pad = "x" * 200
    for i in range(args.samples):
        key = f"lat-{args.tag}-{i:06d}"
        item = {"order_id": {"S": key}, "store": {"S": f"store-{i % 200:03d}"},
                "quantity": {"N": str(1 + i % 5)}, "unit_price": {"N": "199.99"},
                "note": {"S": pad}}
        now = time.perf_counter()
        if now < next_at:
            time.sleep(next_at - now)
        next_at += interval
        t0 = time.perf_counter()
        client.dynamodb("PutItem", {"TableName": args.table, "Item": item})
        t1 = time.perf_counter()
        acked[key] = t1
        put_times.append(t1 - t0)
    # Give the stragglers time to show up, then stop the tail.
    deadline = time.perf_counter() + args.grace
    while time.perf_counter() < deadline:
        time.sleep(0.1)
        if parent_end.poll():
            break
    stop.set()
    result = parent_end.recv() if parent_end.poll(30) else {"seen": {}}
    proc.join(10)
    seen = result["seen"]
    lat = [seen[k] - t for k, t in acked.items() if k in seen]
    ms = lambda x: None if x is None else round(x * 1000, 3)
    print(json.dumps({
        "samples": args.samples, "rate_per_s": args.rate, "poll_ms": args.poll_ms,
        "seen": len(lat), "missing": args.samples - len(lat),
        "before_ack": sum(1 for x in lat if x < 0),
        "p50_ms": ms(percentile(lat, 50)), "p90_ms": ms(percentile(lat, 90)),
        "p99_ms": ms(percentile(lat, 99)), "max_ms": ms(max(lat) if lat else None),
        "mean_ms": ms(sum(lat) / len(lat) if lat else None),
        "put_p50_ms": ms(percentile(put_times, 50)), "put_p99_ms": ms(percentile(put_times, 99)),
        "get_p50_ms": ms(result.get("get_p50")), "get_p99_ms": ms(result.get("get_p99")),
        "polls": result.get("polls"),
    }))
    return 0 if lat else 1


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    lp = sub.add_parser("latency")
    lp.add_argument("--endpoint", required=True)
    lp.add_argument("--table", required=True)
    lp.add_argument("--stream", required=True)
    lp.add_argument("--samples", type=int, default=500)
    lp.add_argument("--rate", type=float, default=100, help="PutItems per second")
    lp.add_argument("--poll-ms", type=float, default=1.0,
                    help="pause after an empty GetRecords round over the shards")
    lp.add_argument("--grace", type=float, default=5.0,
                    help="seconds to wait for the last records after the last PutItem")
    lp.add_argument("--tag", default="r0")
    args = p.parse_args()
    return latency(args)


if __name__ == "__main__":
    sys.exit(main())
