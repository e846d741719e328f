#!/usr/bin/env python3
"""Warm Invoke through the API (bench/lambda/README.md): salespipe's Lambda rest-json Invoke
over one keep-alive loopback HTTP connection, minus the time the handler measured itself.

    python3 bench/lambda/api_bench.py [--binary build/src/server/salespipe] [--invocations N]

Starts its own server on a free port with a temporary data directory, creates a no-op Python
function with boto3, then times N Invoke calls with http.client (unsigned, so the client's
own SigV4 work stays out of the figure) and a few hundred with boto3 for reference.
"""
import argparse
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

import boto3
from botocore.config import Config

HANDLER = """import time
def handler(event, context):
    start = time.perf_counter_ns()
    result = {"ok": True}
    return {"handler_ns": time.perf_counter_ns() - start}
"""


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * (len(values) - 1) + 0.5))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("salespipe exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("salespipe did not listen")


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(
        os.environ.get("BUILD_DIR", os.path.join(repo, "build")), "src/server/salespipe"))
    parser.add_argument("--invocations", type=int, default=3000)
    parser.add_argument("--boto3-invocations", type=int, default=300)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="lambda_api_bench.")
    port = free_port()
    proc = subprocess.Popen([args.binary, "serve", "--port", str(port), "--host", "127.0.0.1",
                             "--data-dir", data_dir, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"max_attempts": 0}))
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("bench.py", HANDLER)
        client.create_function(FunctionName="bench", Runtime="python3.12",
                               Role="arn:aws:iam::000000000000:role/bench",
                               Handler="bench.handler", Code={"ZipFile": package.getvalue()})

        conn = http.client.HTTPConnection("127.0.0.1", port)
        path = "/2015-03-31/functions/bench/invocations"
        body = b"{}"

        def invoke():
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or response.getheader("X-Amz-Function-Error"):
                raise SystemExit(f"invoke failed: {response.status} {data[:200]!r}")
            return json.loads(data)["handler_ns"]

        start = time.perf_counter()
        invoke()
        cold_ms = (time.perf_counter() - start) * 1000
        for _ in range(200):
            invoke()
        overhead = []
        for _ in range(args.invocations):
            start = time.perf_counter_ns()
            handler_ns = invoke()
            overhead.append((time.perf_counter_ns() - start - handler_ns) / 1000)
        boto = []
        for _ in range(args.boto3_invocations):
            start = time.perf_counter_ns()
            client.invoke(FunctionName="bench", Payload=body)["Payload"].read()
            boto.append((time.perf_counter_ns() - start) / 1000)
        print(f"API Invoke (http.client, keep-alive), {args.invocations} warm invocations: "
              f"overhead p50 {percentile(overhead, 50):.0f} us, p90 {percentile(overhead, 90):.0f} us, "
              f"p99 {percentile(overhead, 99):.0f} us; first invoke (cold) {cold_ms:.1f} ms")
        print(f"boto3 invoke, {args.boto3_invocations} calls: p50 {percentile(boto, 50):.0f} us, "
              f"p99 {percentile(boto, 99):.0f} us (includes boto3's own work)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
