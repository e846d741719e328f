"""Lambda event source mappings over the wire: Kinesis and DynamoDB stream sources delivering
every record in order per shard (also across a reshard), batching, ReportBatchItemFailures,
retries, the mapping API with its states and errors, and kill -9 during delivery (at least once,
in order, and the checkpoint moves on)."""

from __future__ import annotations

import base64
import json
import math
import os
import time
import unittest

import botocore.exceptions

import harness
from lambda_util import ROLE, python_function, wait_for

# Appends every event it receives, one JSON line per invocation, to $OUT. A record whose data
# (or NewImage.v) is "poison" fails once through batchItemFailures (marker file $OUT.poisoned);
# one whose data is "always-bad" makes the whole invocation fail every time.
RECORDER = """\
import base64, json, os

def _value(record):
    if "kinesis" in record:
        return base64.b64decode(record["kinesis"]["data"]).decode()
    return record.get("dynamodb", {}).get("NewImage", {}).get("v", {}).get("S", "")

def _id(record):
    if "kinesis" in record:
        return record["kinesis"]["sequenceNumber"]
    return record["dynamodb"]["SequenceNumber"]

def lambda_handler(event, context):
    out = os.environ["OUT"]
    delivered = []
    failure = None
    for record in event["Records"]:
        value = _value(record)
        if value == "always-bad":
            raise RuntimeError("cannot handle " + value)
        if value == "poison" and not os.path.exists(out + ".poisoned"):
            open(out + ".poisoned", "w").close()
            failure = _id(record)
            break
        delivered.append(record)
    with open(out, "a") as f:
        f.write(json.dumps({"Records": delivered}) + "\\n")
    if failure is not None:
        return {"batchItemFailures": [{"itemIdentifier": failure}]}
    return {"batchItemFailures": []}
"""


