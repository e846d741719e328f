"""Lambda's control plane and Invoke over the wire with boto3: functions, code from ZipFile and
from our S3, versions, aliases, policies, tags, concurrency, account settings, paginators, the
function_active_v2 waiter, every error class, an unchanged AWS-style Python handler, a function
calling DynamoDB through boto3, and restart."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import unittest
import urllib.request

import botocore.config
import botocore.exceptions

import harness
from lambda_util import ROLE, make_zip, python_function, wait_for

ECHO = """\
import os

def lambda_handler(event, context):
    print("handling", event)
    return {
        "event": event,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ok": context.get_remaining_time_in_millis() > 0,
        "env": os.environ.get("GREETING"),
        "endpoint_set": bool(os.environ.get("AWS_ENDPOINT_URL")),
    }
"""

FAILS = """\
def lambda_handler(event, context):
    raise ValueError("boom")
"""

SLEEPS = """\
import time

def lambda_handler(event, context):
    time.sleep(30)
"""

RETURNS_NONE = """\
def lambda_handler(event, context):
    return None
"""

# Writes the event into DynamoDB through boto3 inside the function (AWS_ENDPOINT_URL).
DYNAMODB_WRITER = """\
import boto3

def lambda_handler(event, context):
    table = boto3.resource("dynamodb").Table(event["table"])
    table.put_item(Item={"pk": event["pk"], "from": context.function_name})
    return {"written": event["pk"]}
