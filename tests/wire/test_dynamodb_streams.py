"""DynamoDB Streams and the table-to-Kinesis destination over the wire (spec 3 and 5).

Every Streams operation and error with boto3; a bulk test that checks the exact change
sequence of 10,000 items (inserts, updates, deletes) in DynamoDB Streams and in the Kinesis
destination; and a kill -9 test for the destination connector. No timing asserts, no sleeps:
reads loop until the expected records are there, bounded by a generous attempt count.
"""

from __future__ import annotations

import json
import threading
import time
import unittest
from collections import defaultdict

import botocore.exceptions

import harness

ACCOUNT = "000000000000"


def create_table(ddb, name, stream_view=None, range_key=False):
    extra = {}
    if stream_view:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view}
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    return ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs,
                            BillingMode="PAY_PER_REQUEST", **extra)["TableDescription"]


READ_DEADLINE_S = 120.0  # a bound on waiting for records, not a timing assert


def read_shard(streams, arn, shard_id, iterator_type="TRIM_HORIZON", until=None):
    """All records of one shard from `iterator_type`; stops at the end of a closed shard, or
    once `until(records)` is true on an open one."""
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                    ShardIteratorType=iterator_type)["ShardIterator"]
    records = []
    deadline = time.monotonic() + READ_DEADLINE_S
    while time.monotonic() < deadline:
        out = streams.get_records(ShardIterator=it, Limit=1000)
        records.extend(out["Records"])
        it = out.get("NextShardIterator")
        if it is None or (until is not None and until(records)):
            return records
    raise AssertionError(f"shard {shard_id} did not reach the expected state")


def stream_records(streams, arn, until=None):
    records = []
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    for shard in desc["Shards"]:
        records.extend(read_shard(streams, arn, shard["ShardId"], until=until))
    return records


def kinesis_available(client) -> bool:
    try:
        client.list_streams()
        return True
    except botocore.exceptions.ClientError:
        return False


