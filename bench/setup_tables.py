#!/usr/bin/env python3
"""Creates and loads the benchmark tables through boto3, and checks what the wrk runs wrote.

    setup_tables.py setup  --endpoint URL [--get-items N] [--partitions P]
    setup_tables.py verify --endpoint URL --key ORDER_ID [--key ...]

setup creates
  bench_sales      pk order_id (S)               PutItem, BatchWriteItem, GetItem
  bench_partition  pk store (S), sk order_id (S)  Query
loads get-000000 .. get-<N-1> into bench_sales (GetItem reads them) and P partitions
qstore-000 .. of exactly 100 items into bench_partition (Query reads one whole partition), then
checks both through the API and prints one JSON line with the load time and the raw response
sizes of a GetItem and a Query (trivial_http answers the wrk ceiling runs with bodies that size).

verify exits 1 unless every --key exists in bench_sales (a consistent GetItem each).

The items are the same gadget sales as bench/wrk/common.lua builds (same fields, same sizes).
The credentials and region match the Authorization header of the wrk scripts, so servers that
scope tables by account or region (moto) show both the same tables.
"""

import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse

import boto3
from botocore.config import Config

PARTITION_SIZE = 100
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
PRODUCTS = [
    ("Wireless Noise-Cancelling Headphones WH-1000", "audio"),
    ("Smartwatch Series 7 GPS 45mm Midnight", "wearables"),
    ("USB-C GaN Fast Charger 65W Dual Port", "accessories"),
    ("Mechanical Keyboard TKL Hot-Swap RGB", "peripherals"),
    ("4K HDR Streaming Media Player with Remote", "tv"),
    ("Bluetooth Portable Speaker Waterproof Mini", "audio"),
    ("Ultralight Gaming Mouse 58g Wireless", "peripherals"),
    ("Tablet 11-inch 128GB Wi-Fi Space Gray", "tablets"),
]
CURRENCIES = ["USD", "EUR", "GBP", "JPY"]


def make_item(rng, order_id, store, n):
    """One gadget sale in DynamoDB JSON, as common.lua's M.item builds it."""
    product, category = rng.choice(PRODUCTS)
    return {
        "order_id": {"S": order_id},
        "sku": {"S": "SKU-%05d" % rng.randint(0, 99999)},
        "product_name": {"S": product},
        "category": {"S": category},
        "quantity": {"N": str(rng.randint(1, 5))},
        "unit_price": {"N": "%d.%02d" % (rng.randint(5, 1999), rng.randint(0, 99))},
        "currency": {"S": rng.choice(CURRENCIES)},
        "customer_id": {"S": "cust-%07d" % rng.randint(0, 9999999)},
        "store": {"S": store},
        "ts": {
            "S": "2025-01-%02dT%02d:%02d:%02d.%03dZ"
            % (1 + n % 28, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
               rng.randint(0, 999))
        },
        "channel": {"S": "web"},
        "payment": {"S": "card"},
    }


def client(endpoint):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="bench-secret",
        config=Config(retries={"max_attempts": 10, "mode": "standard"}, connect_timeout=10,
                      read_timeout=60),
    )


def create_table(ddb, name, key_schema, attributes):
    try:
        ddb.create_table(
            TableName=name,
            KeySchema=key_schema,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
        )
    except ddb.exceptions.ResourceInUseException:
        pass
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise SystemExit(f"table {name} did not become ACTIVE")


def batch_put(ddb, table, items):
    for start in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": it}} for it in items[start:start + 25]]}
        for _ in range(50):
            unprocessed = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            pending = unprocessed
            time.sleep(0.02)
        else:
            raise SystemExit(f"batch_write_item into {table} kept returning UnprocessedItems")


def raw_post(endpoint, target, body):
    """The response body of one raw JSON 1.0 request, sent as the wrk scripts send it."""
    url = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", "/", body=json.dumps(body), headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810." + target,
        "X-Amz-Date": "20250101T000000Z",
        "Authorization": AUTHORIZATION,
    })
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"raw {target} answered {response.status}: {data[:300]!r}")
    return data


def setup(args):
    started = time.monotonic()
    ddb = client(args.endpoint)
    create_table(ddb, "bench_sales", [{"AttributeName": "order_id", "KeyType": "HASH"}],
                 [{"AttributeName": "order_id", "AttributeType": "S"}])
    create_table(ddb, "bench_partition",
                 [{"AttributeName": "store", "KeyType": "HASH"},
                  {"AttributeName": "order_id", "KeyType": "RANGE"}],
                 [{"AttributeName": "store", "AttributeType": "S"},
                  {"AttributeName": "order_id", "AttributeType": "S"}])
    rng = random.Random(42)
    get_items = [make_item(rng, "get-%06d" % i, "store-%03d" % (i % 200), i)
                 for i in range(args.get_items)]
    batch_put(ddb, "bench_sales", get_items)
    for p in range(args.partitions):
        store = "qstore-%03d" % p
        batch_put(ddb, "bench_partition",
                  [make_item(rng, "ord-%06d" % i, store, i) for i in range(PARTITION_SIZE)])
    loaded = time.monotonic() - started

    # Check through the API what the wrk scripts will read.
    got = ddb.get_item(TableName="bench_sales", Key={"order_id": {"S": "get-%06d" % (
        args.get_items - 1)}}, ConsistentRead=True).get("Item")
    if got != get_items[-1]:
        raise SystemExit(f"GetItem returned {got!r}, expected {get_items[-1]!r}")
    for p in range(args.partitions):
        page = ddb.query(TableName="bench_partition", KeyConditionExpression="#s = :s",
                         ExpressionAttributeNames={"#s": "store"},
                         ExpressionAttributeValues={":s": {"S": "qstore-%03d" % p}})
        if page["Count"] != PARTITION_SIZE or "LastEvaluatedKey" in page:
            raise SystemExit(f"Query of qstore-{p:03d} returned {page['Count']} items in one "
                             f"page, expected {PARTITION_SIZE}")
    get_body = raw_post(args.endpoint, "GetItem", {"TableName": "bench_sales",
                                                   "Key": {"order_id": {"S": "get-000000"}}})
    query_body = raw_post(args.endpoint, "Query", {
        "TableName": "bench_partition", "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "store"},
        "ExpressionAttributeValues": {":s": {"S": "qstore-000"}}})
    print(json.dumps({
        "load_seconds": round(loaded, 2),
        "get_items": args.get_items,
        "partitions": args.partitions,
        "item_json_bytes": len(json.dumps(get_items[0], separators=(",", ":"))),
        "get_item_response_bytes": len(get_body),
        "query_response_bytes": len(query_body),
    }))


def verify(args):
    ddb = client(args.endpoint)
    missing = [k for k in args.key
               if "Item" not in ddb.get_item(TableName="bench_sales",
                                             Key={"order_id": {"S": k}}, ConsistentRead=True)]
    if missing:
        print(json.dumps({"missing": missing}))
        return 1
    print(json.dumps({"verified": len(args.key)}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--endpoint", required=True)
    p_setup.add_argument("--get-items", type=int, default=5000)
    p_setup.add_argument("--partitions", type=int, default=4)
    p_verify = sub.add_parser("verify")
    p_verify.add_argument("--endpoint", required=True)
    p_verify.add_argument("--key", action="append", required=True)
    args = parser.parse_args()
    if args.command == "setup":
        setup(args)
        return 0
    return verify(args)


if __name__ == "__main__":
    sys.exit(main())