"""


class LambdaTestCase(harness.ServerTestCase):
    def setUp(self):
        self.lam = self.client("lambda")

    def create(self, name, source=ECHO, **kwargs):
        args = dict(FunctionName=name, Runtime="python3.12", Role=ROLE,
                    Handler="lambda_function.lambda_handler",
                    Code={"ZipFile": python_function(source)})
        args.update(kwargs)
        return self.lam.create_function(**args)

    def invoke_json(self, name, payload=None, **kwargs):
        response = self.lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **kwargs)
        return response, json.loads(response["Payload"].read())


class FunctionLifecycleTest(LambdaTestCase):
    def test_create_get_update_delete(self):
        code = python_function(ECHO)
        created = self.lam.create_function(
            FunctionName="lifecycle", Runtime="python3.12", Role=ROLE,
            Handler="lambda_function.lambda_handler", Code={"ZipFile": code},
            Description="first", Timeout=10, MemorySize=256,
            Environment={"Variables": {"GREETING": "hi"}}, Tags={"team": "sales"})
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(created["State"], "Pending")
        self.assertEqual(created["CodeSha256"],
                         base64.b64encode(hashlib.sha256(code).digest()).decode())
        self.assertEqual(created["CodeSize"], len(code))
        self.assertEqual(created["FunctionArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:lifecycle")
        self.assertRegex(created["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        # States are final on the first read: the waiter does not sleep.
        self.lam.get_waiter("function_active_v2").wait(FunctionName="lifecycle")
        config = self.lam.get_function_configuration(FunctionName="lifecycle")
        self.assertEqual(config["State"], "Active")
        self.assertEqual(config["LastUpdateStatus"], "Successful")
        self.assertEqual((config["Timeout"], config["MemorySize"]), (10, 256))
        self.assertEqual(config["Environment"], {"Variables": {"GREETING": "hi"}})
        self.assertEqual(config["PackageType"], "Zip")
        self.assertEqual(config["Architectures"], ["x86_64"])
        self.assertEqual(config["LoggingConfig"]["LogGroup"], "/aws/lambda/lifecycle")
        got = self.lam.get_function(FunctionName="lifecycle")
        self.assertEqual(got["Tags"], {"team": "sales"})
        with urllib.request.urlopen(got["Code"]["Location"]) as response:
            self.assertEqual(response.read(), code)

        _, body = self.invoke_json("lifecycle", {"n": 1})
        self.assertEqual(body["env"], "hi")

        revision = config["RevisionId"]
        with self.assertRaises(self.lam.exceptions.PreconditionFailedException):
            self.lam.update_function_configuration(FunctionName="lifecycle", Timeout=5,
                                                   RevisionId="not-the-revision")
        updated = self.lam.update_function_configuration(
            FunctionName="lifecycle", RevisionId=revision,
            Environment={"Variables": {"GREETING": "hello"}})
        self.assertNotEqual(updated["RevisionId"], revision)
        self.lam.get_waiter("function_updated_v2").wait(FunctionName="lifecycle")
        _, body = self.invoke_json("lifecycle")
        self.assertEqual(body["env"], "hello")  # the warm environment was replaced

        new_code = python_function("def lambda_handler(e, c):\n    return 'v2'\n")
        updated = self.lam.update_function_code(FunctionName="lifecycle", ZipFile=new_code)
        self.assertEqual(updated["CodeSha256"],
                         base64.b64encode(hashlib.sha256(new_code).digest()).decode())
        _, body = self.invoke_json("lifecycle")
        self.assertEqual(body, "v2")

        code_dir = os.path.join(self.data_dir, "lambda", "000000000000", "us-east-1", "lifecycle")
        self.assertTrue(os.path.isdir(code_dir))
        deleted = self.lam.delete_function(FunctionName="lifecycle")
        self.assertIn(deleted["ResponseMetadata"]["HTTPStatusCode"], (200, 204))
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function(FunctionName="lifecycle")
        self.assertFalse(os.path.exists(code_dir))

    def test_large_zip_and_payload(self):
        # 20 MB of incompressible data: over the edge's in-memory limit, so the body is spooled.
        code = make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return len(e['s'])\n",
                         "blob.bin": os.urandom(20 * 1024 * 1024)})
        created = self.create("big", Code={"ZipFile": code})
        self.assertEqual(created["CodeSize"], len(code))
        response = self.lam.invoke(FunctionName="big",
                                   Payload=json.dumps({"s": "x" * (5 * 1024 * 1024)}))
        self.assertEqual(json.loads(response["Payload"].read()), 5 * 1024 * 1024)

    def test_list_functions_paginates(self):
        names = [f"page-{i}" for i in range(5)]
        for name in names:
            self.create(name)
        pages = list(self.lam.get_paginator("list_functions").paginate(
            PaginationConfig={"PageSize": 2}))
        self.assertGreaterEqual(len(pages), 3)
        listed = [f["FunctionName"] for page in pages for f in page["Functions"]]
        self.assertEqual([n for n in listed if n.startswith("page-")], names)
        for name in names:
            self.lam.delete_function(FunctionName=name)

    def test_code_from_s3_and_arn_names(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="code-bucket")
        code = python_function(ECHO)
        s3.put_object(Bucket="code-bucket", Key="fn.zip", Body=code)
        created = self.create("from-s3", Code={"S3Bucket": "code-bucket", "S3Key": "fn.zip"})
        self.assertEqual(created["CodeSize"], len(code))
        arn = created["FunctionArn"]
        _, body = self.invoke_json(arn, {"via": "arn"})
        self.assertEqual(body["event"], {"via": "arn"})
        _, body = self.invoke_json("000000000000:function:from-s3")
        self.assertEqual(body["function_name"], "from-s3")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create("missing-key", Code={"S3Bucket": "code-bucket", "S3Key": "nope.zip"})
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create("missing-bucket", Code={"S3Bucket": "no-such-bucket", "S3Key": "fn.zip"})
        s3.put_object(Bucket="code-bucket", Key="fn2.zip", Body=python_function(RETURNS_NONE))
        self.lam.update_function_code(FunctionName="from-s3", S3Bucket="code-bucket",
                                      S3Key="fn2.zip")
        response = self.lam.invoke(FunctionName="from-s3")
        self.assertEqual(response["Payload"].read(), b"null")


class InvokeTest(LambdaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lam = cls.client("lambda")
        for name, source, extra in [("echo", ECHO, {}), ("fails", FAILS, {}),
                                    ("sleeps", SLEEPS, {"Timeout": 1}),
                                    ("none", RETURNS_NONE, {})]:
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                Handler="lambda_function.lambda_handler",
                                Code={"ZipFile": python_function(source)}, **extra)

    def test_unchanged_aws_handler(self):
        response, body = self.invoke_json("echo", {"order": 7}, LogType="Tail")
        self.assertEqual(response["StatusCode"], 200)
        self.assertEqual(response["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", response)
        self.assertEqual(body["event"], {"order": 7})
        self.assertEqual(body["function_name"], "echo")
        self.assertEqual(body["memory"], "128")  # a string in AWS's Python runtime too
        self.assertEqual(body["arn"], "arn:aws:lambda:us-east-1:000000000000:function:echo")
        self.assertTrue(body["remaining_ok"])
        self.assertTrue(body["endpoint_set"])
        logs = base64.b64decode(response["LogResult"]).decode()
        self.assertIn("handling {'order': 7}", logs)
        self.assertIn(f"START RequestId: {body['request_id']}", logs)
        self.assertEqual(self.lam.invoke(FunctionName="none")["Payload"].read(), b"null")

    def test_function_errors(self):
        response, body = self.invoke_json("fails")
        self.assertEqual(response["StatusCode"], 200)
        self.assertEqual(response["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "ValueError")
        self.assertEqual(body["errorMessage"], "boom")
        response, body = self.invoke_json("sleeps")
        self.assertEqual(response["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", body["errorMessage"])
        # A handler that does not exist is an Invoke error, not a server crash.
        self.create("no-handler", Handler="lambda_function.missing")
        response, body = self.invoke_json("no-handler")
        self.assertEqual(response["FunctionError"], "Unhandled")
        self.assertTrue(body["errorType"].startswith("Runtime."), body)
        self.create("no-module", Handler="nomodule.handler")
        response, body = self.invoke_json("no-module")
        self.assertEqual(response["FunctionError"], "Unhandled")
        # Still serving.
        _, body = self.invoke_json("echo", {"after": "errors"})
        self.assertEqual(body["event"], {"after": "errors"})

    def test_event_and_dry_run(self):
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(TableName="invocations",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk",
                                                     "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        self.create("writer", DYNAMODB_WRITER)
        # RequestResponse: the function's own boto3 call lands here.
        _, body = self.invoke_json("writer", {"table": "invocations", "pk": "sync"})
        self.assertEqual(body, {"written": "sync"})
        item = dynamodb.get_item(TableName="invocations", Key={"pk": {"S": "sync"}})["Item"]
        self.assertEqual(item["from"], {"S": "writer"})
        # Event: 202 at once; the item appears when the queued invocation has run.
        response = self.lam.invoke(FunctionName="writer", InvocationType="Event",
                                   Payload=json.dumps({"table": "invocations", "pk": "async"}))
        self.assertEqual(response["StatusCode"], 202)
        self.assertEqual(response["Payload"].read(), b"")
        wait_for(lambda: "Item" in dynamodb.get_item(TableName="invocations",
                                                     Key={"pk": {"S": "async"}}),
                 "the Event invocation's item")
        legacy = self.lam.invoke_async(FunctionName="writer",
                                       InvokeArgs=json.dumps({"table": "invocations",
                                                              "pk": "legacy"}))
        self.assertEqual(legacy["Status"], 202)
        wait_for(lambda: "Item" in dynamodb.get_item(TableName="invocations",
                                                     Key={"pk": {"S": "legacy"}}),
                 "the InvokeAsync invocation's item")
        response = self.lam.invoke(FunctionName="writer", InvocationType="DryRun")
        self.assertEqual(response["StatusCode"], 204)

    def test_bad_invocations(self):
        with self.assertRaises(self.lam.exceptions.InvalidRequestContentException):
            self.lam.invoke(FunctionName="echo", Payload=b"{not json")
        with self.assertRaises(self.lam.exceptions.RequestTooLargeException):
            self.lam.invoke(FunctionName="echo", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke(FunctionName="no-such-function", Payload=b"{}")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke(FunctionName="echo", Qualifier="7", Payload=b"{}")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.lam.invoke(FunctionName="echo", InvocationType="Sometimes")
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationException")


class CreateErrorsTest(LambdaTestCase):
    def assert_error(self, code, **kwargs):
        args = dict(FunctionName="bad", Runtime="python3.12", Role=ROLE,
                    Handler="lambda_function.lambda_handler",
                    Code={"ZipFile": python_function(ECHO)})
        args.update(kwargs)
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.lam.create_function(**args)
        self.assertEqual(raised.exception.response["Error"]["Code"], code,
                         raised.exception.response)
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function(FunctionName="bad")  # nothing was created
        return raised.exception.response

    def test_error_classes(self):
        response = self.assert_error("InvalidParameterValueException",
                                     Code={"ZipFile": b"this is not a zip"})
        self.assertEqual(response["Error"]["Message"],
                         "Could not unzip uploaded file. Please check your file, then try to "
                         "upload again.")
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 400)
        response = self.assert_error("ValidationException", Runtime="python9.9")
        self.assertIn("Value 'python9.9' at 'runtime' failed to satisfy constraint",
                      response["Error"]["Message"])
        self.assert_error("InvalidParameterValueException", Runtime="python2.7")
        self.assert_error("ValidationException", Handler="")
        self.assert_error("ValidationException", Role="not-a-role")
        self.assert_error("ValidationException", Timeout=901)
        self.assert_error("InvalidParameterValueException",
                          Code={"ZipFile": make_zip({"../escape.py": "x"})})
        self.create("dup")
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.create("dup")

    def test_missing_runtime_and_handler(self):
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException) as raised:
            self.lam.create_function(FunctionName="nort", Role=ROLE,
                                     Code={"ZipFile": python_function(ECHO)})
        self.assertIn("Runtime and Handler are mandatory", str(raised.exception))


class VersionsAndAliasesTest(LambdaTestCase):
    def test_create_with_publish(self):
        created = self.create("published-at-once", Publish=True)
        self.assertEqual(created["Version"], "1")
        self.assertTrue(created["FunctionArn"].endswith(":published-at-once:1"))
        response, _ = self.invoke_json("published-at-once", Qualifier="1")
        self.assertEqual(response["ExecutedVersion"], "1")

    def test_versions_and_aliases(self):
        self.create("versioned", "def lambda_handler(e, c):\n    return 'one'\n")
        v1 = self.lam.publish_version(FunctionName="versioned", Description="first")
        self.assertEqual(v1["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(v1["Version"], "1")
        self.assertTrue(v1["FunctionArn"].endswith(":versioned:1"))
        # Nothing changed: the same version again.
        self.assertEqual(self.lam.publish_version(FunctionName="versioned")["Version"], "1")
        self.lam.update_function_code(
            FunctionName="versioned",
            ZipFile=python_function("def lambda_handler(e, c):\n    return 'two'\n"))
        v2 = self.lam.publish_version(FunctionName="versioned")
        self.assertEqual(v2["Version"], "2")
        versions = [v["Version"] for page in self.lam.get_paginator(
            "list_versions_by_function").paginate(FunctionName="versioned",
                                                  PaginationConfig={"PageSize": 1})
                    for v in page["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1", "2"])

        alias = self.lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion="1")
        self.assertEqual(alias["AliasArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:versioned:live")
        response, body = self.invoke_json("versioned", Qualifier="live")
        self.assertEqual((body, response["ExecutedVersion"]), ("one", "1"))
        response, body = self.invoke_json("versioned:2")
        self.assertEqual((body, response["ExecutedVersion"]), ("two", "2"))
        _, body = self.invoke_json("versioned")
        self.assertEqual(body, "two")
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion="2")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.create_alias(FunctionName="versioned", Name="ghost", FunctionVersion="9")
        updated = self.lam.update_alias(FunctionName="versioned", Name="live",
                                        FunctionVersion="2",
                                        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        self.assertEqual(updated["RoutingConfig"], {"AdditionalVersionWeights": {"1": 0.5}})
        seen = {self.lam.invoke(FunctionName="versioned", Qualifier="live")["ExecutedVersion"]
                for _ in range(40)}
        self.assertEqual(seen, {"1", "2"})
        self.assertEqual(self.lam.get_alias(FunctionName="versioned", Name="live")
                         ["FunctionVersion"], "2")
        self.lam.create_alias(FunctionName="versioned", Name="beta", FunctionVersion="$LATEST")
        names = [a["Name"] for page in self.lam.get_paginator("list_aliases").paginate(
            FunctionName="versioned", PaginationConfig={"PageSize": 1}) for a in page["Aliases"]]
        self.assertEqual(names, ["beta", "live"])
        # A version an alias routes to cannot be deleted.
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.delete_function(FunctionName="versioned", Qualifier="1")
        self.lam.update_alias(FunctionName="versioned", Name="live", FunctionVersion="2",
                              RoutingConfig={"AdditionalVersionWeights": {}})
        self.lam.delete_function(FunctionName="versioned", Qualifier="1")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke(FunctionName="versioned", Qualifier="1")
        self.lam.delete_alias(FunctionName="versioned", Name="beta")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_alias(FunctionName="versioned", Name="beta")


class PolicyTagsConcurrencyTest(LambdaTestCase):
    def test_policy(self):
        self.create("guarded")
        added = self.lam.add_permission(
            FunctionName="guarded", StatementId="firehose", Action="lambda:InvokeFunction",
            Principal="firehose.amazonaws.com",
            SourceArn="arn:aws:firehose:us-east-1:000000000000:deliverystream/d")
        self.assertEqual(added["ResponseMetadata"]["HTTPStatusCode"], 201)
        statement = json.loads(added["Statement"])
        self.assertEqual(statement["Principal"], {"Service": "firehose.amazonaws.com"})
        self.assertEqual(statement["Condition"]["ArnLike"]["AWS:SourceArn"],
                         "arn:aws:firehose:us-east-1:000000000000:deliverystream/d")
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.add_permission(FunctionName="guarded", StatementId="firehose",
                                    Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        policy = json.loads(self.lam.get_policy(FunctionName="guarded")["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["firehose"])
        self.lam.remove_permission(FunctionName="guarded", StatementId="firehose")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_policy(FunctionName="guarded")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.remove_permission(FunctionName="guarded", StatementId="firehose")

    def test_tags(self):
        arn = self.create("tagged", Tags={"a": "1"})["FunctionArn"]
        self.lam.tag_resource(Resource=arn, Tags={"b": "2"})
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"a": "1", "b": "2"})
        self.lam.untag_resource(Resource=arn, TagKeys=["a"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"b": "2"})
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.list_tags(Resource=arn.replace("tagged", "untagged"))

    def test_concurrency_and_account_settings(self):
        self.create("bounded")
        self.assertEqual(self.lam.put_function_concurrency(
            FunctionName="bounded", ReservedConcurrentExecutions=2)
            ["ReservedConcurrentExecutions"], 2)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName="bounded")
                         ["ReservedConcurrentExecutions"], 2)
        self.assertEqual(self.lam.get_function(FunctionName="bounded")["Concurrency"],
                         {"ReservedConcurrentExecutions": 2})
        settings = self.lam.get_account_settings()
        self.assertEqual(settings["AccountLimit"]["UnreservedConcurrentExecutions"], 998)
        self.assertGreaterEqual(settings["AccountUsage"]["FunctionCount"], 1)
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.put_function_concurrency(FunctionName="bounded",
                                              ReservedConcurrentExecutions=950)
        self.lam.put_function_concurrency(FunctionName="bounded", ReservedConcurrentExecutions=0)
        with self.assertRaises(self.lam.exceptions.TooManyRequestsException):
            self.lam.invoke(FunctionName="bounded")
        self.lam.delete_function_concurrency(FunctionName="bounded")
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.lam.get_function_concurrency(FunctionName="bounded"))
        self.assertEqual(self.lam.invoke(FunctionName="bounded")["StatusCode"], 200)


class CliTest(LambdaTestCase):
    def test_aws_cli(self):
        zip_path = os.path.join(self.tmp_dir, "cli.zip")
        with open(zip_path, "wb") as f:
            f.write(python_function(ECHO))
        created = self.cli_json(["lambda", "create-function", "--function-name", "cli-fn",
                                 "--runtime", "python3.12", "--role", ROLE,
                                 "--handler", "lambda_function.lambda_handler",
                                 "--zip-file", f"fileb://{zip_path}"])
        self.assertEqual(created["FunctionName"], "cli-fn")
        self.run_cli(["lambda", "wait", "function-active-v2", "--function-name", "cli-fn"])
        out_path = os.path.join(self.tmp_dir, "out.json")
        result = self.cli_json(["lambda", "invoke", "--function-name", "cli-fn",
                                "--payload", '{"from": "cli"}', out_path])
        self.assertEqual(result["StatusCode"], 200)
        with open(out_path) as f:
            self.assertEqual(json.load(f)["event"], {"from": "cli"})
        listed = self.cli_json(["lambda", "list-functions"])
        self.assertIn("cli-fn", [fn["FunctionName"] for fn in listed["Functions"]])
        failed = self.run_cli(["lambda", "get-function", "--function-name", "nope"], check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("ResourceNotFoundException", failed.stderr)


class ProvidedRuntimeTest(LambdaTestCase):
    def test_provided_bootstrap_keeps_its_x_bit(self):
        bootstrap = """#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    body = json.dumps({"provided": event}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body,
                                                  method="POST")).read()
