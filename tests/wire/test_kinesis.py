"""Kinesis Data Streams over the wire with boto3: every operation, every error class,
resharding lineage, iterators, paginators, the stream_exists waiter, CBOR and restart."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import struct
import time
import unittest

import botocore.config
import botocore.exceptions

import harness

NO_VALIDATION = botocore.config.Config(parameter_validation=False)


def read_shard(client, name, shard_id, iterator_type="TRIM_HORIZON", **kwargs):
    """All records of one shard, following NextShardIterator until it is absent (closed shard)
    or a page comes back empty (open shard)."""
    it = client.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                   ShardIteratorType=iterator_type, **kwargs)["ShardIterator"]
    out = []
    while it:
        page = client.get_records(ShardIterator=it)
        out.extend(page["Records"])
        it = page.get("NextShardIterator")
        if not page["Records"] and it:
            break
    return out


class KinesisStreamsTest(harness.ServerTestCase):
    def setUp(self):
        self.k = self.client("kinesis")

    def test_create_describe_list_delete(self):
        self.k.create_stream(StreamName="cd-one", ShardCount=3)
        self.k.get_waiter("stream_exists").wait(StreamName="cd-one",
                                                WaiterConfig={"Delay": 1, "MaxAttempts": 2})
        d = self.k.describe_stream(StreamName="cd-one")["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertEqual(len(d["Shards"]), 3)
        self.assertEqual(d["Shards"][0]["ShardId"], "shardId-000000000000")
        self.assertEqual(d["Shards"][0]["HashKeyRange"]["StartingHashKey"], "0")
        self.assertEqual(d["Shards"][2]["HashKeyRange"]["EndingHashKey"], str(2**128 - 1))
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertEqual(d["StreamModeDetails"]["StreamMode"], "PROVISIONED")
        self.assertFalse(d["HasMoreShards"])
        self.assertEqual(d["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/cd-one")
        s = self.k.describe_stream_summary(StreamARN=d["StreamARN"])["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 3)
        self.assertEqual(s["ConsumerCount"], 0)
        self.assertIn("cd-one", self.k.list_streams()["StreamNames"])
        self.k.delete_stream(StreamName="cd-one")
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.describe_stream(StreamName="cd-one")
        self.k.get_waiter("stream_not_exists").wait(StreamName="cd-one",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 2})

    def test_on_demand_has_four_shards(self):
        self.k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
        s = self.k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 4)
        self.assertEqual(s["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        limits = self.k.describe_limits()
        self.assertGreaterEqual(limits["OnDemandStreamCount"], 1)

    def test_errors(self):
        self.k.create_stream(StreamName="err", ShardCount=1)
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.create_stream(StreamName="err", ShardCount=1)
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException) as cm:
            self.k.put_record(StreamName="missing", PartitionKey="a", Data=b"x")
        self.assertIn("Stream missing under account 000000000000 not found.",
                      cm.exception.response["Error"]["Message"])
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.get_shard_iterator(StreamName="err", ShardId="shardId-000000000009",
                                      ShardIteratorType="LATEST")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.put_record(StreamName="err", PartitionKey="a", Data=b"x",
                              ExplicitHashKey=str(2**128))
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.get_shard_iterator(StreamName="err", ShardId="shardId-000000000000",
                                      ShardIteratorType="LATEST",
                                      StartingSequenceNumber="4" * 56)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.get_shard_iterator(StreamName="err", ShardId="shardId-000000000000",
                                      ShardIteratorType="AT_SEQUENCE_NUMBER")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        with self.assertRaises(self.k.exceptions.InvalidArgumentException) as cm:
            self.k.list_shards(StreamName="err", NextToken="abc")
        self.assertIn("NextToken and StreamName cannot be provided together",
                      cm.exception.response["Error"]["Message"])
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.get_shard_iterator(StreamName="err", ShardId="shardId-000000000000",
                                      ShardIteratorType="AT_TIMESTAMP",
                                      Timestamp=time.time() + 3600)
        with self.assertRaises(self.k.exceptions.LimitExceededException):
            self.k.create_stream(StreamName="too-many", ShardCount=100000)
        raw = self.client("kinesis", config=NO_VALIDATION)
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.put_record(StreamName="err", PartitionKey="k" * 257, Data=b"x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.put_record(StreamName="err", PartitionKey="a", Data=b"x" * (1024 * 1024 + 1))
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.put_records(StreamName="err",
                            Records=[{"PartitionKey": "a", "Data": b"x"}] * 501)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.put_records(StreamName="err", Records=[])
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(raw.exceptions.InvalidArgumentException):
            raw.put_records(StreamName="err",
                            Records=[{"PartitionKey": "a", "Data": b"x" * 1000000}] * 6)
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.get_records(ShardIterator="x", Limit=10001)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.create_stream(StreamName="", ShardCount=0)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("2 validation errors", cm.exception.response["Error"]["Message"])

    def test_put_get_iterator_types(self):
        self.k.create_stream(StreamName="it", ShardCount=1)
        seqs = []
        for i in range(5):
            r = self.k.put_record(StreamName="it", PartitionKey=f"k{i}", Data=f"d{i}".encode())
            self.assertEqual(r["ShardId"], "shardId-000000000000")
            self.assertEqual(len(r["SequenceNumber"]), 56)
            seqs.append(r["SequenceNumber"])
        self.assertEqual(seqs, sorted(seqs, key=int))
        shard = "shardId-000000000000"
        data = [r["Data"] for r in read_shard(self.k, "it", shard)]
        self.assertEqual(data, [f"d{i}".encode() for i in range(5)])
        at = read_shard(self.k, "it", shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
        self.assertEqual([r["SequenceNumber"] for r in at], seqs[2:])
        after = read_shard(self.k, "it", shard, "AFTER_SEQUENCE_NUMBER",
                           StartingSequenceNumber=seqs[2])
        self.assertEqual([r["SequenceNumber"] for r in after], seqs[3:])
        start = self.k.describe_stream(StreamName="it")["StreamDescription"]["Shards"][0][
            "SequenceNumberRange"]["StartingSequenceNumber"]
        self.assertEqual(len(read_shard(self.k, "it", shard, "AT_SEQUENCE_NUMBER",
                                        StartingSequenceNumber=start)), 5)
        latest = self.k.get_shard_iterator(StreamName="it", ShardId=shard,
                                           ShardIteratorType="LATEST")["ShardIterator"]
        page = self.k.get_records(ShardIterator=latest)
        self.assertEqual(page["Records"], [])
        self.assertEqual(page["MillisBehindLatest"], 0)
        self.k.put_record(StreamName="it", PartitionKey="late", Data=b"late")
        page = self.k.get_records(ShardIterator=page["NextShardIterator"])
        self.assertEqual([r["Data"] for r in page["Records"]], [b"late"])
        self.assertEqual(page["Records"][0]["PartitionKey"], "late")
        self.assertIsInstance(page["Records"][0]["ApproximateArrivalTimestamp"].year, int)
        ts = read_shard(self.k, "it", shard, "AT_TIMESTAMP", Timestamp=time.time() - 3600)
        self.assertEqual(len(ts), 6)
        # Chained iterators never repeat or skip.
        it = self.k.get_shard_iterator(StreamName="it", ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = []
        for _ in range(10):
            page = self.k.get_records(ShardIterator=it, Limit=2)
            got.extend(r["SequenceNumber"] for r in page["Records"])
            it = page["NextShardIterator"]
        self.assertEqual(len(got), 6)
        self.assertEqual(len(set(got)), 6)

    def test_millis_behind_latest(self):
        self.k.create_stream(StreamName="behind", ShardCount=1)
        self.k.put_record(StreamName="behind", PartitionKey="a", Data=b"1")
        time.sleep(0.3)
        self.k.put_record(StreamName="behind", PartitionKey="a", Data=b"2")
        it = self.k.get_shard_iterator(StreamName="behind", ShardId="shardId-000000000000",
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = self.k.get_records(ShardIterator=it, Limit=1)
        self.assertGreater(page["MillisBehindLatest"], 0)
        page = self.k.get_records(ShardIterator=page["NextShardIterator"])
        self.assertEqual(page["MillisBehindLatest"], 0)

    def test_partitioning_by_md5_and_explicit_hash_key(self):
        self.k.create_stream(StreamName="part", ShardCount=4)
        shards = self.k.list_shards(StreamName="part")["Shards"]
        for key in ["alpha", "beta", "gamma", "delta", "x" * 256]:
            h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
            want = next(s["ShardId"] for s in shards
                        if int(s["HashKeyRange"]["StartingHashKey"]) <= h
                        <= int(s["HashKeyRange"]["EndingHashKey"]))
            got = self.k.put_record(StreamName="part", PartitionKey=key, Data=b"v")["ShardId"]
            self.assertEqual(got, want, key)
        r = self.k.put_record(StreamName="part", PartitionKey="any", Data=b"v",
                              ExplicitHashKey=str(2**128 - 1))
        self.assertEqual(r["ShardId"], "shardId-000000000003")
        seq = r["SequenceNumber"]
        r2 = self.k.put_record(StreamName="part", PartitionKey="any", Data=b"v",
                               ExplicitHashKey="0", SequenceNumberForOrdering=seq)
        self.assertEqual(r2["ShardId"], "shardId-000000000000")

    def test_put_records(self):
        self.k.create_stream(StreamName="batch", ShardCount=2)
        records = [{"PartitionKey": f"pk{i % 7}", "Data": f"r{i}".encode()} for i in range(500)]
        out = self.k.put_records(StreamName="batch", Records=records)
        self.assertEqual(out["FailedRecordCount"], 0)
        self.assertEqual(len(out["Records"]), 500)
        # Records with one partition key keep request order.
        by_key = {}
        for rec, res in zip(records, out["Records"]):
            by_key.setdefault(rec["PartitionKey"], []).append(int(res["SequenceNumber"]))
        for seqs in by_key.values():
            self.assertEqual(seqs, sorted(seqs))
        total = sum(len(read_shard(self.k, "batch", s["ShardId"]))
                    for s in self.k.list_shards(StreamName="batch")["Shards"])
        self.assertEqual(total, 500)

    def test_resharding_reads_everything_once(self):
        k = self.k
        k.create_stream(StreamName="reshard", ShardCount=1)
        expected = set()
        n = 0

        def put(count):
            nonlocal n
            for _ in range(count):
                key = f"key-{n}"
                k.put_record(StreamName="reshard", PartitionKey=key, Data=key.encode())
                expected.add(key)
                n += 1

        put(20)
        k.split_shard(StreamName="reshard", ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2**127))
        put(20)
        shards = k.list_shards(StreamName="reshard")["Shards"]
        self.assertEqual(len(shards), 3)
        self.assertIn("EndingSequenceNumber", shards[0]["SequenceNumberRange"])
        self.assertEqual(shards[1]["ParentShardId"], "shardId-000000000000")
        self.assertEqual(shards[2]["ParentShardId"], "shardId-000000000000")
        with self.assertRaises(k.exceptions.ResourceInUseException):
            k.split_shard(StreamName="reshard", ShardToSplit="shardId-000000000000",
                          NewStartingHashKey="5")
        k.merge_shards(StreamName="reshard", ShardToMerge="shardId-000000000001",
                       AdjacentShardToMerge="shardId-000000000002")
        put(20)
        shards = k.list_shards(StreamName="reshard")["Shards"]
        self.assertEqual(len(shards), 4)
        self.assertEqual(shards[3]["ParentShardId"], "shardId-000000000001")
        self.assertEqual(shards[3]["AdjacentParentShardId"], "shardId-000000000002")
        open_ids = [s["ShardId"] for s in k.list_shards(
            StreamName="reshard", ShardFilter={"Type": "AT_LATEST"})["Shards"]]
        self.assertEqual(open_ids, ["shardId-000000000003"])
        # A parent's final page ends with no NextShardIterator and names its children.
        it = k.get_shard_iterator(StreamName="reshard", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = k.get_records(ShardIterator=it)
        self.assertEqual(len(page["Records"]), 20)
        self.assertNotIn("NextShardIterator", page)
        self.assertEqual(sorted(c["ShardId"] for c in page["ChildShards"]),
                         ["shardId-000000000001", "shardId-000000000002"])
        seen = []
        for s in shards:
            seen.extend(r["Data"].decode() for r in read_shard(k, "reshard", s["ShardId"]))
        self.assertEqual(len(seen), 60)
        self.assertEqual(set(seen), expected)
        with self.assertRaises(k.exceptions.InvalidArgumentException):
            k.create_stream(StreamName="nonadj", ShardCount=3)
            k.merge_shards(StreamName="nonadj", ShardToMerge="shardId-000000000000",
                           AdjacentShardToMerge="shardId-000000000002")

    def test_update_shard_count(self):
        self.k.create_stream(StreamName="usc", ShardCount=2)
        self.k.put_record(StreamName="usc", PartitionKey="a", Data=b"before")
        out = self.k.update_shard_count(StreamName="usc", TargetShardCount=4,
                                        ScalingType="UNIFORM_SCALING")
        self.assertEqual(out["CurrentShardCount"], 2)
        self.assertEqual(out["TargetShardCount"], 4)
        s = self.k.describe_stream_summary(StreamName="usc")["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 4)
        self.k.put_record(StreamName="usc", PartitionKey="a", Data=b"after")
        data = []
        for sh in self.k.list_shards(StreamName="usc")["Shards"]:
            data.extend(r["Data"] for r in read_shard(self.k, "usc", sh["ShardId"]))
        self.assertEqual(sorted(data), [b"after", b"before"])
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.update_shard_count(StreamName="usc", TargetShardCount=100,
                                      ScalingType="UNIFORM_SCALING")

    def test_retention(self):
        self.k.create_stream(StreamName="ret", ShardCount=1)
        self.k.increase_stream_retention_period(StreamName="ret", RetentionPeriodHours=48)
        self.assertEqual(self.k.describe_stream(StreamName="ret")["StreamDescription"][
            "RetentionPeriodHours"], 48)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.increase_stream_retention_period(StreamName="ret", RetentionPeriodHours=30)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.increase_stream_retention_period(StreamName="ret", RetentionPeriodHours=8761)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.decrease_stream_retention_period(StreamName="ret", RetentionPeriodHours=23)
        with self.assertRaises(self.k.exceptions.InvalidArgumentException):
            self.k.decrease_stream_retention_period(StreamName="ret", RetentionPeriodHours=72)
        self.k.decrease_stream_retention_period(StreamName="ret", RetentionPeriodHours=24)

    def test_tags(self):
        self.k.create_stream(StreamName="tags", ShardCount=1)
        arn = self.k.describe_stream_summary(StreamName="tags")["StreamDescriptionSummary"][
            "StreamARN"]
        self.k.add_tags_to_stream(StreamName="tags", Tags={"a": "1", "b": "2", "c": "3"})
        out = self.k.list_tags_for_stream(StreamName="tags", Limit=2)
        self.assertEqual([t["Key"] for t in out["Tags"]], ["a", "b"])
        self.assertTrue(out["HasMoreTags"])
        out = self.k.list_tags_for_stream(StreamName="tags", ExclusiveStartTagKey="b")
        self.assertEqual(out["Tags"], [{"Key": "c", "Value": "3"}])
        self.k.remove_tags_from_stream(StreamName="tags", TagKeys=["a"])
        self.k.tag_resource(ResourceARN=arn, Tags={"d": "4"})
        self.k.untag_resource(ResourceARN=arn, TagKeys=["b"])
        tags = self.k.list_tags_for_resource(ResourceARN=arn)["Tags"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"c": "3", "d": "4"})

    def test_consumers(self):
        self.k.create_stream(StreamName="fan", ShardCount=1)
        arn = self.k.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"][
            "StreamARN"]
        c = self.k.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
        self.assertEqual(c["ConsumerStatus"], "CREATING")
        self.assertTrue(c["ConsumerARN"].startswith(arn + "/consumer/app:"))
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.register_stream_consumer(StreamARN=arn, ConsumerName="app")
        d = self.k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
        self.assertEqual(d["ConsumerStatus"], "ACTIVE")
        d = self.k.describe_stream_consumer(StreamARN=arn, ConsumerName="app")[
            "ConsumerDescription"]
        self.assertEqual(d["StreamARN"], arn)
        for i in range(3):
            self.k.register_stream_consumer(StreamARN=arn, ConsumerName=f"more{i}")
        pages = self.k.get_paginator("list_stream_consumers").paginate(
            StreamARN=arn, PaginationConfig={"PageSize": 2})
        names = [c["ConsumerName"] for p in pages for c in p["Consumers"]]
        self.assertEqual(names, ["app", "more0", "more1", "more2"])
        with self.assertRaises(self.k.exceptions.ResourceInUseException):
            self.k.delete_stream(StreamName="fan")
        self.k.deregister_stream_consumer(StreamARN=arn, ConsumerName="app")
        with self.assertRaises(self.k.exceptions.ResourceNotFoundException):
            self.k.describe_stream_consumer(StreamARN=arn, ConsumerName="app")
        self.k.delete_stream(StreamName="fan", EnforceConsumerDeletion=True)

    def test_paginators_and_shard_filters(self):
        for i in range(5):
            self.k.create_stream(StreamName=f"page-{i}", ShardCount=1)
        names = [n for p in self.k.get_paginator("list_streams").paginate(
            PaginationConfig={"PageSize": 2}) for n in p["StreamNames"]]
        self.assertEqual([n for n in names if n.startswith("page-")],
                         [f"page-{i}" for i in range(5)])
        self.assertEqual(len(names), len(set(names)))
        self.k.create_stream(StreamName="many", ShardCount=7)
        # ListShards pages by NextToken alone (AWS rejects NextToken with StreamName, so
        # botocore's list_shards paginator cannot be used with StreamName against AWS either).
        page = self.k.list_shards(StreamName="many", MaxResults=3)
        ids = [s["ShardId"] for s in page["Shards"]]
        while "NextToken" in page:
            page = self.k.list_shards(NextToken=page["NextToken"], MaxResults=3)
            ids.extend(s["ShardId"] for s in page["Shards"])
        self.assertEqual(ids, [f"shardId-{i:012d}" for i in range(7)])
        described = [s["ShardId"] for p in self.k.get_paginator("describe_stream").paginate(
            StreamName="many", PaginationConfig={"PageSize": 3})
            for s in p["StreamDescription"]["Shards"]]
        self.assertEqual(described, ids)
        after = self.k.list_shards(StreamName="many", ShardFilter={
            "Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000004"})["Shards"]
        self.assertEqual([s["ShardId"] for s in after], ids[5:])
        after = self.k.list_shards(StreamName="many",
                                   ExclusiveStartShardId="shardId-000000000005")["Shards"]
        self.assertEqual([s["ShardId"] for s in after], ids[6:])
        for t in ["AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST"]:
            self.assertEqual(len(self.k.list_shards(StreamName="many",
                                                    ShardFilter={"Type": t})["Shards"]), 7, t)
        for t in ["AT_TIMESTAMP", "FROM_TIMESTAMP"]:
            got = self.k.list_shards(StreamName="many",
                                     ShardFilter={"Type": t, "Timestamp": time.time()})
            self.assertEqual(len(got["Shards"]), 7, t)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/many"
        self.assertEqual(len(self.k.list_shards(StreamARN=arn)["Shards"]), 7)

    def test_cli(self):
        self.cli_json(["kinesis", "create-stream", "--stream-name", "cli", "--shard-count", "1"])
        out = self.cli_json(["kinesis", "put-record", "--stream-name", "cli",
                             "--partition-key", "a", "--data", "aGVsbG8="])
        self.assertEqual(out["ShardId"], "shardId-000000000000")
        out = self.cli_json(["kinesis", "list-streams"])
        self.assertIn("cli", out["StreamNames"])


def cbor_encode(value) -> bytes:
    """A tiny CBOR encoder: dict, list, str, bytes, bool, int >= 0, float."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(value, bool):
        return bytes([0xF5 if value else 0xF4])
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor_encode(k) + cbor_encode(v)
                                              for k, v in value.items())
    raise TypeError(type(value))


