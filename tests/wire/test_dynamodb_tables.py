"""DynamoDB table management over the wire: CreateTable, DescribeTable, DeleteTable, ListTables,
UpdateTable, TTL, tags, limits, endpoints and continuous backups, through boto3, raw HTTP and the
AWS CLI.

Messages asserted here are DynamoDB's (see docs/compat/dynamodb.md for the known differences).
Model-constraint errors are sent with botocore's client-side validation switched off, since
botocore would otherwise reject them before they reach the server; wrong JSON types are sent as
raw HTTP.
"""

import json
import unittest

import botocore.config
from botocore.exceptions import ClientError

import harness

TARGET = "DynamoDB_20120810."
ACCOUNT = "000000000000"
REGION = harness.REGION

# Waiters poll once before sleeping; a tiny delay keeps a broken waiter from stalling the run.
FAST_WAITER = {"Delay": 1, "MaxAttempts": 3}


def hash_table(name, **extra):
    """CreateTable arguments for a provisioned table keyed on pk (S)."""
    args = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }
    args.update(extra)
    return args


def on_demand_table(name, **extra):
    args = hash_table(name, BillingMode="PAY_PER_REQUEST", **extra)
    del args["ProvisionedThroughput"]
    return args


class DynamoDbTableTestCase(harness.ServerTestCase):
    """Shared helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        # Sends what botocore would refuse, so the server's own validation is what answers.
        cls.unchecked = cls.client(
            "dynamodb", config=botocore.config.Config(parameter_validation=False))

    def table_arn(self, name):
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"

    def raw(self, operation, payload):
        """POSTs `payload` (an object, or bytes sent as is) to `operation`; returns
        (status, parsed body)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, _, data = self.http("POST", "/", body=body, headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.0",
        })
        return status, json.loads(data) if data else None

    def assert_raw_error(self, operation, payload, code, message=None):
        status, body = self.raw(operation, payload)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["__type"].rsplit("#", 1)[-1], code, body)
        if message is not None:
            text = body.get("message", body.get("Message"))
            self.assertEqual(text, message, body)
        return body

    def assert_error(self, code, message, call, *args, **kwargs):
        """Runs call(*args, **kwargs) and checks the AWS error code and exact message."""
        with self.assertRaises(ClientError) as ctx:
            call(*args, **kwargs)
        error = ctx.exception.response["Error"]
        self.assertEqual(error["Code"], code, error)
        if message is not None:
            self.assertEqual(error["Message"], message, error)
        return error

    def assert_validation(self, message, call, *args, **kwargs):
        return self.assert_error("ValidationException", message, call, *args, **kwargs)

    def describe(self, name):
        return self.ddb.describe_table(TableName=name)["Table"]

    def table_names(self):
        names = []
        for page in self.ddb.get_paginator("list_tables").paginate():
            names.extend(page["TableNames"])
        return names


