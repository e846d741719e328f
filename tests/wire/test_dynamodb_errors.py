"""DynamoDB error contract over the wire: every check of the spec's error catalogue
(/work/shared/spec/aws-contracts.md 2.3) with AWS's exception class and message, and proof that
a rejected request changed nothing. Protocol-level errors (malformed JSON, wrong JSON types,
unknown operation) are sent raw over http.client, and every response's x-amz-crc32 is checked.
"""

from __future__ import annotations

import http.client
import json
import unittest
import zlib

import botocore.config
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import harness

TARGET = "DynamoDB_20120810"
NO_VALIDATION = botocore.config.Config(parameter_validation=False)


def create_table(client, name, key_schema, attribute_definitions, **extra):
    """CreateTable (on-demand) and wait until the table is ACTIVE."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in key_schema],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                              for n, t in attribute_definitions],
        BillingMode="PAY_PER_REQUEST",
        **extra)
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def s(v):
    return {"S": v}


def n(v):
    return {"N": str(v)}


SEED = {"pk": s("seed"), "v": n(1), "str": s("text"), "l": {"L": [n(1)]},
        "ss": {"SS": ["a", "b"]}, "m": {"M": {"k": s("v")}}}
SEED_JSON = {"pk": {"S": "seed"}, "v": {"N": "1"}}  # the seed's key plus one attribute


class ErrorsTestBase(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        # Skips botocore's client-side checks so the server's own validation is reached.
        cls.nv = cls.client("dynamodb", config=NO_VALIDATION)
        create_table(cls.ddb, "tbl", [("pk", "HASH")], [("pk", "S")])
        create_table(cls.ddb, "comp", [("pk", "HASH"), ("sk", "RANGE")], [("pk", "S"), ("sk", "N")])
        create_table(cls.ddb, "comps", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "S")])
        create_table(
            cls.ddb, "gsis", [("pk", "HASH")], [("pk", "S"), ("g", "S")],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}])
        cls.ddb.put_item(TableName="tbl", Item=SEED)
        cls.ddb.put_item(TableName="comp", Item={"pk": s("seed"), "sk": n(1), "v": n(1)})

    def setUp(self):
        self.addCleanup(self.assert_seed_unchanged)

    def assert_seed_unchanged(self):
        self.assertEqual(self.ddb.get_item(TableName="tbl", Key={"pk": s("seed")},
                                           ConsistentRead=True)["Item"], SEED)
        self.assertEqual(self.ddb.get_item(TableName="comp", Key={"pk": s("seed"), "sk": n(1)},
                                           ConsistentRead=True)["Item"],
                         {"pk": s("seed"), "sk": n(1), "v": n(1)})

    def assert_absent(self, pk, table="tbl"):
        self.assertNotIn("Item", self.ddb.get_item(TableName=table, Key={"pk": s(pk)},
                                                   ConsistentRead=True))

    def expect(self, code, message, call, *args, exact=False, **kwargs):
        """Runs call(*args, **kwargs), which must raise ClientError `code` whose message
        contains `message` (equals it when exact). Returns the error response."""
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            call(*args, **kwargs)
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if exact:
            self.assertEqual(err["Message"], message)
        else:
            self.assertIn(message, err["Message"])
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return ctx.exception.response

    def invalid(self, message, call, *args, **kwargs):
        return self.expect("ValidationException", message, call, *args, **kwargs)


class MissingTableTest(ErrorsTestBase):
    def test_item_and_query_operations_on_missing_table(self):
        key = {"pk": s("x")}
        calls = {
            "GetItem": lambda: self.ddb.get_item(TableName="nope", Key=key),
            "PutItem": lambda: self.ddb.put_item(TableName="nope", Item=key),
            "UpdateItem": lambda: self.ddb.update_item(
                TableName="nope", Key=key, UpdateExpression="SET a = :v",
                ExpressionAttributeValues={":v": n(1)}),
            "DeleteItem": lambda: self.ddb.delete_item(TableName="nope", Key=key),
            "Query": lambda: self.ddb.query(TableName="nope", KeyConditionExpression="pk = :p",
                                            ExpressionAttributeValues={":p": s("x")}),
            "Scan": lambda: self.ddb.scan(TableName="nope"),
            "BatchGetItem": lambda: self.ddb.batch_get_item(
                RequestItems={"nope": {"Keys": [key]}}),
            "BatchWriteItem": lambda: self.ddb.batch_write_item(
                RequestItems={"nope": [{"PutRequest": {"Item": key}}]}),
            "TransactWriteItems": lambda: self.ddb.transact_write_items(
                TransactItems=[{"Put": {"TableName": "nope", "Item": key}}]),
            "TransactGetItems": lambda: self.ddb.transact_get_items(
                TransactItems=[{"Get": {"TableName": "nope", "Key": key}}]),
        }
        for op, call in calls.items():
            with self.subTest(op):
                with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException) as ctx:
                    call()
                self.assertEqual(ctx.exception.response["Error"]["Message"],
                                 "Requested resource not found")

    def test_request_level_validation_runs_before_table_lookup(self):
        # A too-large item on a missing table: ValidationException, not ResourceNotFound.
        self.invalid("Item size has exceeded the maximum allowed size", self.ddb.put_item,
                     TableName="nope", Item={"pk": s("x"), "d": s("x" * 410_000)})
        self.invalid("Invalid UpdateExpression: Syntax error", self.ddb.update_item,
                     TableName="nope", Key={"pk": s("x")}, UpdateExpression="SET a =")
        self.invalid("Value provided in ExpressionAttributeNames unused in expressions: "
                     "keys: {#x}", self.ddb.get_item, TableName="nope", Key={"pk": s("x")},
                     ProjectionExpression="a", ExpressionAttributeNames={"#x": "x"})
        self.invalid("The parameter cannot be converted to a numeric value: abc",
                     self.ddb.put_item, TableName="nope", Item={"pk": s("x"), "a": n("abc")})


class KeySchemaTest(ErrorsTestBase):
    def test_key_that_does_not_match_the_schema(self):
        bad_keys = {
            "tbl": [{"wrong": s("seed")}, {"pk": s("seed"), "extra": s("x")}, {"pk": n(1)},
                  {"pk": {"B": b"seed"}}],
            "comp": [{"pk": s("seed")}, {"sk": n(1)}, {"pk": s("seed"), "sk": s("1")},
                  {"pk": s("seed"), "sk": n(1), "v": n(1)}],
        }
        for table, keys in bad_keys.items():
            for key in keys:
                for op, call in {
                    "get": lambda: self.ddb.get_item(TableName=table, Key=key),
                    "delete": lambda: self.ddb.delete_item(TableName=table, Key=key),
                    "update": lambda: self.ddb.update_item(
                        TableName=table, Key=key, UpdateExpression="SET z = :z",
                        ExpressionAttributeValues={":z": n(1)}),
                }.items():
                    with self.subTest(table=table, key=key, op=op):
                        self.invalid("The provided key element does not match the schema", call,
                                     exact=True)
        self.assertEqual(self.ddb.scan(TableName="tbl", FilterExpression="attribute_exists(z)",
                                       ConsistentRead=True)["Count"], 0)

    def test_item_missing_a_key_attribute(self):
        self.invalid("One or more parameter values were invalid: Missing the key pk in the item",
                     self.ddb.put_item, TableName="tbl", Item={"v": s("no key")}, exact=True)
        self.invalid("One or more parameter values were invalid: Missing the key sk in the item",
                     self.ddb.put_item, TableName="comp", Item={"pk": s("nosk")}, exact=True)
        self.assertNotIn("Item", self.ddb.get_item(TableName="comp", Key={"pk": s("nosk"),
                                                                      "sk": n(0)}))

    def test_item_key_of_the_wrong_type(self):
        self.invalid("One or more parameter values were invalid: Type mismatch for key pk "
                     "expected: S actual: N", self.ddb.put_item, TableName="tbl",
                     Item={"pk": n(5), "v": n(1)}, exact=True)
        self.invalid("One or more parameter values were invalid: Type mismatch for key sk "
                     "expected: N actual: S", self.ddb.put_item, TableName="comp",
                     Item={"pk": s("typed"), "sk": s("1")}, exact=True)
        self.assert_absent("typed")

    def test_empty_string_key(self):
        message = ("One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. Key: pk")
        self.invalid(message, self.ddb.put_item, TableName="tbl", Item={"pk": s(""), "v": n(1)},
                     exact=True)
        self.invalid(message, self.ddb.get_item, TableName="tbl", Key={"pk": s("")}, exact=True)
        self.invalid("The AttributeValue for a key attribute cannot contain an empty string "
                     "value. Key: sk", self.ddb.put_item, TableName="comps",
                     Item={"pk": s("e"), "sk": s("")})
        self.assertEqual(self.ddb.scan(TableName="comps", ConsistentRead=True)["Count"], 0)

    def test_index_key_type_and_empty_value(self):
        self.invalid("One or more parameter values were invalid: Type mismatch for Index Key g "
                     "Expected: S Actual: N IndexName: by_g", self.ddb.put_item, TableName="gsis",
                     Item={"pk": s("gi"), "g": n(1)}, exact=True)
        resp = self.invalid("IndexName: by_g", self.ddb.put_item, TableName="gsis",
                            Item={"pk": s("gi"), "g": s("")})
        self.assertIn("empty string value", resp["Error"]["Message"])
        self.ddb.put_item(TableName="gsis", Item={"pk": s("gi-ok"), "g": s("x")})
        self.invalid("Type mismatch for Index Key g", self.ddb.update_item, TableName="gsis",
                     Key={"pk": s("gi-ok")}, UpdateExpression="SET g = :n",
                     ExpressionAttributeValues={":n": n(1)})
        self.assertNotIn("Item", self.ddb.get_item(TableName="gsis", Key={"pk": s("gi")}))
        self.assertEqual(self.ddb.get_item(TableName="gsis", Key={"pk": s("gi-ok")})["Item"]["g"],
                         s("x"))

    def test_key_size_limits(self):
        self.ddb.put_item(TableName="tbl", Item={"pk": s("h" * 2048)})
        self.invalid("One or more parameter values were invalid: Size of hashkey has exceeded "
                     "the maximum size limit of2048 bytes", self.ddb.put_item, TableName="tbl",
                     Item={"pk": s("h" * 2049)}, exact=True)
        self.ddb.put_item(TableName="comps", Item={"pk": s("rk"), "sk": s("r" * 1024)})
        self.invalid("One or more parameter values were invalid: Aggregated size of all range "
                     "keys has exceeded the size limit of 1024 bytes", self.ddb.put_item,
                     TableName="comps", Item={"pk": s("rk"), "sk": s("r" * 1025)}, exact=True)
        resp = self.ddb.query(TableName="comps", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": s("rk")})
        self.assertEqual(resp["Count"], 1)


class ItemValueTest(ErrorsTestBase):
    def test_item_size_limit_is_400_kb(self):
        # name + value bytes: "pk" + "big-ok" + "d" + 409591 = 409600 bytes exactly.
        self.ddb.put_item(TableName="tbl", Item={"pk": s("big-ok"), "d": s("x" * 409_591)})
        self.invalid("Item size has exceeded the maximum allowed size", self.ddb.put_item,
                     TableName="tbl", Item={"pk": s("big-no"), "d": s("x" * 409_592)}, exact=True)
        self.assert_absent("big-no")
        self.invalid("Item size has exceeded the maximum allowed size", self.ddb.put_item,
                     TableName="tbl", Item={"pk": s("big-no"), "d": {"B": b"\0" * 409_592}})
        self.assert_absent("big-no")

    def test_update_making_item_too_large(self):
        self.ddb.put_item(TableName="tbl", Item={"pk": s("grow"), "a": s("a" * 300_000)})
        self.invalid("Item size to update has exceeded the maximum allowed size",
                     self.ddb.update_item, TableName="tbl", Key={"pk": s("grow")},
                     UpdateExpression="SET b = :b",
                     ExpressionAttributeValues={":b": s("b" * 200_000)}, exact=True)
        item = self.ddb.get_item(TableName="tbl", Key={"pk": s("grow")},
                                 ConsistentRead=True)["Item"]
        self.assertEqual(set(item), {"pk", "a"})

    def test_attribute_value_with_zero_or_two_types(self):
        self.invalid("Supplied AttributeValue is empty, must contain exactly one of the supported "
                     "datatypes", self.nv.put_item, TableName="tbl",
                     Item={"pk": s("av0"), "a": {}}, exact=True)
        self.invalid("Supplied AttributeValue has more than one datatypes set, must contain "
                     "exactly one of the supported datatypes", self.nv.put_item, TableName="tbl",
                     Item={"pk": s("av2"), "a": {"S": "x", "N": "1"}}, exact=True)
        self.invalid("Supplied AttributeValue is empty", self.nv.put_item, TableName="tbl",
                     Item={"pk": s("av0"), "m": {"M": {"inner": {}}}})
        self.invalid("Supplied AttributeValue is empty", self.nv.get_item, TableName="tbl",
                     Key={"pk": {}})
        self.assert_absent("av0")
        self.assert_absent("av2")

    def test_null_must_be_true(self):
        self.invalid("One or more parameter values were invalid: Null attribute value types must "
                     "have the value of true", self.ddb.put_item, TableName="tbl",
                     Item={"pk": s("nullfalse"), "a": {"NULL": False}}, exact=True)
        self.assert_absent("nullfalse")

    def test_bad_numbers(self):
        cases = [
            ("abc", "The parameter cannot be converted to a numeric value: abc"),
            ("1.2.3", "The parameter cannot be converted to a numeric value: 1.2.3"),
            ("123456789012345678901234567890123456789",
             "Attempting to store more than 38 significant digits in a Number"),
            ("1.23456789012345678901234567890123456789",
             "Attempting to store more than 38 significant digits in a Number"),
            ("1e126", "Number overflow. Attempting to store a number with magnitude larger than "
                      "supported range"),
            ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than "
                       "supported range"),
            ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller "
                       "than supported range"),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                self.invalid(message, self.ddb.put_item, TableName="tbl",
                             Item={"pk": s("badnum"), "n": n(value)}, exact=True)
                self.invalid(message, self.ddb.put_item, TableName="tbl",
                             Item={"pk": s("badnum"), "ns": {"NS": ["1", value]}})
                self.invalid(message, self.ddb.update_item, TableName="tbl",
                             Key={"pk": s("seed")}, UpdateExpression="SET v = :n",
                             ExpressionAttributeValues={":n": n(value)})
        self.assert_absent("badnum")
        # Leading and trailing zeros are not significant digits.
        self.ddb.put_item(TableName="tbl", Item={
            "pk": s("okn"), "a": n("1234567890123456789012345678901234567800000"),
            "b": n("0.00012345678901234567890123456789012345678")})
        item = self.ddb.get_item(TableName="tbl", Key={"pk": s("okn")})["Item"]
        self.assertEqual(item["a"], n("1234567890123456789012345678901234567800000"))

    def test_arithmetic_overflow(self):
        self.ddb.put_item(TableName="tbl", Item={
            "pk": s("ovf"), "n": n("9.9999999999999999999999999999999999999E+125")})
        self.invalid("Number overflow", self.ddb.update_item, TableName="tbl", Key={"pk": s("ovf")},
                     UpdateExpression="SET n = n + :big",
                     ExpressionAttributeValues={":big": n("9E+125")})
        item = self.ddb.get_item(TableName="tbl", Key={"pk": s("ovf")})["Item"]
        self.assertEqual(len(item), 2)

    def test_empty_sets(self):
        prefix = "One or more parameter values were invalid: "
        cases = [
            ({"SS": []}, prefix + "An string set  may not be empty"),  # sic: "An", two spaces
            ({"NS": []}, prefix + "An number set  may not be empty"),
            ({"BS": []}, prefix + "Binary sets should not be empty"),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                self.invalid(message, self.nv.put_item, TableName="tbl",
                             Item={"pk": s("emptyset"), "a": value}, exact=True)
                self.invalid(message, self.nv.put_item, TableName="tbl",
                             Item={"pk": s("emptyset"), "m": {"M": {"a": value}}}, exact=True)
                self.invalid("may not be empty" if "SS" in value or "NS" in value
                             else "should not be empty", self.nv.update_item, TableName="tbl",
                             Key={"pk": s("seed")}, UpdateExpression="ADD zz :e",
                             ExpressionAttributeValues={":e": value})
        self.assert_absent("emptyset")

    def test_duplicate_set_members(self):
        for value in ({"SS": ["a", "b", "a"]}, {"NS": ["1", "1.0"]}, {"BS": [b"x", b"x"]}):
            with self.subTest(value=value):
                resp = self.invalid("contains duplicates", self.nv.put_item, TableName="tbl",
                                    Item={"pk": s("dupset"), "a": value})
                self.assertIn("One or more parameter values were invalid",
                              resp["Error"]["Message"])
        self.assert_absent("dupset")


class ExpressionErrorsTest(ErrorsTestBase):
    def update_seed(self, **kwargs):
        return self.ddb.update_item(TableName="tbl", Key={"pk": s("seed")}, **kwargs)

    def test_update_touching_a_key_attribute(self):
        self.invalid("One or more parameter values were invalid: Cannot update attribute pk. "
                     "This attribute is part of the key", self.update_seed,
                     UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": s("x")},
                     exact=True)
        self.invalid("Cannot update attribute sk. This attribute is part of the key",
                     self.ddb.update_item, TableName="comp", Key={"pk": s("seed"), "sk": n(1)},
                     UpdateExpression="REMOVE sk")
        self.invalid("Cannot update attribute sk. This attribute is part of the key",
                     self.ddb.update_item, TableName="comp", Key={"pk": s("seed"), "sk": n(1)},
                     UpdateExpression="ADD sk :one", ExpressionAttributeValues={":one": n(1)})

    def test_legacy_update_touching_a_key_attribute(self):
        self.invalid("One or more parameter values were invalid: Cannot update attribute pk. "
                     "This attribute is part of the key", self.update_seed,
                     AttributeUpdates={"pk": {"Action": "PUT", "Value": s("x")}}, exact=True)

    def test_unused_expression_attribute_values_and_names(self):
        self.invalid("Value provided in ExpressionAttributeValues unused in expressions: "
                     "keys: {:unused}", self.update_seed, UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": n(2), ":unused": n(3)}, exact=True)
        self.invalid("Value provided in ExpressionAttributeNames unused in expressions: "
                     "keys: {#unused}", self.update_seed, UpdateExpression="SET #v = :v",
                     ExpressionAttributeNames={"#v": "v", "#unused": "x"},
                     ExpressionAttributeValues={":v": n(2)}, exact=True)
        self.invalid("ExpressionAttributeNames can only be specified when using expressions",
                     self.ddb.put_item, TableName="tbl", Item={"pk": s("unused")},
                     ExpressionAttributeNames={"#a": "a"})
        self.invalid("ExpressionAttributeValues can only be specified when using expressions",
                     self.ddb.put_item, TableName="tbl", Item={"pk": s("unused")},
                     ExpressionAttributeValues={":a": n(1)})
        self.assert_absent("unused")

    def test_malformed_placeholder_maps(self):
        self.invalid("ExpressionAttributeValues must not be empty", self.update_seed,
                     UpdateExpression="REMOVE zz", ExpressionAttributeValues={}, exact=True)
        self.invalid("ExpressionAttributeNames must not be empty", self.update_seed,
                     UpdateExpression="REMOVE zz", ExpressionAttributeNames={}, exact=True)
        self.invalid('ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
                     self.update_seed, UpdateExpression="REMOVE zz",
                     ExpressionAttributeValues={"v": n(1)}, exact=True)
        self.invalid('ExpressionAttributeNames contains invalid key: Syntax error; key: "n"',
                     self.update_seed, UpdateExpression="REMOVE zz",
                     ExpressionAttributeNames={"n": "v"}, exact=True)

    def test_undefined_placeholders(self):
        self.invalid("Invalid ConditionExpression: An expression attribute value used in "
                     "expression is not defined; attribute value: :nope", self.ddb.put_item,
                     TableName="tbl", Item=SEED, ConditionExpression="v = :nope", exact=True)
        self.invalid("Invalid UpdateExpression: An expression attribute name used in the document "
                     "path is not defined; attribute name: #x", self.update_seed,
                     UpdateExpression="SET #x = :v", ExpressionAttributeValues={":v": n(2)},
                     exact=True)
        self.invalid("Invalid ProjectionExpression: An expression attribute name used in the "
                     "document path is not defined; attribute name: #p", self.ddb.get_item,
                     TableName="tbl", Key={"pk": s("seed")}, ProjectionExpression="#p", exact=True)
        self.invalid("Invalid KeyConditionExpression: An expression attribute value used in "
                     "expression is not defined; attribute value: :p", self.ddb.query,
                     TableName="tbl", KeyConditionExpression="pk = :p", exact=True)
        self.invalid("Invalid FilterExpression: An expression attribute value used in "
                     "expression is not defined; attribute value: :f", self.ddb.scan,
                     TableName="tbl", FilterExpression="v = :f", exact=True)

    def test_syntax_errors(self):
        cases = [
            ("Invalid UpdateExpression: Syntax error; token: ", self.update_seed,
             {"UpdateExpression": "SET v ="}),
            ('Invalid UpdateExpression: Syntax error; token: "FOO"', self.update_seed,
             {"UpdateExpression": "FOO v = :v", "ExpressionAttributeValues": {":v": n(1)}}),
            ('Invalid ConditionExpression: Syntax error; token: "="', self.ddb.put_item,
             {"TableName": "tbl", "Item": SEED, "ConditionExpression": "v = = :v",
              "ExpressionAttributeValues": {":v": n(1)}}),
            ('Invalid ProjectionExpression: Syntax error; token: ","', self.ddb.get_item,
             {"TableName": "tbl", "Key": {"pk": s("seed")}, "ProjectionExpression": "v,,str"}),
            ("Invalid KeyConditionExpression: Syntax error; token: ", self.ddb.query,
             {"TableName": "tbl", "KeyConditionExpression": "pk ="}),
            ("Invalid FilterExpression: Syntax error; token: ", self.ddb.scan,
             {"TableName": "tbl", "FilterExpression": "v > "}),
        ]
        for message, call, kwargs in cases:
            with self.subTest(kwargs=kwargs):
                resp = self.invalid(message, call, **kwargs)
                self.assertIn("near:", resp["Error"]["Message"])

    def test_reserved_words(self):
        self.invalid("Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
                     "keyword: name", self.update_seed, UpdateExpression="SET name = :v",
                     ExpressionAttributeValues={":v": s("x")}, exact=True)
        self.invalid("Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
                     "keyword: Name", self.update_seed, UpdateExpression="SET Name = :v",
                     ExpressionAttributeValues={":v": s("x")}, exact=True)
        self.invalid("Invalid ConditionExpression: Attribute name is a reserved keyword; "
                     "reserved keyword: status", self.ddb.put_item, TableName="tbl", Item=SEED,
                     ConditionExpression="attribute_exists(status)", exact=True)
        self.invalid("Invalid ProjectionExpression: Attribute name is a reserved keyword; "
                     "reserved keyword: date", self.ddb.get_item, TableName="tbl",
                     Key={"pk": s("seed")}, ProjectionExpression="v, date", exact=True)
        self.invalid("Invalid FilterExpression: Attribute name is a reserved keyword; "
                     "reserved keyword: comment", self.ddb.scan, TableName="tbl",
                     FilterExpression="comment = :v", ExpressionAttributeValues={":v": s("x")},
                     exact=True)
        # The same names are fine through placeholders.
        self.ddb.get_item(TableName="tbl", Key={"pk": s("seed")}, ProjectionExpression="#n",
                          ExpressionAttributeNames={"#n": "name"})

    def test_mixing_legacy_and_expression_parameters(self):
        prefix = "Can not use both expression and non-expression parameters in the same request: "
        self.invalid(prefix + "Non-expression parameters: {Expected} Expression parameters: "
                     "{ConditionExpression}", self.ddb.put_item, TableName="tbl", Item=SEED,
                     Expected={"v": {"Exists": True, "Value": n(1)}},
                     ConditionExpression="attribute_exists(v)", exact=True)
        self.invalid(prefix + "Non-expression parameters: {AttributesToGet} Expression "
                     "parameters: {ProjectionExpression}", self.ddb.get_item, TableName="tbl",
                     Key={"pk": s("seed")}, AttributesToGet=["v"], ProjectionExpression="v",
                     exact=True)
        self.invalid(prefix + "Non-expression parameters: {AttributeUpdates} Expression "
                     "parameters: {UpdateExpression}", self.update_seed,
                     AttributeUpdates={"v": {"Action": "PUT", "Value": n(9)}},
                     UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": n(9)},
                     exact=True)
        self.invalid(prefix + "Non-expression parameters: {QueryFilter} Expression parameters: "
                     "{KeyConditionExpression}", self.ddb.query, TableName="tbl",
                     KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": s("seed")},
                     QueryFilter={"v": {"ComparisonOperator": "NOT_NULL"}}, exact=True)

    def test_update_operand_type_errors(self):
        self.invalid("An operand in the update expression has an incorrect data type",
                     self.update_seed, UpdateExpression="ADD str :one",
                     ExpressionAttributeValues={":one": n(1)})
        self.invalid("An operand in the update expression has an incorrect data type",
                     self.update_seed, UpdateExpression="SET l = list_append(str, :l)",
                     ExpressionAttributeValues={":l": {"L": []}})
        self.invalid("An operand in the update expression has an incorrect data type",
                     self.update_seed, UpdateExpression="SET v = str + :one",
                     ExpressionAttributeValues={":one": n(1)})
        self.invalid("An operand in the update expression has an incorrect data type",
                     self.update_seed, UpdateExpression="DELETE ss :ns",
                     ExpressionAttributeValues={":ns": {"NS": ["1"]}})
        self.invalid("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                     "operator: ADD, operand type: STRING", self.update_seed,
                     UpdateExpression="ADD v :s", ExpressionAttributeValues={":s": s("x")},
                     exact=True)
        self.invalid("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                     "operator: DELETE, operand type: NUMBER", self.update_seed,
                     UpdateExpression="DELETE ss :n", ExpressionAttributeValues={":n": n(1)},
                     exact=True)

    def test_update_path_errors(self):
        self.invalid("The provided expression refers to an attribute that does not exist in the "
                     "item", self.update_seed, UpdateExpression="SET v = absent + :one",
                     ExpressionAttributeValues={":one": n(1)}, exact=True)
        self.invalid("The document path provided in the update expression is invalid for update",
                     self.update_seed, UpdateExpression="SET absent.x = :one",
                     ExpressionAttributeValues={":one": n(1)}, exact=True)
        self.invalid("The document path provided in the update expression is invalid for update",
                     self.update_seed, UpdateExpression="SET str[0] = :one",
                     ExpressionAttributeValues={":one": n(1)}, exact=True)

    def test_overlapping_paths(self):
        self.invalid("Invalid UpdateExpression: Two document paths overlap with each other; must "
                     "remove or rewrite one of these paths; path one: [v], path two: [v]",
                     self.update_seed, UpdateExpression="SET v = :one REMOVE v",
                     ExpressionAttributeValues={":one": n(1)}, exact=True)
        self.invalid("Two document paths overlap with each other", self.update_seed,
                     UpdateExpression="SET m = :m, m.k = :one",
                     ExpressionAttributeValues={":one": n(1), ":m": {"M": {}}})
        self.invalid("Invalid ProjectionExpression: Two document paths overlap with each other; "
                     "must remove or rewrite one of these paths; path one: [m], path two: [m, k]",
                     self.ddb.get_item, TableName="tbl", Key={"pk": s("seed")},
                     ProjectionExpression="m, m.k", exact=True)

    def test_return_values_not_allowed(self):
        self.invalid("ReturnValues can only be ALL_OLD or NONE", self.ddb.put_item,
                     TableName="tbl", Item={"pk": s("rvbad")}, ReturnValues="ALL_NEW", exact=True)
        self.invalid("ReturnValues can only be ALL_OLD or NONE", self.ddb.delete_item,
                     TableName="tbl", Key={"pk": s("seed")}, ReturnValues="UPDATED_NEW", exact=True)
        self.assert_absent("rvbad")

    def test_condition_function_errors(self):
        self.invalid("Invalid ConditionExpression: Incorrect operand type for operator or "
                     "function; operator or function: begins_with, operand type: N",
                     self.ddb.put_item, TableName="tbl", Item=SEED,
                     ConditionExpression="begins_with(str, :n)",
                     ExpressionAttributeValues={":n": n(1)}, exact=True)
        self.invalid("Invalid ConditionExpression: Invalid function name; function: nosuch",
                     self.ddb.put_item, TableName="tbl", Item=SEED,
                     ConditionExpression="nosuch(str)", exact=True)


class QueryScanErrorsTest(ErrorsTestBase):
    def test_key_condition_errors(self):
        self.invalid("Query condition missed key schema element: pk", self.ddb.query,
                     TableName="comp", KeyConditionExpression="sk = :s",
                     ExpressionAttributeValues={":s": n(1)}, exact=True)
        self.invalid("Invalid operator used in KeyConditionExpression: OR", self.ddb.query,
                     TableName="comp", KeyConditionExpression="pk = :p OR sk = :s",
                     ExpressionAttributeValues={":p": s("seed"), ":s": n(1)}, exact=True)
        self.invalid("One or more parameter values were invalid: Condition parameter type does "
                     "not match schema type", self.ddb.query, TableName="comp",
                     KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": n(1)},
                     exact=True)
        self.invalid("Either the KeyConditions or KeyConditionExpression parameter must be "
                     "specified in the request.", self.ddb.query, TableName="comp", exact=True)

    def test_query_filter_on_a_key_attribute(self):
        self.invalid("Filter Expression can only contain non-primary key attributes: Primary "
                     "key attribute: sk", self.ddb.query, TableName="comp",
                     KeyConditionExpression="pk = :p", FilterExpression="sk > :s",
                     ExpressionAttributeValues={":p": s("seed"), ":s": n(0)}, exact=True)

    def test_invalid_filter_fails_even_on_empty_result(self):
        self.invalid("Invalid FilterExpression", self.ddb.query, TableName="comp",
                     KeyConditionExpression="pk = :p", FilterExpression="v = = :v",
                     ExpressionAttributeValues={":p": s("nobody"), ":v": n(1)})
        self.invalid("Invalid FilterExpression", self.ddb.scan, TableName="comps",
                     FilterExpression="v >")

    def test_bad_exclusive_start_key(self):
        self.invalid("The provided starting key is invalid: The provided key element does not "
                     "match the schema", self.ddb.query, TableName="comp",
                     KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": s("seed")},
                     ExclusiveStartKey={"pk": s("seed")}, exact=True)
        self.invalid("The provided starting key is invalid", self.ddb.scan, TableName="tbl",
                     ExclusiveStartKey={"nope": s("x")})

    def test_segment_errors(self):
        self.invalid("The TotalSegments parameter is required but was not present in the request "
                     "when Segment parameter is present", self.ddb.scan, TableName="tbl",
                     Segment=0, exact=True)
        self.invalid("The Segment parameter is zero-based and must be less than parameter "
                     "TotalSegments: Segment: 4 is out of bounds for TotalSegments: 4",
                     self.ddb.scan, TableName="tbl", Segment=4, TotalSegments=4, exact=True)


class ModelValidationTest(ErrorsTestBase):
    def test_missing_required_members(self):
        resp = self.invalid("Value null at 'tableName' failed to satisfy constraint: Member must "
                            "not be null", self.nv.get_item, Key={"pk": s("seed")})
        self.assertIn("1 validation error detected", resp["Error"]["Message"])
        resp = self.invalid("2 validation errors detected", self.nv.get_item)
        self.assertIn("Value null at 'tableName'", resp["Error"]["Message"])
        self.assertIn("Value null at 'key'", resp["Error"]["Message"])

    def test_table_name_constraints(self):
        self.invalid("Value 'ab' at 'tableName' failed to satisfy constraint: Member must have "
                     "length greater than or equal to 3", self.nv.get_item, TableName="ab",
                     Key={"pk": s("x")})
        self.invalid("at 'tableName' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: [a-zA-Z0-9_.-]+", self.nv.get_item,
                     TableName="bad name!", Key={"pk": s("x")})

    def test_batch_and_enum_constraints(self):
        self.invalid("Member must have length less than or equal to 25", self.nv.batch_write_item,
                     RequestItems={"tbl": [{"PutRequest": {"Item": {"pk": s(f"b{i}")}}}
                                         for i in range(26)]})
        resp = self.invalid("Value 'EVERYTHING' at 'returnValues' failed to satisfy constraint: "
                            "Member must satisfy enum value set: [", self.nv.update_item,
                            TableName="tbl", Key={"pk": s("seed")}, UpdateExpression="REMOVE zz",
                            ReturnValues="EVERYTHING")
        for value in ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"):
            self.assertIn(value, resp["Error"]["Message"])
        self.assert_absent("b0")


class ProtocolTest(ErrorsTestBase):
    """Raw HTTP: what the server says before any SDK parsing."""

    def raw(self, target: str, body: bytes,
            content_type: str = "application/x-amz-json-1.0"):
        headers = {"Content-Type": content_type, "X-Amz-Target": target}
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers=headers)
        SigV4Auth(Credentials(harness.ACCESS_KEY_ID, harness.SECRET_ACCESS_KEY), "dynamodb",
                  harness.REGION).add_auth(request)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def assert_crc32(self, headers, body):
        self.assertIn("x-amz-crc32", headers)
        self.assertEqual(int(headers["x-amz-crc32"]), zlib.crc32(body) & 0xFFFFFFFF)

    def assert_error(self, status, headers, body, code, message=None):
        self.assertEqual(status, 400, body)
        self.assert_crc32(headers, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/x-amz-json-1.0"),
                        headers)
        self.assertIn("x-amzn-requestid", headers)
        doc = json.loads(body)
        self.assertTrue(doc["__type"].endswith("#" + code), doc)
        if message is not None:
            self.assertIn(message, doc.get("message", doc.get("Message", "")))
        return doc

    def test_success_response_carries_correct_crc32(self):
        body = json.dumps({"TableName": "tbl", "Key": {"pk": {"S": "seed"}}}).encode()
        status, headers, data = self.raw(f"{TARGET}.GetItem", body)
        self.assertEqual(status, 200, data)
        self.assert_crc32(headers, data)
        self.assertEqual(json.loads(data)["Item"]["v"], {"N": "1"})
        self.assertIn("x-amzn-requestid", headers)
        # A large response too.
        self.ddb.put_item(TableName="tbl", Item={"pk": s("crc-big"), "d": s("é" * 100_000)})
        body = json.dumps({"TableName": "tbl", "Key": {"pk": {"S": "crc-big"}}}).encode()
        status, headers, data = self.raw(f"{TARGET}.GetItem", body)
        self.assertEqual(status, 200)
        self.assert_crc32(headers, data)

    def test_malformed_json(self):
        for body in (b'{"TableName": ', b"not json", b'{"TableName": "tbl",}'):
            with self.subTest(body=body):
                status, headers, data = self.raw(f"{TARGET}.GetItem", body)
                self.assert_error(status, headers, data, "SerializationException")

    def test_wrong_json_types(self):
        cases = [
            ({"TableName": 5, "Key": {"pk": {"S": "seed"}}}, "cannot be converted to String"),
            ({"TableName": {"a": 1}, "Key": {"pk": {"S": "seed"}}},
             "Start of structure or map found where not expected"),
            ({"TableName": "tbl", "Key": []}, None),
            ({"TableName": "tbl", "Key": {"pk": {"S": 5}}}, None),
            ({"TableName": "tbl", "Key": {"pk": {"S": "seed"}}, "ConsistentRead": "yes"}, None),
        ]
        for doc, message in cases:
            with self.subTest(doc=doc):
                status, headers, data = self.raw(f"{TARGET}.GetItem", json.dumps(doc).encode())
                self.assert_error(status, headers, data, "SerializationException", message)
        status, headers, data = self.raw(f"{TARGET}.PutItem", json.dumps(
            {"TableName": "tbl", "Item": {"pk": {"S": "wrongtype"}, "n": {"N": 5}}}).encode())
        self.assert_error(status, headers, data, "SerializationException")
        self.assertNotIn("Item", self.ddb.get_item(TableName="tbl", Key={"pk": s("wrongtype")}))

    def test_unknown_operation(self):
        status, headers, data = self.raw(f"{TARGET}.Frobnicate", b"{}")
        self.assert_error(status, headers, data, "UnknownOperationException")

    def test_validation_and_service_errors_over_raw_http(self):
        status, headers, data = self.raw(f"{TARGET}.GetItem", json.dumps(
            {"TableName": "nope", "Key": {"pk": {"S": "x"}}}).encode())
        doc = self.assert_error(status, headers, data, "ResourceNotFoundException",
                                "Requested resource not found")
        self.assertTrue(doc["__type"].startswith("com.amazonaws.dynamodb.v20120810#"), doc)
        status, headers, data = self.raw(f"{TARGET}.GetItem", json.dumps(
            {"TableName": "tbl", "Key": {"nope": {"S": "x"}}}).encode())
        self.assert_error(status, headers, data, "ValidationException",
                          "The provided key element does not match the schema")
        status, headers, data = self.raw(f"{TARGET}.PutItem", json.dumps(
            {"TableName": "tbl", "Item": SEED_JSON,
             "ConditionExpression": "attribute_not_exists(pk)"}).encode())
        self.assert_error(status, headers, data, "ConditionalCheckFailedException",
                          "The conditional request failed")

    def test_plain_json_content_type_is_accepted(self):
        body = json.dumps({"TableName": "tbl", "Key": {"pk": {"S": "seed"}}}).encode()
        status, headers, data = self.raw(f"{TARGET}.GetItem", body,
                                         content_type="application/json")
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)["Item"]["pk"], {"S": "seed"})


if __name__ == "__main__":
    unittest.main()