"""
        code = make_zip({"bootstrap": bootstrap}, modes={"bootstrap": 0o755})
        self.lam.create_function(FunctionName="custom", Runtime="provided.al2023", Role=ROLE,
                                 Handler="unused", Code={"ZipFile": code})
        _, body = self.invoke_json("custom", {"x": 1})
        self.assertEqual(body, {"provided": {"x": 1}})


class RestartTest(LambdaTestCase):
    def test_functions_survive_kill9(self):
        self.create("durable", Environment={"Variables": {"GREETING": "again"}})
        self.lam.publish_version(FunctionName="durable")
        self.lam.create_alias(FunctionName="durable", Name="prod", FunctionVersion="1")
        self.kill9()
        self.restart()
        lam = self.client("lambda")
        self.assertEqual(lam.get_alias(FunctionName="durable", Name="prod")["FunctionVersion"],
                         "1")
        response = lam.invoke(FunctionName="durable", Qualifier="prod", Payload=b"{}")
        self.assertEqual(json.loads(response["Payload"].read())["env"], "again")


WAIT_FOR_GO = """
import boto3, time

def lambda_handler(event, context):
    s3 = boto3.client("s3")
    while True:
        try:
            s3.head_object(Bucket=event["bucket"], Key="go")
            return {"went": event["n"]}
        except s3.exceptions.ClientError:
            time.sleep(0.05)