def kinesis_values(path):
    """[(shard id, sequence number, data)] in delivery order."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            for record in json.loads(line)["Records"]:
                out.append((record["eventID"].split(":")[0], record["kinesis"]["sequenceNumber"],
                            base64.b64decode(record["kinesis"]["data"]).decode()))
    return out


def dynamodb_records(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for line in f for r in json.loads(line)["Records"]]


class MappingTestCase(harness.ServerTestCase):
    def setUp(self):
        self.lam = self.client("lambda")
        self.kinesis = self.client("kinesis")

    def recorder(self, name):
        out = os.path.join(self.tmp_dir, f"{name}.jsonl")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                 Handler="lambda_function.lambda_handler",
                                 Code={"ZipFile": python_function(RECORDER)},
                                 Environment={"Variables": {"OUT": out}})
        return out

    def stream(self, name, shards=1):
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        return self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]

    def put(self, stream, values, key=lambda i, v: f"pk-{i % 4}"):
        for i, value in enumerate(values):
            self.kinesis.put_record(StreamName=stream, Data=value.encode(),
                                    PartitionKey=key(i, value))


class KinesisMappingTest(MappingTestCase):
    def test_delivers_every_record_in_order(self):
        out = self.recorder("k-order")
        arn = self.stream("orders", shards=2)
        self.put("orders", [f"before-{i}" for i in range(10)])
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="k-order", StartingPosition="TRIM_HORIZON",
            BatchSize=7)
        self.assertEqual(mapping["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(mapping["State"], "Creating")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=mapping["UUID"])["State"],
                         "Enabled")
        values = [f"v-{i}" for i in range(40)]
        self.put("orders", values)
        expected = [f"before-{i}" for i in range(10)] + values
        delivered = wait_for(lambda: (lambda d: d if len(d) >= 50 else None)(
            kinesis_values(out)), "50 records")
        self.assertEqual(sorted(v for _, _, v in delivered), sorted(expected))
        by_shard = {}
        for shard, sequence, value in delivered:
            by_shard.setdefault(shard, []).append((int(sequence), value))
        for shard, records in by_shard.items():
            self.assertEqual([s for s, _ in records], sorted(s for s, _ in records), shard)
        # Per partition key, the put order.
        for key in range(4):
            mine = [v for _, _, v in delivered if int(v.split("-")[1]) % 4 == key]
            ours = [v for v in expected if int(v.split("-")[1]) % 4 == key]
            self.assertEqual(mine, ours)
        with open(out) as f:
            event = json.loads(f.readline())["Records"][0]
        self.assertEqual(event["eventSource"], "aws:kinesis")
        self.assertEqual(event["eventName"], "aws:kinesis:record")
        self.assertEqual(event["eventVersion"], "1.0")
        self.assertEqual(event["eventSourceARN"], arn)
        self.assertEqual(event["awsRegion"], "us-east-1")
        self.assertEqual(event["invokeIdentityArn"], ROLE)
        self.assertEqual(event["kinesis"]["kinesisSchemaVersion"], "1.0")
        self.assertIsInstance(event["kinesis"]["approximateArrivalTimestamp"], float)
        self.assertRegex(event["eventID"], r"^shardId-\d{12}:\d+$")
        self.assertTrue(self.lam.get_event_source_mapping(UUID=mapping["UUID"])
                        ["LastProcessingResult"].startswith("OK"))

    def test_latest_and_resharding(self):
        out = self.recorder("k-latest")
        arn = self.stream("reshard")
        self.put("reshard", ["old"] * 3)
        self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="k-latest",
                                             StartingPosition="LATEST", BatchSize=5)
        self.put("reshard", [f"parent-{i}" for i in range(8)])
        shard = self.kinesis.list_shards(StreamName="reshard")["Shards"][0]
        self.kinesis.split_shard(StreamName="reshard", ShardToSplit=shard["ShardId"],
                                 NewStartingHashKey=str(2 ** 127))
        self.put("reshard", [f"child-{i}" for i in range(8)])
        delivered = wait_for(lambda: (lambda d: d if len(d) >= 16 else None)(
            kinesis_values(out)), "16 records")
        values = [v for _, _, v in delivered]
        self.assertNotIn("old", values)  # LATEST: only records after the mapping
        self.assertEqual(sorted(values),
                         sorted([f"parent-{i}" for i in range(8)] +
                                [f"child-{i}" for i in range(8)]))
        last_parent = max(i for i, v in enumerate(values) if v.startswith("parent"))
        first_child = min(i for i, v in enumerate(values) if v.startswith("child"))
        self.assertLess(last_parent, first_child)  # children after their parent
        self.assertEqual([v for v in values if v.startswith("parent")],
                         [f"parent-{i}" for i in range(8)])

    def test_report_batch_item_failures_and_retries(self):
        out = self.recorder("k-partial")
        arn = self.stream("partial")
        self.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="k-partial", StartingPosition="TRIM_HORIZON",
            BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
        values = ["a", "b", "poison", "c", "d"]
        self.put("partial", values, key=lambda i, v: "one")
        delivered = wait_for(lambda: (lambda d: d if len(d) >= 5 else None)(
            kinesis_values(out)), "5 records")
        # a and b once; the poisoned record and everything after it redelivered, in order.
        self.assertEqual([v for _, _, v in delivered], values)
        self.assertTrue(os.path.exists(out + ".poisoned"))

        out2 = self.recorder("k-retry")
        arn2 = self.stream("retry")
        self.lam.create_event_source_mapping(
            EventSourceArn=arn2, FunctionName="k-retry", StartingPosition="TRIM_HORIZON",
            BatchSize=1, MaximumRetryAttempts=1, BisectBatchOnFunctionError=True)
        self.put("retry", ["x", "always-bad", "y"], key=lambda i, v: "one")
        delivered = wait_for(lambda: (lambda d: d if len(d) >= 2 else None)(
            kinesis_values(out2)), "the records around the bad one")
        # The bad record is dropped after its retry; the shard moves on.
        self.assertEqual([v for _, _, v in delivered], ["x", "y"])

    def test_batching_window_and_at_timestamp(self):
        out = self.recorder("k-window")
        arn = self.stream("window")
        self.put("window", ["before"], key=lambda i, v: "one")
        before = self.kinesis.get_records(ShardIterator=self.kinesis.get_shard_iterator(
            StreamName="window", ShardId="shardId-000000000000",
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"][0]
        # botocore sends StartingPositionTimestamp in whole seconds: start at the next second.
        start = math.floor(before["ApproximateArrivalTimestamp"].timestamp()) + 1
        wait_for(lambda: time.time() >= start + 0.01, "the next second", step_s=0.005)
        self.put("window", ["w-0", "w-1", "w-2"], key=lambda i, v: "one")
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="k-window", StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=start, BatchSize=100,
            MaximumBatchingWindowInSeconds=1)
        self.assertEqual(mapping["StartingPosition"], "AT_TIMESTAMP")
        wait_for(lambda: len(kinesis_values(out)) >= 3, "the batch")
        with open(out) as f:
            batches = [json.loads(line)["Records"] for line in f]
        # One invocation with all three: the window held the batch until it was a second old.
        self.assertEqual(len(batches), 1)
        self.assertEqual([v for _, _, v in kinesis_values(out)], ["w-0", "w-1", "w-2"])

    def test_mapping_api(self):
        self.recorder("k-api")
        arn = self.stream("api")
        created = self.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="k-api", StartingPosition="LATEST",
            MaximumBatchingWindowInSeconds=1, Enabled=False)
        uuid = created["UUID"]
        self.assertEqual(created["BatchSize"], 100)
        self.assertEqual(created["FunctionArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:k-api")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["State"], "Disabled")
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="k-api",
                                                 StartingPosition="LATEST")
        updated = self.lam.update_event_source_mapping(UUID=uuid, BatchSize=50, Enabled=True)
        self.assertEqual(updated["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(updated["State"], "Updating")
        got = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual((got["State"], got["BatchSize"]), ("Enabled", 50))
        self.lam.create_event_source_mapping(EventSourceArn=self.stream("api2"),
                                             FunctionName="k-api", StartingPosition="LATEST")
        pages = list(self.lam.get_paginator("list_event_source_mappings").paginate(
            FunctionName="k-api", PaginationConfig={"PageSize": 1}))
        self.assertEqual(sum(len(p["EventSourceMappings"]) for p in pages), 2)
        listed = self.lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        self.assertEqual([m["UUID"] for m in listed], [uuid])
        deleted = self.lam.delete_event_source_mapping(UUID=uuid)
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(deleted["State"], "Deleting")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_event_source_mapping(UUID=uuid)

    def test_mapping_errors(self):
        self.recorder("k-err")
        arn = self.stream("errs")
        missing = arn.replace("stream/errs", "stream/nope")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.create_event_source_mapping(EventSourceArn=missing, FunctionName="k-err",
                                                 StartingPosition="LATEST")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="nofn",
                                                 StartingPosition="LATEST")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="k-err")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="k-err",
                                                 StartingPosition="LATEST", BatchSize=10001)
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.create_event_source_mapping(
                EventSourceArn=arn, FunctionName="k-err", StartingPosition="LATEST",
                FilterCriteria={"Filters": [{"Pattern": "{}"}]})
        self.assertEqual(self.lam.list_event_source_mappings(EventSourceArn=arn)
                         ["EventSourceMappings"], [])
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.delete_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")


class DynamoDbStreamMappingTest(MappingTestCase):
    def test_table_changes_in_order(self):
        out = self.recorder("ddb-order")
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(
            TableName="items", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
        stream_arn = table["LatestStreamArn"]
        self.lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="ddb-order",
                                             StartingPosition="TRIM_HORIZON", BatchSize=2)
        for i in range(5):
            dynamodb.put_item(TableName="items", Item={"pk": {"S": f"k{i}"}, "v": {"S": str(i)}})
        dynamodb.put_item(TableName="items", Item={"pk": {"S": "k1"}, "v": {"S": "changed"}})
        dynamodb.delete_item(TableName="items", Key={"pk": {"S": "k2"}})
        records = wait_for(lambda: (lambda r: r if len(r) >= 7 else None)(
            dynamodb_records(out)), "7 stream records")
        self.assertEqual([r["eventName"] for r in records], ["INSERT"] * 5 + ["MODIFY", "REMOVE"])
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in records],
                         ["k0", "k1", "k2", "k3", "k4", "k1", "k2"])
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        self.assertEqual(sequences, sorted(sequences))
        first = records[0]
        self.assertEqual(first["eventSource"], "aws:dynamodb")
        self.assertEqual(first["eventVersion"], "1.1")
        self.assertEqual(first["eventSourceARN"], stream_arn)
        self.assertEqual(first["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(records[5]["dynamodb"]["OldImage"]["v"], {"S": "1"})
        # The same record as DynamoDB Streams GetRecords shows it.
        streams = self.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = streams.get_records(ShardIterator=iterator)["Records"][0]
        self.assertEqual(got["eventID"], first["eventID"])
        self.assertEqual(got["dynamodb"]["SequenceNumber"], first["dynamodb"]["SequenceNumber"])
        self.assertEqual(got["dynamodb"]["NewImage"], first["dynamodb"]["NewImage"])


# Marks that it started, then hangs far beyond the shutdown timeout of the harness.
HANGS = """\
import os, time