class CreateDescribeTest(DynamoDbTableTestCase):
    def test_create_then_describe_is_active(self):
        created = self.ddb.create_table(**hash_table("basic"))["TableDescription"]
        self.assertEqual(created["TableName"], "basic")
        self.assertIn(created["TableStatus"], ("CREATING", "ACTIVE"))
        table = self.describe("basic")
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual(table["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertEqual(table["AttributeDefinitions"],
                         [{"AttributeName": "pk", "AttributeType": "S"}])
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 5)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 5)
        self.assertEqual(table["ProvisionedThroughput"]["NumberOfDecreasesToday"], 0)
        self.assertEqual(table["ItemCount"], 0)
        self.assertEqual(table["TableSizeBytes"], 0)
        self.assertEqual(table["TableArn"], self.table_arn("basic"))
        self.assertRegex(table["TableId"],
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertEqual(table["TableId"], created["TableId"])
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual(table["TableClassSummary"]["TableClass"], "STANDARD")
        self.assertFalse(table["DeletionProtectionEnabled"])
        self.assertNotIn("StreamSpecification", table)
        self.assertNotIn("LatestStreamArn", table)
        self.assertNotIn("GlobalSecondaryIndexes", table)
        # CreationDateTime is a datetime parsed from epoch seconds.
        self.assertEqual(table["CreationDateTime"], created["CreationDateTime"])

    def test_waiter_table_exists_completes(self):
        self.ddb.create_table(**hash_table("waited"))
        self.ddb.get_waiter("table_exists").wait(TableName="waited", WaiterConfig=FAST_WAITER)

    def test_resource_table_wait_until_exists(self):
        ddb = self.resource("dynamodb")
        table = ddb.create_table(**hash_table("resource_made"))
        table.wait_until_exists()
        self.assertEqual(table.table_status, "ACTIVE")
        self.assertEqual(table.key_schema, [{"AttributeName": "pk", "KeyType": "HASH"}])

    def test_describe_by_arn(self):
        self.ddb.create_table(**hash_table("by_arn"))
        table = self.ddb.describe_table(TableName=self.table_arn("by_arn"))["Table"]
        self.assertEqual(table["TableName"], "by_arn")

    def test_pay_per_request(self):
        created = self.ddb.create_table(**on_demand_table("on_demand"))["TableDescription"]
        table = self.describe("on_demand")
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertIn("LastUpdateToPayPerRequestDateTime", table["BillingModeSummary"])
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 0)
        self.assertEqual(created["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")

    def test_indexes_streams_tags_and_options(self):
        self.ddb.create_table(
            TableName="full",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "gpk", "AttributeType": "S"},
                {"AttributeName": "lsk", "AttributeType": "B"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[{
                "IndexName": "by_gpk",
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y"]},
            }],
            LocalSecondaryIndexes=[{
                "IndexName": "by_lsk",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "lsk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            Tags=[{"Key": "team", "Value": "sales"}],
            DeletionProtectionEnabled=True,
            TableClass="STANDARD_INFREQUENT_ACCESS",
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
        )
        table = self.describe("full")
        self.assertEqual(len(table["AttributeDefinitions"]), 4)
        [gsi] = table["GlobalSecondaryIndexes"]
        self.assertEqual(gsi["IndexName"], "by_gpk")
        self.assertEqual(gsi["IndexStatus"], "ACTIVE")
        self.assertEqual(gsi["Projection"],
                         {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y"]})
        self.assertEqual(gsi["IndexArn"], self.table_arn("full") + "/index/by_gpk")
        self.assertEqual(gsi["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        [lsi] = table["LocalSecondaryIndexes"]
        self.assertEqual(lsi["IndexName"], "by_lsk")
        self.assertEqual(lsi["Projection"], {"ProjectionType": "KEYS_ONLY"})
        self.assertNotIn("IndexStatus", lsi)
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        label = table["LatestStreamLabel"]
        self.assertRegex(label, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")
        self.assertEqual(table["LatestStreamArn"], self.table_arn("full") + "/stream/" + label)
        self.assertTrue(table["DeletionProtectionEnabled"])
        self.assertEqual(table["TableClassSummary"]["TableClass"], "STANDARD_INFREQUENT_ACCESS")
        tags = self.ddb.list_tags_of_resource(ResourceArn=self.table_arn("full"))["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "sales"}])

    def test_sse_is_echoed_by_create(self):
        created = self.ddb.create_table(**hash_table(
            "encrypted", SSESpecification={"Enabled": True}))["TableDescription"]
        self.assertEqual(created["SSEDescription"]["Status"], "ENABLED")
        self.assertEqual(created["SSEDescription"]["SSEType"], "KMS")

    def test_existing_name_is_resource_in_use(self):
        self.ddb.create_table(**hash_table("twice"))
        before = self.describe("twice")
        self.assert_error("ResourceInUseException", "Table already exists: twice",
                          self.ddb.create_table, **on_demand_table("twice"))
        self.assertEqual(self.describe("twice"), before)

    def test_missing_table_is_resource_not_found(self):
        self.assert_error("ResourceNotFoundException",
                          "Requested resource not found: Table: nowhere not found",
                          self.ddb.describe_table, TableName="nowhere")
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException):
            self.ddb.describe_table(TableName=self.table_arn("nowhere"))


class CreateValidationTest(DynamoDbTableTestCase):
    def assert_create_invalid(self, message, **args):
        self.assert_validation(message, self.unchecked.create_table, **args)
        # Nothing was created.
        name = args.get("TableName")
        if isinstance(name, str) and 3 <= len(name) <= 255:
            self.assertNotIn(name, self.table_names())

    def test_table_name_constraints_are_aggregated(self):
        self.assert_create_invalid(
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
            **hash_table("ab"))
        self.assert_create_invalid(
            "1 validation error detected: Value 'a;b' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            **hash_table("a;b"))
        self.assert_create_invalid(
            "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
            "Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length "
            "greater than or equal to 3",
            **hash_table("a;"))
        long_name = "t" * 256
        self.assert_create_invalid(
            f"1 validation error detected: Value '{long_name}' at 'tableName' failed to satisfy "
            "constraint: Member must have length less than or equal to 255",
            **hash_table(long_name))

    def test_missing_members(self):
        self.assert_create_invalid(
            "3 validation errors detected: "
            "Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not "
            "be null; "
            "Value null at 'tableName' failed to satisfy constraint: Member must not be null; "
            "Value null at 'keySchema' failed to satisfy constraint: Member must not be null")

    def test_key_schema_and_attribute_constraints(self):
        self.assert_create_invalid(
            "2 validation errors detected: "
            "Value 'SS' at 'attributeDefinitions.1.member.attributeType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [B, N, S]; "
            "Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length "
            "greater than or equal to 1",
            **hash_table("bad_types",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "SS"}],
                         KeySchema=[]))
        self.assert_create_invalid(
            "1 validation error detected: Value '-1' at 'provisionedThroughput.writeCapacityUnits'"
            " failed to satisfy constraint: Member must have value greater than or equal to 1",
            **hash_table("bad_tp",
                         ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                "WriteCapacityUnits": -1}))

    def test_key_schema_semantics(self):
        two = [{"AttributeName": "a", "AttributeType": "S"},
               {"AttributeName": "b", "AttributeType": "S"}]
        self.assert_create_invalid(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            **hash_table("first_range", AttributeDefinitions=two,
                         KeySchema=[{"AttributeName": "a", "KeyType": "RANGE"},
                                    {"AttributeName": "b", "KeyType": "HASH"}]))
        self.assert_create_invalid(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            **hash_table("second_hash", AttributeDefinitions=two,
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"},
                                    {"AttributeName": "b", "KeyType": "HASH"}]))
        self.assert_create_invalid(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            **hash_table("same_name", AttributeDefinitions=two,
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"},
                                    {"AttributeName": "a", "KeyType": "RANGE"}]))
        self.assert_create_invalid(
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]",
            **hash_table("undefined_key",
                         AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}]))
        self.assert_create_invalid(
            "One or more parameter values were invalid: Number of attributes in KeySchema does "
            "not exactly match number of attributes defined in AttributeDefinitions",
            **hash_table("unused_attr", AttributeDefinitions=two,
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}]))

    def test_billing_mode_rules(self):
        args = hash_table("no_tp")
        del args["ProvisionedThroughput"]
        self.assert_create_invalid(
            "One or more parameter values were invalid: ReadCapacityUnits and "
            "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED", **args)
        self.assert_create_invalid(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            **hash_table("ppr_tp", BillingMode="PAY_PER_REQUEST"))

    def test_secondary_index_rules(self):
        defs = [{"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"}]
        gsi = {"IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
               "Projection": {"ProjectionType": "ALL"}}
        self.assert_create_invalid(
            "One or more parameter values were invalid: ProvisionedThroughput is not specified "
            "for index: gsi",
            **hash_table("gsi_no_tp", AttributeDefinitions=defs[:1] + defs[2:],
                         GlobalSecondaryIndexes=[gsi]))
        self.assert_create_invalid(
            "One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but "
            "NonKeyAttributes is specified",
            **on_demand_table("gsi_bad_projection", AttributeDefinitions=defs[:1] + defs[2:],
                              GlobalSecondaryIndexes=[dict(gsi, Projection={
                                  "ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["x"]})]))
        self.assert_create_invalid(
            "One or more parameter values were invalid: Duplicate index name: gsi",
            **on_demand_table("gsi_twice", AttributeDefinitions=defs[:1] + defs[2:],
                              GlobalSecondaryIndexes=[gsi, gsi]))
        self.assert_create_invalid(
            "One or more parameter values were invalid: Table KeySchema does not have a range "
            "key, which is required when specifying a LocalSecondaryIndex",
            **on_demand_table("lsi_no_range", AttributeDefinitions=defs[:2],
                              LocalSecondaryIndexes=[{
                                  "IndexName": "lsi",
                                  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                                  "Projection": {"ProjectionType": "ALL"}}]))
        composite = [{"AttributeName": "pk", "KeyType": "HASH"},
                     {"AttributeName": "sk", "KeyType": "RANGE"}]
        self.assert_create_invalid(
            "One or more parameter values were invalid: Index KeySchema does not have the same "
            "leading hash key as table KeySchema for index: lsi. index hash key: g, table hash "
            "key: pk",
            **on_demand_table("lsi_other_hash", AttributeDefinitions=defs, KeySchema=composite,
                              LocalSecondaryIndexes=[{
                                  "IndexName": "lsi",
                                  "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                                  "Projection": {"ProjectionType": "ALL"}}]))
        many = [{"IndexName": f"gsi{i:02d}",
                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}} for i in range(21)]
        self.assert_create_invalid(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the "
            "per-table limit of 20",
            **on_demand_table("too_many_gsis", AttributeDefinitions=defs[:1] + defs[2:],
                              GlobalSecondaryIndexes=many))

    def test_stream_needs_view_type(self):
        self.assert_create_invalid(
            "One or more parameter values were invalid: Table is being created with a stream "
            "enabled, UpdateViewType is required",
            **hash_table("stream_no_view", StreamSpecification={"StreamEnabled": True}))

    def test_wrong_json_types_are_serialization_errors(self):
        self.assert_raw_error("CreateTable", {"TableName": 123}, "SerializationException",
                              "NUMBER_VALUE cannot be converted to String")
        self.assert_raw_error("CreateTable", {"TableName": "t_ser", "KeySchema": {}},
                              "SerializationException",
                              "Start of structure or map found where not expected.")
        self.assert_raw_error("ListTables", {"Limit": "5"}, "SerializationException")
        self.assert_raw_error("DescribeTable", {"TableName": ["x"]}, "SerializationException")
        self.assert_raw_error("UpdateTimeToLive",
                              {"TableName": "t_ser", "TimeToLiveSpecification": {
                                  "Enabled": "yes", "AttributeName": "ttl"}},
                              "SerializationException")
        # A type error wins over every constraint violation in the same request.
        self.assert_raw_error("CreateTable", {"TableName": "x;", "BillingMode": 7},
                              "SerializationException")
        self.assertNotIn("t_ser", self.table_names())

    def test_unknown_enum_values(self):
        self.assert_create_invalid(
            "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
            **hash_table("free_table", BillingMode="FREE"))


class DeleteListTest(DynamoDbTableTestCase):
    def test_delete_then_describe_is_not_found(self):
        self.ddb.create_table(**hash_table("doomed"))
        deleted = self.ddb.delete_table(TableName="doomed")["TableDescription"]
        self.assertEqual(deleted["TableStatus"], "DELETING")
        self.assertEqual(deleted["TableName"], "doomed")
        self.ddb.get_waiter("table_not_exists").wait(TableName="doomed",
                                                     WaiterConfig=FAST_WAITER)
        self.assert_error("ResourceNotFoundException",
                          "Requested resource not found: Table: doomed not found",
                          self.ddb.describe_table, TableName="doomed")
        self.assertNotIn("doomed", self.table_names())
        # The name is free again, and the new table starts empty.
        self.ddb.create_table(**hash_table("doomed"))
        self.assertEqual(self.describe("doomed")["ItemCount"], 0)

    def test_delete_missing_table(self):
        self.assert_error("ResourceNotFoundException",
                          "Requested resource not found: Table: ghost not found",
                          self.ddb.delete_table, TableName="ghost")

    def test_delete_by_arn(self):
        self.ddb.create_table(**hash_table("doomed_arn"))
        self.ddb.delete_table(TableName=self.table_arn("doomed_arn"))
        self.assertNotIn("doomed_arn", self.table_names())

    def test_deletion_protection(self):
        self.ddb.create_table(**hash_table("guarded", DeletionProtectionEnabled=True))
        self.assert_validation(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first.",
            self.ddb.delete_table, TableName="guarded")
        self.assertEqual(self.describe("guarded")["TableStatus"], "ACTIVE")
        self.ddb.update_table(TableName="guarded", DeletionProtectionEnabled=False)
        self.ddb.delete_table(TableName="guarded")
        self.assertNotIn("guarded", self.table_names())

    def test_list_tables_pagination(self):
        names = [f"page_{i:02d}" for i in range(25)]
        for name in reversed(names):
            self.ddb.create_table(**on_demand_table(name))
        listed = []
        pages = 0
        for page in self.ddb.get_paginator("list_tables").paginate(
                PaginationConfig={"PageSize": 7}):
            pages += 1
            self.assertLessEqual(len(page["TableNames"]), 7)
            listed.extend(n for n in page["TableNames"] if n.startswith("page_"))
        self.assertEqual(listed, names)  # sorted, each once
        self.assertGreaterEqual(pages, 4)

        first = self.ddb.list_tables(ExclusiveStartTableName="page_", Limit=3)
        self.assertEqual(first["TableNames"], names[:3])
        self.assertEqual(first["LastEvaluatedTableName"], "page_02")
        # page_24 sorts last here: a page ending exactly at the last table carries no
        # LastEvaluatedTableName.
        self.assertEqual(self.ddb.list_tables(ExclusiveStartTableName="page_24")["TableNames"],
                         [])
        rest = self.ddb.list_tables(ExclusiveStartTableName="page_21", Limit=3)
        self.assertEqual(rest["TableNames"], names[22:])
        self.assertNotIn("LastEvaluatedTableName", rest)

    def test_list_tables_limit_constraints(self):
        self.assert_validation(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
            self.unchecked.list_tables, Limit=0)
        self.assert_validation(
            "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
            "Member must have value less than or equal to 100",
            self.unchecked.list_tables, Limit=101)


class UpdateTableTest(DynamoDbTableTestCase):
    def test_nothing_to_update(self):
        self.ddb.create_table(**hash_table("idle"))
        error = self.assert_validation(None, self.ddb.update_table, TableName="idle")
        self.assertTrue(error["Message"].startswith("At least one of ProvisionedThroughput"),
                        error)

    def test_update_missing_table(self):
        self.assert_error("ResourceNotFoundException",
                          "Requested resource not found: Table: ghost not found",
                          self.ddb.update_table, TableName="ghost",
                          BillingMode="PAY_PER_REQUEST")

    def test_throughput_and_billing_mode(self):
        self.ddb.create_table(**hash_table("billing"))
        self.ddb.update_table(TableName="billing", ProvisionedThroughput={
            "ReadCapacityUnits": 7, "WriteCapacityUnits": 9})
        throughput = self.describe("billing")["ProvisionedThroughput"]
        self.assertEqual((throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]),
                         (7, 9))
        self.assert_validation(None, self.ddb.update_table, TableName="billing",
                               ProvisionedThroughput={"ReadCapacityUnits": 7,
                                                      "WriteCapacityUnits": 9})

        self.ddb.update_table(TableName="billing", BillingMode="PAY_PER_REQUEST")
        table = self.describe("billing")
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        self.assert_validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            self.ddb.update_table, TableName="billing",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        self.assert_validation(
            "One or more parameter values were invalid: ProvisionedThroughput must be specified "
            "when BillingMode is PROVISIONED",
            self.ddb.update_table, TableName="billing", BillingMode="PROVISIONED")
        self.ddb.update_table(TableName="billing", BillingMode="PROVISIONED",
                              ProvisionedThroughput={"ReadCapacityUnits": 3,
                                                     "WriteCapacityUnits": 4})
        table = self.describe("billing")
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 4)

    def test_stream_enable_disable(self):
        self.ddb.create_table(**on_demand_table("streamed"))
        self.assert_validation("Table has no stream to disable: TableName: streamed",
                               self.ddb.update_table, TableName="streamed",
                               StreamSpecification={"StreamEnabled": False})
        first = self.ddb.update_table(TableName="streamed", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
        self.assertEqual(first["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        first_arn = first["LatestStreamArn"]
        self.assertTrue(first_arn.startswith(self.table_arn("streamed") + "/stream/"))
        self.assertEqual(self.describe("streamed")["LatestStreamArn"], first_arn)
        self.assert_validation("Table already has an enabled stream: TableName: streamed",
                               self.ddb.update_table, TableName="streamed",
                               StreamSpecification={"StreamEnabled": True,
                                                    "StreamViewType": "KEYS_ONLY"})
        self.assert_validation(
            "One or more parameter values were invalid: If stream is being enabled then "
            "UpdateViewType is required",
            self.ddb.update_table, TableName="streamed",
            StreamSpecification={"StreamEnabled": True})

        self.ddb.update_table(TableName="streamed", StreamSpecification={"StreamEnabled": False})
        table = self.describe("streamed")
        self.assertNotIn("StreamSpecification", table)
        self.assertEqual(table["LatestStreamArn"], first_arn)  # the old stream stays listed

        second = self.ddb.update_table(TableName="streamed", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
        self.assertNotEqual(second["LatestStreamArn"], first_arn)
        self.assertGreater(second["LatestStreamLabel"], first["LatestStreamLabel"])

    def test_create_gsi_on_existing_items(self):
        self.ddb.create_table(**on_demand_table("with_items"))
        for i in range(10):
            self.ddb.put_item(TableName="with_items", Item={
                "pk": {"S": f"order-{i}"}, "customer": {"S": f"c{i % 3}"},
                "total": {"N": str(i)}})
        described = self.ddb.update_table(
            TableName="with_items",
            AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                                  {"AttributeName": "total", "AttributeType": "N"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by_customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                              {"AttributeName": "total", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}}])["TableDescription"]
        self.assertEqual([i["IndexName"] for i in described["GlobalSecondaryIndexes"]],
                         ["by_customer"])
        table = self.describe("with_items")
        [gsi] = table["GlobalSecondaryIndexes"]
        self.assertEqual(gsi["IndexStatus"], "ACTIVE")
        self.assertEqual({d["AttributeName"] for d in table["AttributeDefinitions"]},
                         {"pk", "customer", "total"})
        self.assertEqual(table["ItemCount"], 10)

        self.assert_validation("Attempting to create an index which already exists",
                               self.ddb.update_table, TableName="with_items",
                               AttributeDefinitions=[{"AttributeName": "customer",
                                                      "AttributeType": "S"}],
                               GlobalSecondaryIndexUpdates=[{"Create": {
                                   "IndexName": "by_customer",
                                   "KeySchema": [{"AttributeName": "customer",
                                                  "KeyType": "HASH"}],
                                   "Projection": {"ProjectionType": "ALL"}}}])

    def test_query_new_gsi_sees_existing_items(self):
        # Needs Query (query_ops.cc); the backfill itself is pinned by the test above.
        self.ddb.create_table(**on_demand_table("gsi_query"))
        for i in range(6):
            self.ddb.put_item(TableName="gsi_query", Item={
                "pk": {"S": f"o{i}"}, "customer": {"S": "alice" if i % 2 else "bob"}})
        self.ddb.update_table(
            TableName="gsi_query",
            AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by_customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
        result = self.ddb.query(TableName="gsi_query", IndexName="by_customer",
                                KeyConditionExpression="customer = :c",
                                ExpressionAttributeValues={":c": {"S": "alice"}})
        self.assertEqual(sorted(item["pk"]["S"] for item in result["Items"]), ["o1", "o3", "o5"])

    def test_delete_gsi(self):
        self.ddb.create_table(**on_demand_table(
            "drop_gsi",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}]))
        self.ddb.put_item(TableName="drop_gsi", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
        self.ddb.update_table(TableName="drop_gsi",
                              GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}])
        table = self.describe("drop_gsi")
        self.assertNotIn("GlobalSecondaryIndexes", table)
        self.assertEqual(table["AttributeDefinitions"],
                         [{"AttributeName": "pk", "AttributeType": "S"}])
        self.assert_error("ResourceNotFoundException", None, self.ddb.update_table,
                          TableName="drop_gsi",
                          GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}])

    def test_gsi_update_rules(self):
        self.ddb.create_table(**hash_table(
            "gsi_rules",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"},
                                     "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                               "WriteCapacityUnits": 1}}]))
        self.ddb.update_table(TableName="gsi_rules", GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by_g",
            "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2}}}])
        [gsi] = self.describe("gsi_rules")["GlobalSecondaryIndexes"]
        self.assertEqual(gsi["ProvisionedThroughput"]["ReadCapacityUnits"], 4)
        self.assert_validation(
            "One or more parameter values were invalid: ProvisionedThroughput must be specified "
            "for index: by_h",
            self.ddb.update_table, TableName="gsi_rules",
            AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "N"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by_h", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}}])
        self.assert_validation(
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [h], AttributeDefinitions: [g, pk]",
            self.ddb.update_table, TableName="gsi_rules",
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by_h", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])
        self.assert_error("LimitExceededException", None, self.ddb.update_table,
                          TableName="gsi_rules",
                          AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "N"}],
                          GlobalSecondaryIndexUpdates=[
                              {"Delete": {"IndexName": "by_g"}},
                              {"Create": {
                                  "IndexName": "by_h",
                                  "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "ALL"},
                                  "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                            "WriteCapacityUnits": 1}}}])
        # Nothing above changed the index set.
        self.assertEqual([i["IndexName"] for i in
                          self.describe("gsi_rules")["GlobalSecondaryIndexes"]], ["by_g"])

    def test_deletion_protection_and_table_class(self):
        self.ddb.create_table(**hash_table("toggles"))
        updated = self.ddb.update_table(TableName="toggles", DeletionProtectionEnabled=True)
        self.assertTrue(updated["TableDescription"]["DeletionProtectionEnabled"])
        self.ddb.update_table(TableName="toggles", TableClass="STANDARD_INFREQUENT_ACCESS")
        table = self.describe("toggles")
        self.assertTrue(table["DeletionProtectionEnabled"])
        self.assertEqual(table["TableClassSummary"]["TableClass"], "STANDARD_INFREQUENT_ACCESS")


class TtlTagsAndAccountTest(DynamoDbTableTestCase):
    def test_time_to_live(self):
        self.ddb.create_table(**on_demand_table("ttl_table"))
        self.assertEqual(self.ddb.describe_time_to_live(TableName="ttl_table")
                         ["TimeToLiveDescription"], {"TimeToLiveStatus": "DISABLED"})
        self.assert_validation("TimeToLive is already disabled", self.ddb.update_time_to_live,
                               TableName="ttl_table",
                               TimeToLiveSpecification={"Enabled": False,
                                                        "AttributeName": "expires"})
        answer = self.ddb.update_time_to_live(
            TableName="ttl_table",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
        self.assertEqual(answer["TimeToLiveSpecification"],
                         {"Enabled": True, "AttributeName": "expires"})
        self.assertEqual(self.ddb.describe_time_to_live(TableName="ttl_table")
                         ["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
        self.assert_validation("TimeToLive is already enabled", self.ddb.update_time_to_live,
                               TableName="ttl_table",
                               TimeToLiveSpecification={"Enabled": True,
                                                        "AttributeName": "expires"})
        self.assert_validation(
            "TimeToLive is active on a different AttributeName: current AttributeName is "
            "expires",
            self.ddb.update_time_to_live, TableName="ttl_table",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "other"})
        self.ddb.update_time_to_live(
            TableName="ttl_table",
            TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
        self.assertEqual(self.ddb.describe_time_to_live(TableName="ttl_table")
                         ["TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED")

    def test_time_to_live_errors(self):
        self.assert_error("ResourceNotFoundException",
                          "Requested resource not found: Table: ghost not found",
                          self.ddb.describe_time_to_live, TableName="ghost")
        self.assert_error("ResourceNotFoundException", None, self.ddb.update_time_to_live,
                          TableName="ghost",
                          TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"})
        self.assert_validation(
            "1 validation error detected: Value null at 'timeToLiveSpecification' failed to "
            "satisfy constraint: Member must not be null",
            self.unchecked.update_time_to_live, TableName="ghost")

    def test_tags_round_trip(self):
        self.ddb.create_table(**on_demand_table("tagged", Tags=[{"Key": "a", "Value": "1"}]))
        arn = self.table_arn("tagged")
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"},
                                                     {"Key": "a", "Value": "one"}])
        tags = self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("a", "one"), ("b", "2")])
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["a", "missing"])
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        # The paginator works too (one page).
        pages = list(self.ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn))
        self.assertEqual(pages[0]["Tags"], [{"Key": "b", "Value": "2"}])

    def test_tag_errors(self):
        missing = self.table_arn("nope")
        self.assert_error("ResourceNotFoundException",
                          f"Requested resource not found: ResourcArn: {missing} not found",
                          self.ddb.list_tags_of_resource, ResourceArn=missing)
        self.assert_error("ResourceNotFoundException", None, self.ddb.tag_resource,
                          ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}])
        self.assert_validation("Invalid TableArn: Invalid ResourceArn provided as input "
                               "a:b:c:d:e:f/g",
                               self.ddb.list_tags_of_resource, ResourceArn="a:b:c:d:e:f/g")
        bad = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ab"
        self.assert_validation(f"Invalid TableArn: Invalid ResourceArn provided as input {bad}",
                               self.ddb.list_tags_of_resource, ResourceArn=bad)
        self.assert_validation("Invalid TableArn", self.unchecked.list_tags_of_resource)
        self.ddb.create_table(**on_demand_table("tag_limits"))
        arn = self.table_arn("tag_limits")
        self.assert_validation("Atleast one Tag needs to be provided as Input.",
                               self.ddb.tag_resource, ResourceArn=arn, Tags=[])
        self.assert_validation(
            "Number of Tags exceed the current limit for the provided ResourceArn",
            self.ddb.tag_resource, ResourceArn=arn,
            Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], [])

    def test_describe_limits(self):
        limits = self.ddb.describe_limits()
        self.assertEqual(limits["AccountMaxReadCapacityUnits"], 80000)
        self.assertEqual(limits["AccountMaxWriteCapacityUnits"], 80000)
        self.assertEqual(limits["TableMaxReadCapacityUnits"], 40000)
        self.assertEqual(limits["TableMaxWriteCapacityUnits"], 40000)

    def test_describe_endpoints(self):
        endpoints = self.ddb.describe_endpoints()["Endpoints"]
        self.assertEqual(endpoints, [{"Address": f"dynamodb.{REGION}.amazonaws.com",
                                      "CachePeriodInMinutes": 1440}])

    def test_continuous_backups(self):
        self.ddb.create_table(**on_demand_table("backed_up"))
        described = self.ddb.describe_continuous_backups(TableName="backed_up")
        description = described["ContinuousBackupsDescription"]
        self.assertEqual(description["ContinuousBackupsStatus"], "ENABLED")
        self.assertEqual(description["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "DISABLED")
        updated = self.ddb.update_continuous_backups(
            TableName="backed_up",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.assertEqual(updated["ContinuousBackupsDescription"]
                         ["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
                         "ENABLED")
        self.assert_error("TableNotFoundException", "Table not found: ghost",
                          self.ddb.describe_continuous_backups, TableName="ghost")
        self.assert_validation(
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling "
            "point-in-time recovery.",
            self.ddb.update_continuous_backups, TableName="backed_up",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False,
                                              "RecoveryPeriodInDays": 7})


class PersistenceAndCliTest(DynamoDbTableTestCase):
    def test_tables_survive_restart(self):
        self.ddb.create_table(
            TableName="durable",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            Tags=[{"Key": "env", "Value": "test"}])
        self.ddb.update_time_to_live(
            TableName="durable",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
        self.ddb.create_table(**hash_table("durable_too"))
        self.ddb.create_table(**hash_table("deleted_before_restart"))
        self.ddb.delete_table(TableName="deleted_before_restart")
        before = self.describe("durable")

        self.restart()

        after = self.describe("durable")
        for key in ("TableId", "TableArn", "KeySchema", "AttributeDefinitions",
                    "GlobalSecondaryIndexes", "StreamSpecification", "LatestStreamArn",
                    "BillingModeSummary", "CreationDateTime"):
            self.assertEqual(after[key], before[key], key)
        self.assertEqual(after["TableStatus"], "ACTIVE")
        self.assertEqual(self.ddb.describe_time_to_live(TableName="durable")
                         ["TimeToLiveDescription"]["AttributeName"], "expires")
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=self.table_arn("durable"))
                         ["Tags"], [{"Key": "env", "Value": "test"}])
        names = self.table_names()
        self.assertIn("durable", names)
        self.assertIn("durable_too", names)
        self.assertNotIn("deleted_before_restart", names)

    def test_cli_describe_table(self):
        self.ddb.create_table(**hash_table("cli_table"))
        out = self.cli_json(["dynamodb", "describe-table", "--table-name", "cli_table"])
        self.assertEqual(out["Table"]["TableName"], "cli_table")
        self.assertEqual(out["Table"]["TableStatus"], "ACTIVE")
        listed = self.cli_json(["dynamodb", "list-tables"])
        self.assertIn("cli_table", listed["TableNames"])
        proc = self.run_cli(["dynamodb", "describe-table", "--table-name", "cli_ghost"],
                            check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ResourceNotFoundException", proc.stderr)

    def test_cli_create_and_wait(self):
        self.run_cli(["dynamodb", "create-table", "--table-name", "cli_made",
                      "--attribute-definitions", "AttributeName=pk,AttributeType=S",
                      "--key-schema", "AttributeName=pk,KeyType=HASH",
                      "--billing-mode", "PAY_PER_REQUEST"])
        self.run_cli(["dynamodb", "wait", "table-exists", "--table-name", "cli_made"])
        self.run_cli(["dynamodb", "delete-table", "--table-name", "cli_made"])
        self.run_cli(["dynamodb", "wait", "table-not-exists", "--table-name", "cli_made"])


if __name__ == "__main__":
    unittest.main()