def cbor_decode(data: bytes):
    """The matching decoder (definite and indefinite lengths, tags kept as ("tag", n, v))."""
    pos = 0

    def item():
        nonlocal pos
        b = data[pos]
        pos += 1
        major, info = b >> 5, b & 31
        if major == 7:
            if info == 20:
                return False
            if info == 21:
                return True
            if info == 22:
                return None
            if info == 27:
                pos += 8
                return struct.unpack(">d", data[pos - 8:pos])[0]
            if info == 26:
                pos += 4
                return struct.unpack(">f", data[pos - 4:pos])[0]
            raise ValueError(info)
        if info < 24:
            n = info
        elif info == 31:
            n = None
        else:
            size = 1 << (info - 24)
            n = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major in (2, 3):
            raw = data[pos:pos + n]
            pos += n
            return raw if major == 2 else raw.decode()
        if major == 4:
            return [item() for _ in range(n)]
        if major == 5:
            out = {}
            for _ in range(n):
                k = item()
                out[k] = item()
            return out
        if major == 6:
            return ("tag", n, item())
        raise ValueError(major)

    return item()


class KinesisCborAndRestartTest(harness.ServerTestCase):
    def cbor_call(self, operation, body):
        host = self.endpoint.split("//", 1)[1]
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.request("POST", "/", body=cbor_encode(body), headers={
            "X-Amz-Target": f"Kinesis_20131202.{operation}",
            "Content-Type": "application/x-amz-cbor-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/"
                             "us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00",
        })
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        return response.status, response.getheader("Content-Type"), cbor_decode(raw)

    def test_cbor_round_trip(self):
        status, ctype, body = self.cbor_call("CreateStream", {"StreamName": "cbor",
                                                              "ShardCount": 1})
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/x-amz-cbor-1.1")
        status, _, put = self.cbor_call("PutRecord", {"StreamName": "cbor", "PartitionKey": "p",
                                                      "Data": b"\x00\x01binary\xff"})
        self.assertEqual(status, 200, put)
        self.assertEqual(len(put["SequenceNumber"]), 56)
        _, _, it = self.cbor_call("GetShardIterator", {
            "StreamName": "cbor", "ShardId": "shardId-000000000000",
            "ShardIteratorType": "TRIM_HORIZON"})
        _, _, got = self.cbor_call("GetRecords", {"ShardIterator": it["ShardIterator"]})
        record = got["Records"][0]
        self.assertEqual(record["Data"], b"\x00\x01binary\xff")
        tag = record["ApproximateArrivalTimestamp"]
        self.assertEqual(tag[0:2], ("tag", 1))
        self.assertLess(abs(tag[2] / 1000 - time.time()), 600)
        # Errors stay CBOR with __type.
        status, ctype, err = self.cbor_call("DescribeStream", {"StreamName": "nope"})
        self.assertEqual(status, 400)
        self.assertEqual(ctype, "application/x-amz-cbor-1.1")
        self.assertEqual(err["__type"], "ResourceNotFoundException")
        # boto3 reads what CBOR wrote.
        k = self.client("kinesis")
        recs = read_shard(k, "cbor", "shardId-000000000000")
        self.assertEqual(recs[0]["Data"], b"\x00\x01binary\xff")

    def test_restart_keeps_streams_and_records(self):
        k = self.client("kinesis")
        k.create_stream(StreamName="durable", ShardCount=2)
        k.add_tags_to_stream(StreamName="durable", Tags={"team": "sales"})
        out = k.put_records(StreamName="durable", Records=[
            {"PartitionKey": f"p{i}", "Data": f"v{i}".encode()} for i in range(50)])
        self.assertEqual(out["FailedRecordCount"], 0)
        k.split_shard(StreamName="durable", ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2**126))
        self.kill9()
        self.restart()
        k = self.client("kinesis")
        shards = k.list_shards(StreamName="durable")["Shards"]
        self.assertEqual(len(shards), 4)
        data = []
        for s in shards:
            data.extend(r["Data"] for r in read_shard(k, "durable", s["ShardId"]))
        self.assertEqual(sorted(data), sorted(f"v{i}".encode() for i in range(50)))
        self.assertEqual(k.list_tags_for_stream(StreamName="durable")["Tags"],
                         [{"Key": "team", "Value": "sales"}])
        r = k.put_record(StreamName="durable", PartitionKey="p0", Data=b"new")
        old = [x["SequenceNumber"] for x in out["Records"]
               if x["ShardId"] == r["ShardId"]]
        self.assertTrue(all(int(r["SequenceNumber"]) > int(s) for s in old))


if __name__ == "__main__":
    unittest.main()