"""


class BlockingInvokeTest(LambdaTestCase):
    # Two worker threads: without a pool of their own, two waiting Invokes would hold every
    # worker, and the S3 requests below (the test's and the functions' own) would wait behind
    # them until the functions timed out.
    server_args = ("--threads", "2")

    def test_waiting_invokes_do_not_hold_up_other_requests(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="gate")
        self.create("waiter", source=WAIT_FOR_GO, Timeout=60)
        self.lam.put_function_concurrency(FunctionName="waiter",
                                          ReservedConcurrentExecutions=4)
        results = {}

        def call(n):
            lam = self.client("lambda", config=botocore.config.Config(read_timeout=120))
            response = lam.invoke(FunctionName="waiter",
                                  Payload=json.dumps({"bucket": "gate", "n": n}))
            results[n] = (response.get("FunctionError"), json.loads(response["Payload"].read()))

        threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        # The invocations are running (or queued) and polling S3; other requests still flow.
        wait_for(lambda: "waiter" in [f["FunctionName"] for f in
                                      self.lam.list_functions()["Functions"]], "ListFunctions")
        s3.put_object(Bucket="gate", Key="go", Body=b"1")
        for thread in threads:
            thread.join(timeout=180)
        self.assertEqual(results, {n: (None, {"went": n}) for n in range(4)})


if __name__ == "__main__":
    unittest.main()
