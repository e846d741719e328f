"""The ingestion path end to end with boto3: PutItem -> the table's Kinesis destination ->
Firehose (Kinesis source) -> a Python Lambda transform -> objects in the lake; and Firehose
Lambda transforms returning Ok / Dropped / ProcessingFailed or breaking the contract, whose
records land in the error output with AWS's envelope."""

from __future__ import annotations

import base64
import json
import unittest

import harness
from lambda_util import python_function, wait_for

ROLE = "arn:aws:iam::000000000000:role/pipeline"

# Flattens the DynamoDB JSON of a Kinesis-for-DynamoDB record into a plain JSON line.
FLATTEN = """\
import base64, json
from decimal import Decimal

def plain(value):
    (kind, v), = value.items()
    if kind == "S": return v
    if kind == "N":
        d = Decimal(v)
        return int(d) if d == d.to_integral_value() else float(d)
    if kind == "BOOL": return v
    if kind == "NULL": return None
    if kind == "M": return {k: plain(x) for k, x in v.items()}
    if kind == "L": return [plain(x) for x in v]
    if kind in ("SS", "NS", "BS"): return v
    return v

def lambda_handler(event, context):
    out = []
    for record in event["records"]:
        change = json.loads(base64.b64decode(record["data"]))
        image = change.get("dynamodb", {}).get("NewImage")
        if image is None:
            out.append({"recordId": record["recordId"], "result": "Dropped"})
            continue
        row = {k: plain(v) for k, v in image.items()}
        row["_event"] = change.get("eventName")
        line = json.dumps(row, sort_keys=True) + "\\n"
        out.append({"recordId": record["recordId"], "result": "Ok",
                    "data": base64.b64encode(line.encode()).decode()})
    return {"records": out}
"""

# Decides by the record's text: "ok..." -> Ok (upper-cased), "drop..." -> Dropped,
# "fail..." -> ProcessingFailed.
ROUTER = """\
import base64

def lambda_handler(event, context):
    out = []
    for record in event["records"]:
        text = base64.b64decode(record["data"]).decode()
        if text.startswith("ok"):
            out.append({"recordId": record["recordId"], "result": "Ok",
                        "data": base64.b64encode((text.upper() + "\\n").encode()).decode()})
        elif text.startswith("drop"):
            out.append({"recordId": record["recordId"], "result": "Dropped"})
        else:
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed",
                        "data": record["data"]})
    return {"records": out}
"""

FORGETFUL = """\
def lambda_handler(event, context):
    return {"records": []}
"""

GARBAGE = """\
def lambda_handler(event, context):
    print("not what firehose wants")
    return "this is not a records document"
"""

RAISES = """\
def lambda_handler(event, context):
    raise RuntimeError("boom")
"""

# Never answers: the function's 1 s timeout kills it (an Unhandled error for Firehose).
HANGS = """\
import time

def lambda_handler(event, context):
    while True:
        time.sleep(1)
"""


# Blocks until the file named by the GATE variable exists, then upper-cases every record: the
# test decides when the drain of a deleted stream may finish.
GATED = """\
import base64, os, time

def lambda_handler(event, context):
    while not os.path.exists(os.environ["GATE"]):
        time.sleep(0.01)
    return {"records": [{"recordId": r["recordId"], "result": "Ok",
                         "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()}
                        for r in event["records"]]}
"""