def lambda_handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write("started\\n")
    time.sleep(100)
"""


class MappingShutdownTest(MappingTestCase):
    def test_clean_stop_ends_a_hung_batch_which_is_redelivered(self):
        out = os.path.join(self.tmp_dir, "hang.log")
        self.lam.create_function(FunctionName="hangs", Runtime="python3.12", Role=ROLE,
                                 Handler="lambda_function.lambda_handler", Timeout=300,
                                 Code={"ZipFile": python_function(HANGS)},
                                 Environment={"Variables": {"OUT": out}})
        arn = self.stream("hang")
        self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="hangs",
                                             StartingPosition="TRIM_HORIZON")
        self.put("hang", ["stuck"])

        def starts():
            if not os.path.exists(out):
                return 0
            with open(out) as f:
                return f.read().count("started")

        wait_for(lambda: starts() >= 1, "the function to start")
        # A clean stop does not wait for the hung invocation (the harness would time out).
        self.assertEqual(self.stop_server(), 0)
        self.restart()
        wait_for(lambda: starts() >= 2, "the batch delivered again after the restart")


class MappingCrashTest(MappingTestCase):
    def test_kill9_during_delivery(self):
        slow = RECORDER.replace("def lambda_handler(event, context):\n",
                                "def lambda_handler(event, context):\n"
                                "    import time\n    time.sleep(0.02)\n")
        out = os.path.join(self.tmp_dir, "crash.jsonl")
        self.lam.create_function(FunctionName="crash", Runtime="python3.12", Role=ROLE,
                                 Handler="lambda_function.lambda_handler",
                                 Code={"ZipFile": python_function(slow)},
                                 Environment={"Variables": {"OUT": out}})
        arn = self.stream("crash", shards=2)
        uuid = self.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="crash", StartingPosition="TRIM_HORIZON",
            BatchSize=3)["UUID"]
        values = [f"r-{i:03d}" for i in range(90)]
        self.put("crash", values)
        wait_for(lambda: len(kinesis_values(out)) >= 10, "some deliveries before the crash")
        self.kill9()
        self.restart()
        self.kinesis = self.client("kinesis")
        self.lam = self.client("lambda")
        delivered = wait_for(lambda: (lambda d: d if {v for _, _, v in d} >= set(values)
                                      else None)(kinesis_values(out)),
                             "every record after the restart")
        # At least once, and in order per shard: the first delivery of each record comes after
        # the first delivery of every earlier record of its shard (a redelivery after the
        # crash repeats a suffix).
        for shard in {s for s, _, _ in delivered}:
            sequences = []
            for s, sequence, value in delivered:
                if s == shard and int(sequence) not in sequences:
                    sequences.append(int(sequence))
            self.assertEqual(sequences, sorted(sequences), shard)
        # The checkpoint moved on: after another (clean) restart nothing old comes back.
        count = len(kinesis_values(out))
        self.stop_server()
        self.restart()
        self.kinesis = self.client("kinesis")
        self.put("crash", ["after-restart"])
        delivered = wait_for(lambda: (lambda d: d if any(v == "after-restart" for _, _, v in d)
                                      else None)(kinesis_values(out)), "the new record")
        self.assertEqual([v for _, _, v in delivered[count:]], ["after-restart"])
        self.assertEqual(self.client("lambda").get_event_source_mapping(UUID=uuid)["State"],
                         "Enabled")


if __name__ == "__main__":
    unittest.main()