def read_kinesis(kinesis, name, expected_count):
    """Every record of every shard of a Kinesis stream, once `expected_count` are there."""
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    iterators = {s["ShardId"]: kinesis.get_shard_iterator(
        StreamName=name, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for s in shards}
    by_shard = defaultdict(list)
    deadline = time.monotonic() + READ_DEADLINE_S
    while time.monotonic() < deadline:
        for shard_id, it in list(iterators.items()):
            if it is None:
                continue
            out = kinesis.get_records(ShardIterator=it, Limit=10000)
            by_shard[shard_id].extend(out["Records"])
            iterators[shard_id] = out.get("NextShardIterator")
        if sum(len(v) for v in by_shard.values()) >= expected_count:
            return by_shard
    raise AssertionError("Kinesis destination did not receive the expected records")


class StreamsApiTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.streams = cls.client("dynamodbstreams")

    def test_list_describe_and_records_per_view_type(self):
        for view in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            name = f"views-{view.lower().replace('_', '-')}"
            desc = create_table(self.ddb, name, view, range_key=True)
            arn = desc["LatestStreamArn"]
            self.assertTrue(arn.startswith(
                f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}/stream/"))
            self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                                                    "v": {"S": "one"}})
            self.ddb.update_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                                 UpdateExpression="SET v = :v",
                                 ExpressionAttributeValues={":v": {"S": "two"}})
            # Changes nothing: no record.
            self.ddb.update_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                                 UpdateExpression="SET v = :v",
                                 ExpressionAttributeValues={":v": {"S": "two"}})
            self.ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
            self.ddb.delete_item(TableName=name, Key={"pk": {"S": "zz"}, "sk": {"N": "1"}})

            sd = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
            self.assertEqual(sd["StreamStatus"], "ENABLED")
            self.assertEqual(sd["StreamViewType"], view)
            self.assertEqual(sd["TableName"], name)
            self.assertEqual(sd["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}])
            self.assertEqual(len(sd["Shards"]), 1)
            shard = sd["Shards"][0]
            self.assertRegex(shard["ShardId"], r"^shardId-\d{20}-[0-9a-f]{8}$")
            self.assertNotIn("EndingSequenceNumber", shard["SequenceNumberRange"])

            records = read_shard(self.streams, arn, shard["ShardId"],
                                 until=lambda r: len(r) >= 3)
            self.assertEqual([r["eventName"] for r in records], ["INSERT", "MODIFY", "REMOVE"])
            seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
            self.assertEqual(seqs, sorted(seqs, key=int))
            for r in records:
                self.assertEqual(r["eventSource"], "aws:dynamodb")
                self.assertEqual(r["eventVersion"], "1.1")
                self.assertEqual(r["awsRegion"], "us-east-1")
                self.assertGreaterEqual(len(r["dynamodb"]["SequenceNumber"]), 21)
                self.assertEqual(r["dynamodb"]["StreamViewType"], view)
                self.assertEqual(r["dynamodb"]["Keys"], {"pk": {"S": "a"}, "sk": {"N": "1"}})
                self.assertGreater(r["dynamodb"]["SizeBytes"], 0)
                self.assertNotIn("userIdentity", r)
            images = [("NewImage" in r["dynamodb"], "OldImage" in r["dynamodb"])
                      for r in records]
            expected = {"KEYS_ONLY": [(False, False)] * 3,
                        "NEW_IMAGE": [(True, False), (True, False), (False, False)],
                        "OLD_IMAGE": [(False, False), (False, True), (False, True)],
                        "NEW_AND_OLD_IMAGES": [(True, False), (True, True), (False, True)]}
            self.assertEqual(images, expected[view], view)

            listed = self.streams.list_streams(TableName=name)["Streams"]
            self.assertEqual(listed, [{"StreamArn": arn, "TableName": name,
                                       "StreamLabel": sd["StreamLabel"]}])

    def test_iterator_types(self):
        desc = create_table(self.ddb, "iterators", "NEW_IMAGE")
        arn = desc["LatestStreamArn"]
        for i in range(5):
            self.ddb.put_item(TableName="iterators", Item={"pk": {"S": f"k{i}"}})
        shard_id = self.streams.describe_stream(
            StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        records = read_shard(self.streams, arn, shard_id, until=lambda r: len(r) >= 5)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]

        def first_from(**kwargs):
            it = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                 **kwargs)["ShardIterator"]
            out = self.streams.get_records(ShardIterator=it)
            return [r["dynamodb"]["SequenceNumber"] for r in out["Records"]], out

        at, _ = first_from(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=seqs[2])
        self.assertEqual(at, seqs[2:])
        after, _ = first_from(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[2])
        self.assertEqual(after, seqs[3:])
        latest, out = first_from(ShardIteratorType="LATEST")
        self.assertEqual(latest, [])
        self.assertIn("NextShardIterator", out)
        # LATEST sees writes made after the iterator was taken.
        self.ddb.put_item(TableName="iterators", Item={"pk": {"S": "later"}})
        out = self.streams.get_records(ShardIterator=out["NextShardIterator"])
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]], ["later"])
        # Limit and chaining never repeat or skip.
        it = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        chained = []
        for _ in range(6):
            out = self.streams.get_records(ShardIterator=it, Limit=1)
            self.assertLessEqual(len(out["Records"]), 1)
            chained.extend(r["dynamodb"]["SequenceNumber"] for r in out["Records"])
            it = out["NextShardIterator"]
        self.assertEqual(chained[:5], seqs)

    def test_disable_enable_and_delete_table(self):
        desc = create_table(self.ddb, "lifecycle", "KEYS_ONLY")
        first_arn = desc["LatestStreamArn"]
        self.ddb.put_item(TableName="lifecycle", Item={"pk": {"S": "a"}})
        self.ddb.update_table(TableName="lifecycle",
                              StreamSpecification={"StreamEnabled": False})
        sd = self.streams.describe_stream(StreamArn=first_arn)["StreamDescription"]
        self.assertEqual(sd["StreamStatus"], "DISABLED")
        rng = sd["Shards"][0]["SequenceNumberRange"]
        self.assertIn("EndingSequenceNumber", rng)
        self.assertLess(len(rng["EndingSequenceNumber"]), 41)
        # Still readable; the closed shard ends without NextShardIterator.
        records = read_shard(self.streams, first_arn, sd["Shards"][0]["ShardId"])
        self.assertEqual(len(records), 1)
        self.ddb.put_item(TableName="lifecycle", Item={"pk": {"S": "b"}})  # no stream now

        desc = self.ddb.update_table(TableName="lifecycle", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
        second_arn = desc["LatestStreamArn"]
        self.assertNotEqual(first_arn, second_arn)
        self.ddb.put_item(TableName="lifecycle", Item={"pk": {"S": "c"}})
        listed = self.streams.list_streams(TableName="lifecycle")["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [first_arn, second_arn])
        records = stream_records(self.streams, second_arn, until=lambda r: len(r) >= 1)
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in records], ["c"])

        self.ddb.delete_table(TableName="lifecycle")
        sd = self.streams.describe_stream(StreamArn=second_arn)["StreamDescription"]
        self.assertEqual(sd["StreamStatus"], "DISABLED")
        records = read_shard(self.streams, second_arn, sd["Shards"][0]["ShardId"])
        self.assertEqual(len(records), 1)

    def test_list_streams_paging(self):
        for i in range(3):
            create_table(self.ddb, f"paging-{i}", "KEYS_ONLY")
        seen = []
        kwargs = {"Limit": 1}
        for _ in range(50):
            out = self.streams.list_streams(**kwargs)
            seen.extend((s["TableName"], s["StreamArn"]) for s in out["Streams"])
            if "LastEvaluatedStreamArn" not in out:
                break
            kwargs["ExclusiveStartStreamArn"] = out["LastEvaluatedStreamArn"]
        self.assertEqual([n for n, _ in seen if n.startswith("paging-")],
                         ["paging-0", "paging-1", "paging-2"])
        self.assertEqual(len(seen), len(set(seen)))

    def test_errors(self):
        desc = create_table(self.ddb, "errors", "NEW_IMAGE")
        arn = desc["LatestStreamArn"]
        shard_id = self.streams.describe_stream(
            StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        missing = arn.replace("/errors/", "/nosuchtable/")
        s = self.streams
        with self.assertRaises(s.exceptions.ResourceNotFoundException):
            s.describe_stream(StreamArn=missing)
        with self.assertRaises(s.exceptions.ResourceNotFoundException):
            s.list_streams(TableName="nosuchtable")
        with self.assertRaises(s.exceptions.ResourceNotFoundException):
            s.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                                 ShardIteratorType="TRIM_HORIZON")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s.describe_stream(StreamArn="arn:aws:dynamodb:us-east-1:000000000000:nonsense-xx")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                 ShardIteratorType="AT_SEQUENCE_NUMBER")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s.get_records(ShardIterator=arn + "|1|garbage")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        # Raw JSON past botocore's client-side checks: bad enum and a Limit over 1000.
        status, _, body = self.http("POST", "/", body=json.dumps({
            "StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "SOMETIMES"}).encode(),
            headers={"X-Amz-Target": "DynamoDBStreams_20120810.GetShardIterator",
                     "Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(status, 400)
        self.assertIn("ValidationException", body.decode())
        it = s.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s.get_records(ShardIterator=it, Limit=1001)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        status, headers, body = self.http("POST", "/", body=b"{}", headers={
            "X-Amz-Target": "DynamoDBStreams_20120810.NoSuchOperation",
            "Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(status, 400)
        self.assertIn("UnknownOperationException", body.decode())
        self.assertIn("x-amz-crc32", {k.lower() for k in headers})

    def test_ttl_removal_identity(self):
        create_table(self.ddb, "ttl", "NEW_AND_OLD_IMAGES")
        self.ddb.update_time_to_live(TableName="ttl", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "exp"})
        self.ddb.put_item(TableName="ttl", Item={"pk": {"S": "gone"},
                                                "exp": {"N": str(int(time.time()) - 60)}})
        arn = self.ddb.describe_table(TableName="ttl")["Table"]["LatestStreamArn"]
        # The sweeper (every 5 s by default) removes the expired item.
        records = stream_records(self.streams, arn, until=lambda r: len(r) >= 2)
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "REMOVE"])
        self.assertEqual(records[1]["userIdentity"],
                         {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})


class KinesisDestinationTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.streams = cls.client("dynamodbstreams")
        cls.kinesis = cls.client("kinesis")

    def setUp(self):
        if not kinesis_available(self.kinesis):
            self.skipTest("the Kinesis service is not wired into this server yet")

    def make_stream(self, name, shards=2):
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        return self.kinesis.describe_stream_summary(
            StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def test_enable_describe_update_disable(self):
        create_table(self.ddb, "dest-ops")
        arn = self.make_stream("dest-ops-out")
        missing = arn.replace("dest-ops-out", "nope")
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException):
            self.ddb.enable_kinesis_streaming_destination(TableName="dest-ops", StreamArn=missing)
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException):
            self.ddb.enable_kinesis_streaming_destination(TableName="nope", StreamArn=arn)
        out = self.ddb.enable_kinesis_streaming_destination(TableName="dest-ops", StreamArn=arn)
        self.assertEqual(out["DestinationStatus"], "ENABLING")
        self.assertEqual(out["StreamArn"], arn)
        self.ddb.get_waiter("kinesis_streaming_destination_active").wait(
            TableName="dest-ops", WaiterConfig={"Delay": 1, "MaxAttempts": 1})
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.ddb.enable_kinesis_streaming_destination(TableName="dest-ops", StreamArn=arn)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        out = self.ddb.update_kinesis_streaming_destination(
            TableName="dest-ops", StreamArn=arn,
            UpdateKinesisStreamingConfiguration={
                "ApproximateCreationDateTimePrecision": "MICROSECOND"})
        self.assertEqual(out["DestinationStatus"], "UPDATING")
        dests = self.ddb.describe_kinesis_streaming_destination(
            TableName="dest-ops")["KinesisDataStreamDestinations"]
        self.assertEqual(dests, [{"StreamArn": arn, "DestinationStatus": "ACTIVE",
                                  "ApproximateCreationDateTimePrecision": "MICROSECOND"}])
        out = self.ddb.disable_kinesis_streaming_destination(TableName="dest-ops", StreamArn=arn)
        self.assertEqual(out["DestinationStatus"], "DISABLING")
        dests = self.ddb.describe_kinesis_streaming_destination(
            TableName="dest-ops")["KinesisDataStreamDestinations"]
        self.assertEqual(dests[0]["DestinationStatus"], "DISABLED")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.ddb.disable_kinesis_streaming_destination(TableName="dest-ops", StreamArn=arn)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")

    def test_ten_thousand_items_in_streams_and_kinesis(self):
        """Exactly the expected change sequence, per item, in both DynamoDB Streams and the
        Kinesis destination."""
        desc = create_table(self.ddb, "bulk", "NEW_AND_OLD_IMAGES")
        arn = self.make_stream("bulk-out", shards=4)
        self.ddb.enable_kinesis_streaming_destination(TableName="bulk", StreamArn=arn)
        expected = defaultdict(list)  # key -> [(eventName, v of new image or None)]
        table = self.resource("dynamodb").Table("bulk")
        with table.batch_writer() as batch:
            for i in range(10_000):
                batch.put_item(Item={"pk": f"k{i:05d}", "v": 0})
                expected[f"k{i:05d}"].append(("INSERT", "0"))
        for i in range(0, 10_000, 5):
            self.ddb.update_item(TableName="bulk", Key={"pk": {"S": f"k{i:05d}"}},
                                 UpdateExpression="SET v = :v",
                                 ExpressionAttributeValues={":v": {"N": "1"}})
            expected[f"k{i:05d}"].append(("MODIFY", "1"))
        for i in range(0, 10_000, 7):
            self.ddb.delete_item(TableName="bulk", Key={"pk": {"S": f"k{i:05d}"}})
            expected[f"k{i:05d}"].append(("REMOVE", None))
        total = sum(len(v) for v in expected.values())

        def per_item(records):
            got = defaultdict(list)
            for r in records:
                new = r["dynamodb"].get("NewImage")
                got[r["dynamodb"]["Keys"]["pk"]["S"]].append(
                    (r["eventName"], new["v"]["N"] if new else None))
            return got

        records = stream_records(self.streams, desc["LatestStreamArn"],
                                 until=lambda r: len(r) >= total)
        self.assertEqual(len(records), total)
        self.assertEqual(per_item(records), expected)

        by_shard = read_kinesis(self.kinesis, "bulk-out", total)
        kinesis_records = []
        for shard_records in by_shard.values():
            for rec in shard_records:
                doc = json.loads(rec["Data"])
                self.assertEqual(doc["tableName"], "bulk")
                self.assertEqual(doc["recordFormat"], "application/json")
                self.assertEqual(doc["eventSource"], "aws:dynamodb")
                self.assertRegex(rec["PartitionKey"], r"^[0-9A-F]{32}$")
                self.assertGreater(doc["dynamodb"]["ApproximateCreationDateTime"], 10**12)
                if doc["eventName"] == "MODIFY":
                    self.assertIn("OldImage", doc["dynamodb"])
                kinesis_records.append(doc)
        self.assertEqual(len(kinesis_records), total)
        self.assertEqual(len({d["eventID"] for d in kinesis_records}), total)
        self.assertEqual(per_item(kinesis_records), expected)


    def test_stream_toggles_while_publishing(self):
        """While the table has a stream, the destination reads the stream's records (one copy
        of each change); enabling and disabling the stream in between writes loses and
        repeats nothing, in per-item order."""
        create_table(self.ddb, "toggle")
        arn = self.make_stream("toggle-out", shards=3)
        self.ddb.enable_kinesis_streaming_destination(TableName="toggle", StreamArn=arn)
        expected = defaultdict(list)
        per_round = defaultdict(int)  # round -> its changes

        def writes(version):
            for i in range(40):
                key = f"k{i:02d}"
                self.ddb.put_item(TableName="toggle",
                                  Item={"pk": {"S": key}, "v": {"N": str(version)}})
                expected[key].append(("INSERT" if not expected[key] or
                                      expected[key][-1][0] == "REMOVE" else "MODIFY",
                                      str(version)))
                per_round[version] += 1
                if i % 5 == version % 5:
                    self.ddb.delete_item(TableName="toggle", Key={"pk": {"S": key}})
                    expected[key].append(("REMOVE", None))
                    per_round[version] += 1

        def set_stream(enabled):
            spec = {"StreamEnabled": enabled}
            if enabled:
                spec["StreamViewType"] = "KEYS_ONLY"
            return self.ddb.update_table(TableName="toggle", StreamSpecification=spec)

        writes(1)
        set_stream(True)
        writes(2)
        set_stream(False)
        writes(3)
        latest = set_stream(True)["TableDescription"]["LatestStreamArn"]
        writes(4)
        total = sum(len(v) for v in expected.values())

        got = defaultdict(list)
        for records in read_kinesis(self.kinesis, "toggle-out", total).values():
            for rec in records:
                doc = json.loads(rec["Data"])
                new = doc["dynamodb"].get("NewImage")
                got[doc["dynamodb"]["Keys"]["pk"]["S"]].append(
                    (doc["eventName"], new["v"]["N"] if new else None))
        self.assertEqual(sum(len(v) for v in got.values()), total)
        self.assertEqual(got, expected)
        # The latest stream holds the last round's changes, in its own view type.
        stream = stream_records(self.streams, latest, until=lambda r: len(r) >= per_round[4])
        self.assertEqual(len(stream), per_round[4])
        for record in stream:
            self.assertEqual(record["dynamodb"]["StreamViewType"], "KEYS_ONLY")
            self.assertNotIn("NewImage", record["dynamodb"])


class KinesisDestinationCrashTest(harness.ServerTestCase):
    def test_kill9_while_writing(self):
        """The destination's source is the table's change log (no stream)."""
        self.kill9_while_writing("crash", None)

    def test_kill9_while_writing_with_a_stream(self):
        """The destination's source is the table's DynamoDB stream."""
        self.kill9_while_writing("crash-stream", "NEW_IMAGE")

    def kill9_while_writing(self, table, stream_view):
        ddb = self.client("dynamodb")
        kinesis = self.client("kinesis")
        if not kinesis_available(kinesis):
            self.skipTest("the Kinesis service is not wired into this server yet")
        create_table(ddb, table, stream_view)
        kinesis.create_stream(StreamName=f"{table}-out", ShardCount=2)
        arn = kinesis.describe_stream_summary(
            StreamName=f"{table}-out")["StreamDescriptionSummary"]["StreamARN"]
        ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)

        acked = []  # (key, version) acknowledged, in order
        stop = threading.Event()
        enough = threading.Event()
        errors = []

        def writer():
            client = self.client("dynamodb")
            try:
                for i in range(50_000):
                    if stop.is_set():
                        return
                    key, version = f"k{i % 300}", i // 300
                    client.put_item(TableName=table,
                                    Item={"pk": {"S": key}, "v": {"N": str(version)}})
                    acked.append((key, str(version)))
                    if len(acked) >= 1500:
                        enough.set()
            except Exception as e:  # the connection dies with the server
                errors.append(e)
            finally:
                enough.set()

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        enough.wait(60)
        self.kill9()
        stop.set()
        thread.join(60)
        self.restart()

        by_shard = read_kinesis(kinesis, f"{table}-out", len(acked))
        got = defaultdict(list)
        for records in by_shard.values():
            for rec in records:
                doc = json.loads(rec["Data"])
                got[doc["dynamodb"]["Keys"]["pk"]["S"]].append(
                    doc["dynamodb"]["NewImage"]["v"]["N"])
        expected = defaultdict(list)
        for key, version in acked:
            expected[key].append(version)
        for key, versions in expected.items():
            # Every acknowledged change once, in order; at most the one write in flight at
            # the kill may follow (it may have committed without its acknowledgement).
            self.assertEqual(got[key][:len(versions)], versions, key)
            self.assertLessEqual(len(got[key]) - len(versions), 1, key)
        self.assertLessEqual(sum(len(v) for v in got.values()) - len(acked), 1)


if __name__ == "__main__":
    unittest.main()