class PipelineTest(harness.ServerTestCase):
    def setUp(self):
        self.lam = self.client("lambda")
        self.f = self.client("firehose")
        self.s3 = self.client("s3")

    def function(self, name, source, timeout=3):
        return self.lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Timeout=timeout,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": python_function(source)})["FunctionArn"]

    def processing(self, arn, retries=0):
        return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": arn},
            {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"},
            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"}]}]}

    def objects(self, bucket, prefix=""):
        out = {}
        page = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", []):
            out[item["Key"]] = self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return out

    def lines(self, bucket, prefix, count):
        """The newline-separated lines of the objects under `prefix` once there are `count`."""
        def ready():
            found = [line for body in self.objects(bucket, prefix).values()
                     for line in body.decode().splitlines()]
            return found if len(found) >= count else None
        return wait_for(ready, f"{count} lines under {bucket}/{prefix}")

    def test_dynamodb_to_lake_through_python_transform(self):
        ddb = self.client("dynamodb")
        k = self.client("kinesis")
        self.s3.create_bucket(Bucket="orders-lake")
        ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}])
        k.create_stream(StreamName="orders-changes", ShardCount=1)
        stream_arn = k.describe_stream_summary(
            StreamName="orders-changes")["StreamDescriptionSummary"]["StreamARN"]
        ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=stream_arn)
        arn = self.function("flatten", FLATTEN)
        self.f.create_delivery_stream(
            DeliveryStreamName="orders-to-lake", DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::orders-lake", "Prefix": "orders/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
                "ProcessingConfiguration": self.processing(arn)})
        for i in range(5):
            ddb.put_item(TableName="orders", Item={
                "order_id": {"S": f"o-{i}"}, "amount": {"N": f"{i}.5"},
                "items": {"L": [{"M": {"sku": {"S": "gadget"}, "qty": {"N": "2"}}}]},
                "paid": {"BOOL": i % 2 == 0}})
        ddb.delete_item(TableName="orders", Key={"order_id": {"S": "o-0"}})  # dropped: no image
        rows = [json.loads(line) for line in self.lines("orders-lake", "orders/", 5)]
        self.assertEqual(sorted(r["order_id"] for r in rows), [f"o-{i}" for i in range(5)])
        first = next(r for r in rows if r["order_id"] == "o-1")
        self.assertEqual(first, {"order_id": "o-1", "amount": 1.5, "paid": False,
                                 "items": [{"sku": "gadget", "qty": 2}], "_event": "INSERT"})
        self.assertEqual(self.objects("orders-lake", "orders/processing-failed/"), {})

    def test_ok_dropped_processing_failed(self):
        self.s3.create_bucket(Bucket="route-lake")
        arn = self.function("router", ROUTER)
        self.f.create_delivery_stream(
            DeliveryStreamName="routed",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::route-lake", "Prefix": "good/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
                "ProcessingConfiguration": self.processing(arn)})
        self.f.put_record_batch(DeliveryStreamName="routed", Records=[
            {"Data": b"ok-1"}, {"Data": b"drop-1"}, {"Data": b"fail-1"}, {"Data": b"ok-2"}])
        self.assertEqual(sorted(self.lines("route-lake", "good/2", 2)), ["OK-1", "OK-2"])
        failed = self.lines("route-lake", "good/processing-failed/", 1)
        self.assertEqual(len(failed), 1)
        envelope = json.loads(failed[0])
        self.assertEqual(envelope["errorCode"], "Lambda.ProcessingFailedStatus")
        self.assertEqual(envelope["attemptsMade"], 1)
        self.assertEqual(base64.b64decode(envelope["rawData"]), b"fail-1")
        self.assertEqual(envelope["lambdaArn"], arn)
        for key in ("arrivalTimestamp", "attemptEndingTimestamp", "errorMessage"):
            self.assertIn(key, envelope)
        all_keys = self.objects("route-lake")
        self.assertFalse(any(b"DROP" in body or b"drop" in body for body in all_keys.values()))

    def test_contract_breakers_go_to_the_error_output(self):
        self.s3.create_bucket(Bucket="broken-lake")
        cases = {"forgetful": (FORGETFUL, "Lambda.MissingRecordId"),
                 "garbage": (GARBAGE, "Lambda.JsonProcessingException"),
                 "raises": (RAISES, "Lambda.FunctionError"),
                 "hangs": (HANGS, "Lambda.FunctionError")}
        for name, (source, _) in cases.items():
            arn = self.function(name, source, timeout=1)
            self.f.create_delivery_stream(
                DeliveryStreamName=f"broken-{name}",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::broken-lake",
                    "Prefix": f"{name}/",
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
                    "ProcessingConfiguration": self.processing(arn, retries=1)})
            self.f.put_record_batch(DeliveryStreamName=f"broken-{name}",
                                    Records=[{"Data": b"r1"}, {"Data": b"r2"}])
        for name, (_, code) in cases.items():
            failed = [json.loads(line)
                      for line in self.lines("broken-lake", f"{name}/processing-failed/", 2)]
            self.assertEqual(sorted(base64.b64decode(e["rawData"]) for e in failed), [b"r1", b"r2"])
            for envelope in failed:
                self.assertEqual(envelope["errorCode"], code, name)
                self.assertEqual(envelope["attemptsMade"], 2)
            delivered = [k for k in self.objects("broken-lake", f"{name}/")
                         if "/processing-failed/" not in k]
            self.assertEqual(delivered, [], name)

    def test_delete_answers_at_once_and_drains_in_the_background(self):
        import os
        gate = os.path.join(self.tmp_dir, "gate-open")
        self.s3.create_bucket(Bucket="del-lake")
        arn = self.lam.create_function(
            FunctionName="gated", Runtime="python3.12", Role=ROLE, Timeout=300,
            Handler="lambda_function.lambda_handler", Environment={"Variables": {"GATE": gate}},
            Code={"ZipFile": python_function(GATED)})["FunctionArn"]
        processing = self.processing(arn)
        processing["Processors"][0]["Parameters"][2]["ParameterValue"] = "900"
        self.f.create_delivery_stream(
            DeliveryStreamName="del-me",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::del-lake", "Prefix": "out/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900},
                "ProcessingConfiguration": processing})
        self.f.put_record_batch(DeliveryStreamName="del-me",
                                Records=[{"Data": b"last-1\n"}, {"Data": b"last-2\n"}])
        # Answers while the drain is stuck in the transform (the gate is closed).
        self.f.delete_delivery_stream(DeliveryStreamName="del-me")
        d = self.f.describe_delivery_stream(DeliveryStreamName="del-me")
        self.assertEqual(d["DeliveryStreamDescription"]["DeliveryStreamStatus"], "DELETING")
        self.assertIn("del-me", self.f.list_delivery_streams()["DeliveryStreamNames"])
        self.f.delete_delivery_stream(DeliveryStreamName="del-me")  # again: accepted
        with self.assertRaises(self.f.exceptions.ResourceNotFoundException):
            self.f.put_record(DeliveryStreamName="del-me", Record={"Data": b"too late"})
        with self.assertRaises(self.f.exceptions.ResourceInUseException):
            self.f.create_delivery_stream(
                DeliveryStreamName="del-me",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::del-lake"})
        with self.assertRaises(self.f.exceptions.ResourceInUseException):
            self.f.update_destination(DeliveryStreamName="del-me", CurrentDeliveryStreamVersionId="1",
                                      DestinationId="destinationId-000000000001",
                                      ExtendedS3DestinationUpdate={"Prefix": "v2/"})
        self.assertEqual(self.objects("del-lake"), {})
        open(gate, "w").close()

        def gone():
            try:
                self.f.describe_delivery_stream(DeliveryStreamName="del-me")
                return False
            except self.f.exceptions.ResourceNotFoundException:
                return True
        wait_for(gone, "del-me to be deleted")
        self.assertEqual(sorted(self.lines("del-lake", "out/", 2)), ["LAST-1", "LAST-2"])
        self.assertNotIn("del-me", self.f.list_delivery_streams()["DeliveryStreamNames"])


if __name__ == "__main__":
    unittest.main()
