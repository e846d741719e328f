"""Firehose over the wire with boto3: every operation and error class, DirectPut and Kinesis
sources delivering objects into the lake (read back with boto3 S3), AWS's object keys,
buffering hints, compression, flush on shutdown, and exactly-once delivery across kill -9."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import threading
import time
import unittest
import zipfile

import botocore.config
import botocore.exceptions

import harness
from lambda_util import python_function

NO_VALIDATION = botocore.config.Config(parameter_validation=False)
ROLE = "arn:aws:iam::000000000000:role/firehose"
DELIVERY_WAIT_S = 120  # a bound so a broken delivery fails the test instead of hanging it
KEY_NAME = r"-\d+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def s3_dest(bucket, **extra):
    config = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}"}
    config.update(extra)
    return config


class FirehoseCase(harness.ServerTestCase):
    def setUp(self):
        self.f = self.client("firehose")
        self.s3 = self.client("s3")

    def create(self, name, bucket, **extra):
        self.f.create_delivery_stream(DeliveryStreamName=name,
                                      ExtendedS3DestinationConfiguration=s3_dest(bucket, **extra))

    def objects(self, bucket, prefix=""):
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                out[item["Key"]] = self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return out

    def wait_deleted(self, name):
        """DeleteDeliveryStream answers at once; the stream is DELETING until its drain is
        done, then gone (ResourceNotFoundException)."""
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            try:
                d = self.f.describe_delivery_stream(DeliveryStreamName=name)
            except self.f.exceptions.ResourceNotFoundException:
                return
            self.assertEqual(d["DeliveryStreamDescription"]["DeliveryStreamStatus"], "DELETING")
            if time.monotonic() > deadline:
                self.fail(f"delivery stream {name} still DELETING")
            time.sleep(0.02)

    def wait_objects(self, bucket, prefix="", count=1):
        """Objects under `prefix` once there are at least `count` of them."""
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            found = self.objects(bucket, prefix)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                self.fail(f"{count} objects under {bucket}/{prefix} not delivered; found {list(found)}")
            time.sleep(0.05)


class FirehoseControlPlaneTest(FirehoseCase):
    def test_create_describe_defaults_list_delete(self):
        self.s3.create_bucket(Bucket="cp-lake")
        arn = self.f.create_delivery_stream(
            DeliveryStreamName="cp-one",
            ExtendedS3DestinationConfiguration=s3_dest("cp-lake", Prefix="raw/"),
            Tags=[{"Key": "team", "Value": "sales"}])["DeliveryStreamARN"]
        self.assertEqual(arn, "arn:aws:firehose:us-east-1:000000000000:deliverystream/cp-one")
        d = self.f.describe_delivery_stream(DeliveryStreamName="cp-one")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        self.assertEqual(d["DeliveryStreamType"], "DirectPut")
        self.assertEqual(d["VersionId"], "1")
        self.assertEqual(d["DeliveryStreamEncryptionConfiguration"], {"Status": "DISABLED"})
        self.assertFalse(d["HasMoreDestinations"])
        self.assertIn("CreateTimestamp", d)
        dest = d["Destinations"][0]
        self.assertEqual(dest["DestinationId"], "destinationId-000000000001")
        ext = dest["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["BucketARN"], "arn:aws:s3:::cp-lake")
        self.assertEqual(ext["Prefix"], "raw/")
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 5, "IntervalInSeconds": 300})
        self.assertEqual(ext["CompressionFormat"], "UNCOMPRESSED")
        self.assertEqual(ext["EncryptionConfiguration"], {"NoEncryptionConfig": "NoEncryption"})
        self.assertEqual(ext["CloudWatchLoggingOptions"], {"Enabled": False})
        self.assertEqual(ext["S3BackupMode"], "Disabled")
        self.assertEqual(dest["S3DestinationDescription"]["BucketARN"], "arn:aws:s3:::cp-lake")

        for name in ("cp-two", "cp-three"):
            self.create(name, "cp-lake")
        page = self.f.list_delivery_streams(Limit=2)
        self.assertEqual(page["DeliveryStreamNames"], ["cp-one", "cp-three"])
        self.assertTrue(page["HasMoreDeliveryStreams"])
        page = self.f.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName="cp-three")
        self.assertEqual(page["DeliveryStreamNames"], ["cp-two"])
        self.assertFalse(page["HasMoreDeliveryStreams"])
        self.assertEqual(self.f.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")
                         ["DeliveryStreamNames"], [])

        for name in ("cp-one", "cp-two", "cp-three"):
            self.f.delete_delivery_stream(DeliveryStreamName=name)
        for name in ("cp-one", "cp-two", "cp-three"):
            self.wait_deleted(name)
        with self.assertRaises(self.f.exceptions.ResourceNotFoundException):
            self.f.describe_delivery_stream(DeliveryStreamName="cp-one")
        with self.assertRaises(self.f.exceptions.ResourceNotFoundException):
            self.f.delete_delivery_stream(DeliveryStreamName="cp-one")
        self.assertEqual(self.f.list_delivery_streams()["DeliveryStreamNames"], [])

    def test_plain_s3_destination(self):
        self.f.create_delivery_stream(
            DeliveryStreamName="cp-plain",
            S3DestinationConfiguration=s3_dest("cp-lake", CompressionFormat="GZIP"))
        d = self.f.describe_delivery_stream(DeliveryStreamName="cp-plain")["DeliveryStreamDescription"]
        s3d = d["Destinations"][0]["S3DestinationDescription"]
        self.assertEqual(s3d["CompressionFormat"], "GZIP")
        self.assertNotIn("ExtendedS3DestinationDescription", d["Destinations"][0])
        self.f.delete_delivery_stream(DeliveryStreamName="cp-plain")

    def test_errors(self):
        f = self.f
        with self.assertRaises(f.exceptions.ResourceNotFoundException) as e:
            f.describe_delivery_stream(DeliveryStreamName="nope")
        self.assertEqual(str(e.exception.response["Error"]["Message"]),
                         "Firehose nope under account 000000000000 not found.")
        for call in (lambda: f.delete_delivery_stream(DeliveryStreamName="nope"),
                     lambda: f.put_record(DeliveryStreamName="nope", Record={"Data": b"x"}),
                     lambda: f.put_record_batch(DeliveryStreamName="nope", Records=[{"Data": b"x"}]),
                     lambda: f.list_tags_for_delivery_stream(DeliveryStreamName="nope")):
            with self.assertRaises(f.exceptions.ResourceNotFoundException):
                call()
        self.create("err-one", "err-lake")
        with self.assertRaises(f.exceptions.ResourceInUseException) as e:
            self.create("err-one", "err-lake")
        self.assertIn("already exists", e.exception.response["Error"]["Message"])

        # Prefix validation as AWS does it (the "Ths" typo included).
        with self.assertRaises(f.exceptions.InvalidArgumentException) as e:
            self.create("err-two", "err-lake", Prefix="y=!{timestamp:yyyy}/")
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "Ths supplied prefix(es) do not satisfy the following constraint: "
                         "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")
        bad = [
            {"Prefix": "!{nope:x}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"},
            {"Prefix": "!{firehose:error-output-type}/", "ErrorOutputPrefix": "e/"},
            {"Prefix": "a/", "ErrorOutputPrefix": "e/!{timestamp:yyyy}/"},
            {"DataFormatConversionConfiguration": {"Enabled": True}},
            {"EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": "arn:aws:kms:us-east-1:000000000000:key/k"}}},
            {"CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "g", "LogStreamName": "s"}},
            {"S3BackupMode": "Enabled"},
            {"ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "RecordDeAggregation"}]}},
            {"CustomTimeZone": "Mars/Olympus"},
            {"DynamicPartitioningConfiguration": {"Enabled": True},
             "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
             "Prefix": "!{partitionKeyFromQuery:c}/", "ErrorOutputPrefix": "e/",
             "ProcessingConfiguration": {"Enabled": True, "Processors": [
                 {"Type": "MetadataExtraction", "Parameters": [
                     {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{c:.c}"},
                     {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}},
        ]
        for extra in bad:
            with self.assertRaises(f.exceptions.InvalidArgumentException, msg=json.dumps(extra)):
                self.create("err-bad", "err-lake", **extra)
        with self.assertRaises(f.exceptions.InvalidArgumentException) as e:
            f.create_delivery_stream(
                DeliveryStreamName="err-bad",
                HttpEndpointDestinationConfiguration={
                    "EndpointConfiguration": {"Url": "https://x"},
                    "S3Configuration": s3_dest("b")})
        self.assertIn("HttpEndpointDestinationConfiguration", e.exception.response["Error"]["Message"])
        self.assertNotIn("err-bad", f.list_delivery_streams()["DeliveryStreamNames"])

        # Model constraints the SDK would check itself.
        raw = self.client("firehose", config=NO_VALIDATION)
        for extra in ({"BufferingHints": {"SizeInMBs": 0, "IntervalInSeconds": 60}},
                      {"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 901}},
                      {"CompressionFormat": "BROTLI"}):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                raw.create_delivery_stream(DeliveryStreamName="err-bad",
                                           ExtendedS3DestinationConfiguration=s3_dest("b", **extra))
            self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            raw.put_record_batch(DeliveryStreamName="err-one", Records=[{"Data": b"x"}] * 501)
        self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            raw.put_record(DeliveryStreamName="err-one", Record={"Data": b"x" * (1000 * 1024 + 1)})
        self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(f.exceptions.InvalidArgumentException):
            f.put_record_batch(DeliveryStreamName="err-one",
                               Records=[{"Data": b"x" * (1000 * 1024)}] * 5)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            raw.create_delivery_stream(DeliveryStreamName="bad name!",
                                       ExtendedS3DestinationConfiguration=s3_dest("b"))
        self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
        f.delete_delivery_stream(DeliveryStreamName="err-one")

    def test_update_destination_versions(self):
        self.s3.create_bucket(Bucket="up-lake")
        self.create("up-one", "up-lake", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
        with self.assertRaises(self.f.exceptions.ConcurrentModificationException):
            self.f.update_destination(DeliveryStreamName="up-one", CurrentDeliveryStreamVersionId="7",
                                      DestinationId="destinationId-000000000001",
                                      ExtendedS3DestinationUpdate={"Prefix": "v2/"})
        with self.assertRaises(self.f.exceptions.InvalidArgumentException):
            self.f.update_destination(DeliveryStreamName="up-one", CurrentDeliveryStreamVersionId="1",
                                      DestinationId="destinationId-000000000001",
                                      ExtendedS3DestinationUpdate={"Prefix": "!{timestamp:yyyy}/"})
        self.f.update_destination(DeliveryStreamName="up-one", CurrentDeliveryStreamVersionId="1",
                                  DestinationId="destinationId-000000000001",
                                  ExtendedS3DestinationUpdate={"Prefix": "v2/"})
        d = self.f.describe_delivery_stream(DeliveryStreamName="up-one")["DeliveryStreamDescription"]
        self.assertEqual(d["VersionId"], "2")
        self.assertIn("LastUpdateTimestamp", d)
        ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["Prefix"], "v2/")
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 0})
        self.f.put_record(DeliveryStreamName="up-one", Record={"Data": b"after"})
        objects = self.wait_objects("up-lake", "v2/")
        key = next(iter(objects))
        self.assertRegex(key, r"^v2/\d{4}/\d\d/\d\d/\d\d/up-one-2-")
        self.f.delete_delivery_stream(DeliveryStreamName="up-one")

    def test_tags_and_encryption(self):
        self.create("tag-one", "tag-lake")
        self.f.tag_delivery_stream(DeliveryStreamName="tag-one",
                                   Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
        page = self.f.list_tags_for_delivery_stream(DeliveryStreamName="tag-one", Limit=1)
        self.assertEqual(page["Tags"], [{"Key": "a", "Value": "1"}])
        self.assertTrue(page["HasMoreTags"])
        page = self.f.list_tags_for_delivery_stream(DeliveryStreamName="tag-one",
                                                    ExclusiveStartTagKey="a")
        self.assertEqual(page["Tags"], [{"Key": "b", "Value": "2"}])
        self.assertFalse(page["HasMoreTags"])
        self.f.untag_delivery_stream(DeliveryStreamName="tag-one", TagKeys=["a"])
        self.assertEqual(self.f.list_tags_for_delivery_stream(DeliveryStreamName="tag-one")["Tags"],
                         [{"Key": "b", "Value": "2"}])
        with self.assertRaises(self.f.exceptions.LimitExceededException):
            self.f.tag_delivery_stream(DeliveryStreamName="tag-one",
                                       Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.f.start_delivery_stream_encryption(
            DeliveryStreamName="tag-one",
            DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
        d = self.f.describe_delivery_stream(DeliveryStreamName="tag-one")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamEncryptionConfiguration"],
                         {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"})
        self.f.stop_delivery_stream_encryption(DeliveryStreamName="tag-one")
        d = self.f.describe_delivery_stream(DeliveryStreamName="tag-one")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamEncryptionConfiguration"], {"Status": "DISABLED"})
        self.f.delete_delivery_stream(DeliveryStreamName="tag-one")


class FirehoseDeliveryTest(FirehoseCase):
    def test_direct_put_objects_and_keys(self):
        self.s3.create_bucket(Bucket="dp-lake")
        self.create("dp-one", "dp-lake", Prefix="sales/",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
        rid = self.f.put_record(DeliveryStreamName="dp-one", Record={"Data": b'{"n":1}\n'})
        self.assertTrue(rid["RecordId"])
        self.assertFalse(rid["Encrypted"])
        objects = self.wait_objects("dp-lake", "sales/")
        out = self.f.put_record_batch(DeliveryStreamName="dp-one",
                                      Records=[{"Data": b'{"n":2}\n'}, {"Data": b'{"n":3}\n'}])
        self.assertEqual(out["FailedPutCount"], 0)
        self.assertEqual(len(out["RequestResponses"]), 2)
        self.assertTrue(all("RecordId" in r for r in out["RequestResponses"]))
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            objects = self.objects("dp-lake", "sales/")
            lines = sorted(line for body in objects.values() for line in body.splitlines())
            if len(lines) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for key in objects:
            self.assertRegex(key, r"^sales/\d{4}/\d\d/\d\d/\d\d/dp-one" + KEY_NAME + "$")
        # With IntervalInSeconds 0 the batch may arrive in one object or several.
        self.assertEqual(lines, [b'{"n":1}', b'{"n":2}', b'{"n":3}'])
        self.assertIn(b'{"n":1}\n', objects.values())
        self.f.delete_delivery_stream(DeliveryStreamName="dp-one")

    def test_static_prefix_without_slash_and_gzip(self):
        self.s3.create_bucket(Bucket="gz-lake")
        self.create("gz-one", "gz-lake", Prefix="raw", CompressionFormat="GZIP",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
        self.f.put_record_batch(DeliveryStreamName="gz-one",
                                Records=[{"Data": b"a,1\n"}, {"Data": b"b,2\n"}])
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            objects = self.objects("gz-lake", "raw")
            plain = b"".join(sorted(gzip.decompress(body) for body in objects.values()))
            if plain.count(b"\n") >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for key in objects:
            self.assertRegex(key, r"^raw\d{4}/\d\d/\d\d/\d\d/gz-one" + KEY_NAME + r"\.gz$")
        self.assertEqual(plain, b"a,1\nb,2\n")
        self.f.delete_delivery_stream(DeliveryStreamName="gz-one")

    def test_s3_backup_of_source_records(self):
        self.s3.create_bucket(Bucket="bk-lake")
        self.s3.create_bucket(Bucket="bk-raw")
        self.create("bk-one", "bk-lake", Prefix="main/",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                    ProcessingConfiguration={"Enabled": True, "Processors": [
                        {"Type": "AppendDelimiterToRecord"}]},
                    S3BackupMode="Enabled",
                    S3BackupConfiguration=s3_dest("bk-raw", Prefix="source/",
                                                  CompressionFormat="GZIP"))
        ext = self.f.describe_delivery_stream(DeliveryStreamName="bk-one")[
            "DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["S3BackupMode"], "Enabled")
        self.assertEqual(ext["S3BackupDescription"]["BucketARN"], "arn:aws:s3:::bk-raw")
        self.assertEqual(ext["S3BackupDescription"]["CompressionFormat"], "GZIP")
        self.assertEqual(ext["S3BackupDescription"]["BufferingHints"],
                         {"SizeInMBs": 5, "IntervalInSeconds": 300})
        self.f.put_record_batch(DeliveryStreamName="bk-one",
                                Records=[{"Data": b"one"}, {"Data": b"two"}])
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            main = b"".join(sorted(self.objects("bk-lake", "main/").values()))
            raw = [gzip.decompress(b) for b in self.objects("bk-raw", "source/").values()]
            if (main.count(b"\n") >= 2 and len(b"".join(raw)) >= 6) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(sorted(main.splitlines()), [b"one", b"two"])
        self.assertEqual(b"".join(sorted(raw)), b"onetwo")  # as produced: no delimiter
        for key in self.objects("bk-raw", "source/"):
            self.assertRegex(key, r"^source/\d{4}/\d\d/\d\d/\d\d/bk-one" + KEY_NAME + r"\.gz$")
        # An update of the backup merges over what is stored.
        self.f.update_destination(DeliveryStreamName="bk-one", CurrentDeliveryStreamVersionId="1",
                                  DestinationId="destinationId-000000000001",
                                  ExtendedS3DestinationUpdate={"S3BackupUpdate": {"Prefix": "src2/"}})
        ext = self.f.describe_delivery_stream(DeliveryStreamName="bk-one")[
            "DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["S3BackupDescription"]["Prefix"], "src2/")
        self.assertEqual(ext["S3BackupDescription"]["CompressionFormat"], "GZIP")
        self.f.delete_delivery_stream(DeliveryStreamName="bk-one")

    def test_zip_and_snappy_formats(self):
        self.s3.create_bucket(Bucket="cz-lake")
        for fmt in ("ZIP", "Snappy", "HADOOP_SNAPPY"):
            name = "cz-" + fmt.lower().replace("_", "-")
            self.create(name, "cz-lake", Prefix=f"{fmt}/", CompressionFormat=fmt,
                        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
            self.f.put_record(DeliveryStreamName=name, Record={"Data": b"compress me " * 20})
        for fmt, ext in (("ZIP", ".zip"), ("Snappy", ".snappy"), ("HADOOP_SNAPPY", ".snappy")):
            key, body = next(iter(self.wait_objects("cz-lake", f"{fmt}/").items()))
            self.assertTrue(key.endswith(ext), key)
            if fmt == "ZIP":
                with zipfile.ZipFile(io.BytesIO(body)) as archive:
                    (entry,) = archive.namelist()
                    self.assertEqual(archive.read(entry), b"compress me " * 20)
            elif fmt == "Snappy":
                self.assertEqual(body[:10], b"\xff\x06\x00\x00sNaPpY")  # framing format
            else:
                self.assertEqual(int.from_bytes(body[:4], "big"), 240)  # block's raw length

    def test_expression_prefix_and_file_extension(self):
        self.s3.create_bucket(Bucket="ex-lake")
        self.create("ex-one", "ex-lake",
                    Prefix="year=!{timestamp:yyyy}/!{firehose:random-string}/",
                    ErrorOutputPrefix="err/!{firehose:error-output-type}/",
                    FileExtension=".json", CustomTimeZone="Asia/Tokyo",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                    ProcessingConfiguration={"Enabled": True, "Processors": [
                        {"Type": "AppendDelimiterToRecord"}]})
        self.f.put_record(DeliveryStreamName="ex-one", Record={"Data": b'{"a":1}'})
        objects = self.wait_objects("ex-lake", "year=")
        key, body = next(iter(objects.items()))
        self.assertRegex(key, r"^year=\d{4}/[A-Za-z0-9]{11}/ex-one" + KEY_NAME + r"\.json$")
        self.assertEqual(body, b'{"a":1}\n')
        self.f.delete_delivery_stream(DeliveryStreamName="ex-one")

    def test_dynamic_partitioning_by_query(self):
        self.s3.create_bucket(Bucket="dyn-lake")
        self.create("dyn-one", "dyn-lake",
                    Prefix="region=!{partitionKeyFromQuery:region}/",
                    ErrorOutputPrefix="err/!{firehose:error-output-type}/",
                    BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 0},
                    DynamicPartitioningConfiguration={"Enabled": True},
                    ProcessingConfiguration={"Enabled": True, "Processors": [
                        {"Type": "MetadataExtraction", "Parameters": [
                            {"ParameterName": "MetadataExtractionQuery",
                             "ParameterValue": "{region: .where.region}"},
                            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                        {"Type": "AppendDelimiterToRecord"}]})
        records = [{"where": {"region": r}, "n": i} for i, r in enumerate(["EU", "US", "EU"])]
        self.f.put_record_batch(DeliveryStreamName="dyn-one",
                                Records=[{"Data": json.dumps(r).encode()} for r in records]
                                + [{"Data": b"not json"}])
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            objects = self.objects("dyn-lake")
            if sum(body.count(b"\n") for body in objects.values()) >= 4:
                break
            if time.monotonic() > deadline:
                self.fail(f"not delivered: {objects}")
            time.sleep(0.05)
        by_prefix: dict[str, bytes] = {}
        for key, body in objects.items():
            by_prefix[key.split("/")[0]] = by_prefix.get(key.split("/")[0], b"") + body
        self.assertEqual(by_prefix["region=EU"].count(b"\n"), 2)
        self.assertEqual(by_prefix["region=US"].count(b"\n"), 1)
        errors = [v for k, v in objects.items() if k.startswith("err/")]
        self.assertEqual(len(errors), 1)
        envelope = json.loads(errors[0].decode().splitlines()[0])
        self.assertEqual(envelope["errorCode"], "DynamicPartitioning.MetadataExtractionFailed")
        self.f.delete_delivery_stream(DeliveryStreamName="dyn-one")

    def test_buffering_hints_and_flush_on_shutdown(self):
        self.s3.create_bucket(Bucket="buf-lake")
        self.create("buf-slow", "buf-lake", Prefix="slow/",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900})
        self.create("buf-fast", "buf-lake", Prefix="fast/",
                    BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
        self.f.put_record(DeliveryStreamName="buf-slow", Record={"Data": b"small"})
        self.f.put_record(DeliveryStreamName="buf-fast", Record={"Data": b"marker"})
        self.wait_objects("buf-lake", "fast/")
        # The slow stream holds its record: neither size nor interval is reached.
        self.assertEqual(self.objects("buf-lake", "slow/"), {})
        # Size: 1 MiB reached -> an object, without waiting for the interval.
        big = [{"Data": b"x" * (512 * 1024)}] * 2
        self.f.put_record_batch(DeliveryStreamName="buf-slow", Records=big)
        objects = self.wait_objects("buf-lake", "slow/")
        self.assertEqual(len(objects), 1)
        self.assertEqual(len(next(iter(objects.values()))), 5 + 1024 * 1024)
        # Flush on shutdown: a clean stop delivers what is buffered.
        self.f.put_record(DeliveryStreamName="buf-slow", Record={"Data": b"tail"})
        self.restart()
        objects = self.objects("buf-lake", "slow/")
        self.assertEqual(sorted(len(v) for v in objects.values()), [4, 5 + 1024 * 1024])

    def test_missing_bucket_is_retried(self):
        self.create("mb-one", "mb-later", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
        self.f.put_record(DeliveryStreamName="mb-one", Record={"Data": b"kept"})
        self.s3.create_bucket(Bucket="mb-later")
        objects = self.wait_objects("mb-later")
        self.assertEqual(list(objects.values()), [b"kept"])
        self.f.delete_delivery_stream(DeliveryStreamName="mb-one")

    def test_kinesis_source(self):
        k = self.client("kinesis")
        self.s3.create_bucket(Bucket="ks-lake")
        k.create_stream(StreamName="ks-src", ShardCount=2)
        stream_arn = k.describe_stream_summary(StreamName="ks-src")["StreamDescriptionSummary"]["StreamARN"]
        k.put_record(StreamName="ks-src", Data=b"before\n", PartitionKey="p0")
        self.f.create_delivery_stream(
            DeliveryStreamName="ks-one", DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
            ExtendedS3DestinationConfiguration=s3_dest(
                "ks-lake", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0}))
        d = self.f.describe_delivery_stream(DeliveryStreamName="ks-one")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamType"], "KinesisStreamAsSource")
        source = d["Source"]["KinesisStreamSourceDescription"]
        self.assertEqual(source["KinesisStreamARN"], stream_arn)
        self.assertIn("DeliveryStartTimestamp", source)
        with self.assertRaises(self.f.exceptions.InvalidArgumentException) as e:
            self.f.put_record(DeliveryStreamName="ks-one", Record={"Data": b"x"})
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "This operation is not permitted on KinesisStreamAsSource delivery stream type.")
        sent = [f"r{i}\n".encode() for i in range(20)]
        for i, data in enumerate(sent):
            k.put_record(StreamName="ks-src", Data=data, PartitionKey=f"p{i % 5}")
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            got = b"".join(self.objects("ks-lake").values())
            if got.count(b"\n") >= len(sent) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(sorted(got.splitlines(keepends=True)), sorted(sent))
        # Other consumers keep their own positions.
        shards = k.list_shards(StreamName="ks-src")["Shards"]
        total = 0
        for shard in shards:
            it = k.get_shard_iterator(StreamName="ks-src", ShardId=shard["ShardId"],
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            total += len(k.get_records(ShardIterator=it)["Records"])
        self.assertEqual(total, len(sent) + 1)
        # Deleting the source stops delivery; the delivery stream stays usable.
        k.delete_stream(StreamName="ks-src")
        d = self.f.describe_delivery_stream(DeliveryStreamName="ks-one")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        with self.assertRaises(self.f.exceptions.InvalidArgumentException):
            self.f.create_delivery_stream(
                DeliveryStreamName="ks-missing", DeliveryStreamType="KinesisStreamAsSource",
                KinesisStreamSourceConfiguration={
                    "KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/none",
                    "RoleARN": ROLE},
                ExtendedS3DestinationConfiguration=s3_dest("ks-lake"))
        self.f.delete_delivery_stream(DeliveryStreamName="ks-one")


class FirehoseExactlyOnceTest(FirehoseCase):
    """kill -9 during sustained ingestion: every acknowledged record is in the lake exactly
    once, in order within each object per source shard."""

    def crash_rounds(self, rounds, service, send, seed, low, high):
        """`rounds` times: a producer thread calls send(client) (returns the acknowledged
        records of one request, raises when the server is gone) until the server is killed
        with SIGKILL at a random moment, then the server restarts. Returns the acknowledged
        records."""
        rng = random.Random(seed)
        acknowledged: list = []
        for _ in range(rounds):
            stop = threading.Event()
            client = self.client(service, config=botocore.config.Config(
                retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))

            def produce():
                while not stop.is_set():
                    try:
                        acknowledged.extend(send(client))
                    except Exception:  # the server died mid-request: not acknowledged
                        return

            producer = threading.Thread(target=produce)
            producer.start()
            target = len(acknowledged) + rng.randint(low, high)
            deadline = time.monotonic() + DELIVERY_WAIT_S
            while len(acknowledged) < target and time.monotonic() < deadline and producer.is_alive():
                time.sleep(0.005)
            self.kill9()
            stop.set()
            producer.join()
            self.restart()
        return acknowledged

    def delivered(self, bucket, acknowledged):
        """The lake's objects (key -> lines) once every acknowledged record is in them."""
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            objects = {k: v.decode().split() for k, v in self.objects(bucket).items()}
            seen = [line for lines in objects.values() for line in lines]
            if set(acknowledged) <= set(seen) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        counts: dict[str, int] = {}
        for line in seen:
            counts[line] = counts.get(line, 0) + 1
        self.assertEqual({k: c for k, c in counts.items() if c > 1}, {}, "records delivered twice")
        self.assertEqual(sorted(set(acknowledged) - set(seen)), [], "acknowledged records lost")
        return objects

    def test_kill9_loop(self):
        self.s3.create_bucket(Bucket="eo-lake")
        self.create("eo-one", "eo-lake", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                    ProcessingConfiguration={"Enabled": True, "Processors": [
                        {"Type": "AppendDelimiterToRecord"}]})
        counter = iter(range(10**9))

        def send(client):
            batch = [str(next(counter)) for _ in range(50)]
            out = client.put_record_batch(DeliveryStreamName="eo-one",
                                          Records=[{"Data": n.encode()} for n in batch])
            return [n for n, r in zip(batch, out["RequestResponses"]) if "RecordId" in r]

        acknowledged = self.crash_rounds(4, "firehose", send, seed=5, low=100, high=600)
        self.assertGreater(len(acknowledged), 400)
        for key, lines in self.delivered("eo-lake", acknowledged).items():
            numbers = [int(line) for line in lines]
            self.assertEqual(numbers, sorted(numbers), f"out of order in {key}")

    def test_kill9_loop_kinesis_source(self):
        """The same with a two-shard Kinesis source: per-shard checkpoints survive kill -9."""
        k = self.client("kinesis")
        self.s3.create_bucket(Bucket="eok-lake")
        k.create_stream(StreamName="eok-src", ShardCount=2)
        arn = k.describe_stream_summary(StreamName="eok-src")["StreamDescriptionSummary"]["StreamARN"]
        self.f.create_delivery_stream(
            DeliveryStreamName="eok-one", DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
            ExtendedS3DestinationConfiguration=s3_dest(
                "eok-lake", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                ProcessingConfiguration={"Enabled": True, "Processors": [
                    {"Type": "AppendDelimiterToRecord"}]}))
        counter = iter(range(10**9))

        def send(client):
            batch = [f"p{n % 8}:{n}" for n in (next(counter) for _ in range(40))]
            out = client.put_records(StreamName="eok-src", Records=[
                {"Data": d.encode(), "PartitionKey": d.split(":")[0]} for d in batch])
            return [d for d, r in zip(batch, out["Records"]) if "SequenceNumber" in r]

        acknowledged = self.crash_rounds(3, "kinesis", send, seed=9, low=100, high=400)
        self.assertGreater(len(acknowledged), 200)
        for key, lines in self.delivered("eok-lake", acknowledged).items():
            per_key: dict[str, list[int]] = {}
            for line in lines:
                p, n = line.split(":")
                per_key.setdefault(p, []).append(int(n))
            for p, numbers in per_key.items():
                self.assertEqual(numbers, sorted(numbers), f"{p} out of order in {key}")

    def test_kill9_loop_with_lambda_transform(self):
        """The same through a Python transform whose processor buffers (0.2 MB of 4 KB
        records) fill several at a time, so invocations run concurrently when kill -9 comes."""
        self.s3.create_bucket(Bucket="eol-lake")
        arn = self.client("lambda").create_function(
            FunctionName="eol-number", Runtime="python3.12", Role=ROLE, Timeout=60,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": python_function(STRIP_PADDING)})["FunctionArn"]
        self.create("eol-one", "eol-lake", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                    ProcessingConfiguration={"Enabled": True, "Processors": [{
                        "Type": "Lambda", "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": arn},
                            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "0.2"},
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"}]}]})
        counter = iter(range(10**9))
        padding = "x" * 4000

        def send(client):
            batch = [str(next(counter)) for _ in range(100)]
            out = client.put_record_batch(DeliveryStreamName="eol-one", Records=[
                {"Data": f"{n}:{padding}".encode()} for n in batch])
            return [n for n, r in zip(batch, out["RequestResponses"]) if "RecordId" in r]

        acknowledged = self.crash_rounds(3, "firehose", send, seed=11, low=300, high=1200)
        self.assertGreater(len(acknowledged), 300)
        for key, lines in self.delivered("eol-lake", acknowledged).items():
            numbers = [int(line) for line in lines]
            self.assertEqual(numbers, sorted(numbers), f"out of order in {key}")


# Keeps the number before the ':' of each record, one per line.
STRIP_PADDING = """\
import base64

def lambda_handler(event, context):
    return {"records": [
        {"recordId": r["recordId"], "result": "Ok",
         "data": base64.b64encode(base64.b64decode(r["data"]).split(b":")[0] + b"\\n").decode()}
        for r in event["records"]]}
"""


if __name__ == "__main__":
    unittest.main()
