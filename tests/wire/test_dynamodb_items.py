"""DynamoDB single-item operations over the wire: PutItem, GetItem, UpdateItem, DeleteItem.

Driven through the low-level boto3 client, the boto3 resource layer (dynamodb.Table with
boto3.dynamodb.conditions) and the AWS CLI. Every expectation is AWS DynamoDB's documented or
observed behaviour (spec: /work/shared/spec/aws-contracts.md section 2); when the server
disagrees, the server is wrong.
"""

from __future__ import annotations

import json
import re
import unittest
from decimal import Decimal

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary

import harness

SET_TYPES = ("SS", "NS", "BS")


def canon_av(av):
    """An AttributeValue with set members turned into frozensets (sets have no order)."""
    assert isinstance(av, dict) and len(av) == 1, av
    (kind, value), = av.items()
    if kind in SET_TYPES:
        return {kind: frozenset(value)}
    if kind == "M":
        return {"M": canon_item(value)}
    if kind == "L":
        return {"L": [canon_av(v) for v in value]}
    return {kind: value}


def canon_item(item):
    return {name: canon_av(value) for name, value in item.items()}


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


def error_code(ctx) -> str:
    return ctx.exception.response["Error"]["Code"]


def error_message(ctx) -> str:
    return ctx.exception.response["Error"]["Message"]


# An item holding every AttributeValue type, nested several levels deep.
EVERY_TYPE_ITEM = {
    "pk": {"S": "every-type"},
    "s": {"S": "héllo wörld ✓ \U0001F600"},
    "empty_s": {"S": ""},
    "n_int": {"N": "42"},
    "n_neg": {"N": "-17"},
    "n_dec": {"N": "3.14159"},
    "b": {"B": b"\x00\x01\xfe\xff"},
    "empty_b": {"B": b""},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "nul": {"NULL": True},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "empty_l": {"L": []},
    "empty_m": {"M": {}},
    "l": {"L": [
        {"S": "x"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"B": b"\x07"},
        {"L": [{"N": "2"}, {"L": [{"S": "deep"}]}]},
        {"M": {"k": {"S": "v"}, "inr": {"L": [{"SS": ["p", "q"]}]}}},
    ]},
    "m": {"M": {
        "level1": {"M": {"level2": {"M": {"level3": {"N": "3"},
                                           "list": {"L": [{"N": "1"}, {"M": {}}]}}}}},
        "ns": {"NS": ["10", "20"]},
        "with space": {"S": "ok"},
    }},
}


class ItemsTestBase(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.res = cls.resource("dynamodb")
        create_table(cls.ddb, "items", [("pk", "HASH")], [("pk", "S")])
        create_table(cls.ddb, "composite", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "N")])
        create_table(cls.ddb, "bin_keys", [("pk", "HASH")], [("pk", "B")])
        create_table(
            cls.ddb, "with_gsi", [("pk", "HASH")], [("pk", "S"), ("gk", "S")],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_gk",
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }])
        cls.items = cls.res.Table("items")
        cls.composite = cls.res.Table("composite")

    def get(self, pk, table="items", **kwargs):
        return self.ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True,
                                 **kwargs).get("Item")

    def put(self, item, table="items", **kwargs):
        return self.ddb.put_item(TableName=table, Item=item, **kwargs)


class PutGetDeleteTest(ItemsTestBase):
    def test_put_then_get_round_trips_every_attribute_type(self):
        self.assertEqual(self.put(EVERY_TYPE_ITEM)["ResponseMetadata"]["HTTPStatusCode"], 200)
        got = self.get("every-type")
        self.assertEqual(canon_item(got), canon_item(EVERY_TYPE_ITEM))
        # Binary comes back as the same raw bytes (base64 on the wire).
        self.assertEqual(got["b"]["B"], b"\x00\x01\xfe\xff")
        self.assertEqual(got["empty_b"]["B"], b"")

    def test_put_response_without_return_values_has_no_attributes(self):
        resp = self.put({"pk": {"S": "plain-put"}, "a": {"N": "1"}})
        self.assertNotIn("Attributes", resp)
        self.assertNotIn("ConsumedCapacity", resp)

    def test_get_missing_item_returns_no_item_key(self):
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "never-written"}})
        self.assertNotIn("Item", resp)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_put_replaces_whole_item(self):
        self.put({"pk": {"S": "replace"}, "a": {"S": "1"}, "b": {"S": "2"}})
        self.put({"pk": {"S": "replace"}, "c": {"S": "3"}})
        self.assertEqual(self.get("replace"), {"pk": {"S": "replace"}, "c": {"S": "3"}})

    def test_put_return_values_all_old(self):
        resp = self.put({"pk": {"S": "put-old"}, "v": {"N": "1"}}, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", resp)  # nothing was there before
        resp = self.put({"pk": {"S": "put-old"}, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
        self.assertEqual(resp["Attributes"], {"pk": {"S": "put-old"}, "v": {"N": "1"}})
        resp = self.put({"pk": {"S": "put-old"}, "v": {"N": "3"}}, ReturnValues="NONE")
        self.assertNotIn("Attributes", resp)
        self.assertEqual(self.get("put-old")["v"], {"N": "3"})

    def test_delete_item(self):
        self.put({"pk": {"S": "del"}, "v": {"SS": ["x"]}})
        resp = self.ddb.delete_item(TableName="items", Key={"pk": {"S": "del"}})
        self.assertNotIn("Attributes", resp)
        self.assertIsNone(self.get("del"))
        # Deleting a missing item is not an error.
        resp = self.ddb.delete_item(TableName="items", Key={"pk": {"S": "del"}},
                                    ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", resp)

    def test_delete_item_return_values_all_old(self):
        item = {"pk": {"S": "del-old"}, "m": {"M": {"a": {"L": [{"N": "1"}]}}}}
        self.put(item)
        resp = self.ddb.delete_item(TableName="items", Key={"pk": {"S": "del-old"}},
                                    ReturnValues="ALL_OLD")
        self.assertEqual(resp["Attributes"], item)
        self.assertIsNone(self.get("del-old"))

    def test_composite_key_items_are_distinct_per_sort_key(self):
        for sk in ("1", "2", "10"):
            self.put({"pk": {"S": "ck"}, "sk": {"N": sk}, "v": {"S": "v" + sk}}, table="composite")
        got = self.ddb.get_item(TableName="composite",
                                Key={"pk": {"S": "ck"}, "sk": {"N": "10"}})["Item"]
        self.assertEqual(got, {"pk": {"S": "ck"}, "sk": {"N": "10"}, "v": {"S": "v10"}})
        # A sort key given as 10.0 or 1E1 is the same number, hence the same item.
        got = self.ddb.get_item(TableName="composite",
                                Key={"pk": {"S": "ck"}, "sk": {"N": "1E1"}})["Item"]
        self.assertEqual(got["v"], {"S": "v10"})
        self.assertEqual(got["sk"], {"N": "10"})

    def test_binary_hash_key(self):
        key = {"pk": {"B": b"\x00\xff\x10"}}
        self.ddb.put_item(TableName="bin_keys", Item={**key, "v": {"S": "bin"}})
        got = self.ddb.get_item(TableName="bin_keys", Key=key)["Item"]
        self.assertEqual(got, {"pk": {"B": b"\x00\xff\x10"}, "v": {"S": "bin"}})
        self.assertNotIn("Item", self.ddb.get_item(TableName="bin_keys",
                                                   Key={"pk": {"B": b"\x00\xff"}}))

    def test_empty_string_and_binary_allowed_outside_keys(self):
        self.put({"pk": {"S": "empties"}, "s": {"S": ""}, "b": {"B": b""},
                  "m": {"M": {"e": {"S": ""}}}, "l": {"L": [{"S": ""}]}})
        got = self.get("empties")
        self.assertEqual(got["s"], {"S": ""})
        self.assertEqual(got["b"], {"B": b""})
        self.assertEqual(got["m"], {"M": {"e": {"S": ""}}})
        self.assertEqual(got["l"], {"L": [{"S": ""}]})


class NumbersTest(ItemsTestBase):
    CANONICAL = [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("0.10", "0.1"),
        ("-1.500", "-1.5"),
        ("007", "7"),
        ("0.0", "0"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("-0.12345678901234567890123456789012345678", "-0.12345678901234567890123456789012345678"),
        ("1234567890.1234567890123456789012345678", "1234567890.1234567890123456789012345678"),
        ("5E-3", "0.005"),
    ]

    def test_numbers_are_returned_in_canonical_form(self):
        for i, (stored, expected) in enumerate(self.CANONICAL):
            with self.subTest(stored=stored):
                self.put({"pk": {"S": f"num-{i}"}, "n": {"N": stored}, "ns": {"NS": [stored]}})
                got = self.get(f"num-{i}")
                self.assertEqual(got["n"], {"N": expected})
                self.assertEqual(got["ns"], {"NS": [expected]})

    def test_extreme_magnitudes_are_accepted_and_exact(self):
        extremes = ["9.9999999999999999999999999999999999999E+125",
                    "-9.9999999999999999999999999999999999999E+125",
                    "1E-130", "-1E-130", "1E+125"]
        for i, value in enumerate(extremes):
            with self.subTest(value=value):
                self.put({"pk": {"S": f"extreme-{i}"}, "n": {"N": value}})
                got = self.get(f"extreme-{i}")["n"]["N"]
                self.assertEqual(Decimal(got), Decimal(value))

    def test_resource_layer_numbers_are_exact_decimals(self):
        self.items.put_item(Item={"pk": "dec", "a": Decimal("1.50"), "big":
                                  Decimal("12345678901234567890123456789012345678"),
                                  "small": Decimal("0.2")})
        item = self.items.get_item(Key={"pk": "dec"}, ConsistentRead=True)["Item"]
        self.assertEqual(item["a"], Decimal("1.5"))
        self.assertEqual(str(item["a"]), "1.5")
        self.assertEqual(item["big"], Decimal("12345678901234567890123456789012345678"))

    def test_add_decimal_arithmetic_is_exact(self):
        self.items.put_item(Item={"pk": "exact", "n": Decimal("0.2")})
        resp = self.items.update_item(Key={"pk": "exact"}, UpdateExpression="ADD n :d",
                                      ExpressionAttributeValues={":d": Decimal("0.1")},
                                      ReturnValues="UPDATED_NEW")
        self.assertEqual(resp["Attributes"], {"n": Decimal("0.3")})
        self.assertEqual(str(resp["Attributes"]["n"]), "0.3")

    def test_set_arithmetic_is_exact_at_38_digits(self):
        self.put({"pk": {"S": "arith"}, "a": {"N": "12345678901234567890123456789012345678"},
                  "b": {"N": "1"}, "c": {"N": "0.9"}})
        resp = self.ddb.update_item(
            TableName="items", Key={"pk": {"S": "arith"}},
            UpdateExpression="SET a = a + :one, b = b - c, d = :x - :y",
            ExpressionAttributeValues={":one": {"N": "1"}, ":x": {"N": "0.3"},
                                       ":y": {"N": "0.1"}},
            ReturnValues="UPDATED_NEW")
        self.assertEqual(resp["Attributes"], {
            "a": {"N": "12345678901234567890123456789012345679"},
            "b": {"N": "0.1"},
            "d": {"N": "0.2"},
        })

    def test_add_to_negative_and_zero(self):
        self.put({"pk": {"S": "neg"}, "n": {"N": "-5"}})
        resp = self.ddb.update_item(TableName="items", Key={"pk": {"S": "neg"}},
                                    UpdateExpression="ADD n :five",
                                    ExpressionAttributeValues={":five": {"N": "5"}},
                                    ReturnValues="ALL_NEW")
        self.assertEqual(resp["Attributes"]["n"], {"N": "0"})


class ResourceLayerTest(ItemsTestBase):
    def test_resource_round_trip_python_types(self):
        item = {
            "pk": "res-1",
            "s": "text",
            "n": Decimal("10"),
            "f": Decimal("-2.75"),
            "b": b"\x01\x02",
            "t": True,
            "nul": None,
            "ss": {"x", "y"},
            "ns": {Decimal("1"), Decimal("2.5")},
            "bs": {b"\x00", b"\xff"},
            "l": ["a", Decimal("1"), [Decimal("2")], {"k": "v"}],
            "m": {"nested": {"deeper": ["z"]}, "flag": False},
        }
        self.assertEqual(self.items.put_item(Item=item)["ResponseMetadata"]["HTTPStatusCode"],
                         200)
        got = self.items.get_item(Key={"pk": "res-1"}, ConsistentRead=True)["Item"]
        self.assertEqual(got, item)
        self.assertIsInstance(got["b"], Binary)
        self.assertEqual(got["b"].value, b"\x01\x02")
        self.assertIsInstance(got["ns"], set)

    def test_resource_update_delete_with_conditions(self):
        self.items.put_item(Item={"pk": "res-2", "n": 5, "s": "hello", "tags": {"a", "b"}})
        resp = self.items.update_item(
            Key={"pk": "res-2"},
            UpdateExpression="SET n = n + :inc, s = :s ADD tags :t",
            ConditionExpression=(Attr("n").gt(3) & Attr("s").begins_with("he")
                                 & Attr("tags").contains("a") & Attr("s").size().eq(5)),
            ExpressionAttributeValues={":inc": 2, ":s": "bye", ":t": {"c"}},
            ReturnValues="ALL_NEW")
        self.assertEqual(resp["Attributes"],
                         {"pk": "res-2", "n": Decimal(7), "s": "bye", "tags": {"a", "b", "c"}})

        failed = self.res.meta.client.exceptions.ConditionalCheckFailedException
        with self.assertRaises(failed) as ctx:
            self.items.update_item(Key={"pk": "res-2"}, UpdateExpression="SET s = :s",
                                   ConditionExpression=Attr("n").between(8, 20) | Attr("s").eq("x"),
                                   ExpressionAttributeValues={":s": "changed"})
        self.assertEqual(error_message(ctx), "The conditional request failed")
        self.assertEqual(self.items.get_item(Key={"pk": "res-2"},
                                             ConsistentRead=True)["Item"]["s"], "bye")

        with self.assertRaises(failed):
            self.items.delete_item(Key={"pk": "res-2"}, ConditionExpression=~Attr("n").eq(7))
        resp = self.items.delete_item(
            Key={"pk": "res-2"},
            ConditionExpression=Attr("n").is_in([6, 7]) & Attr("n").attribute_type("N")
            & Attr("missing").not_exists() & Attr("s").exists() & Attr("s").ne("x"),
            ReturnValues="ALL_OLD")
        self.assertEqual(resp["Attributes"]["n"], Decimal(7))
        self.assertNotIn("Item", self.items.get_item(Key={"pk": "res-2"}, ConsistentRead=True))

    def test_resource_put_if_not_exists(self):
        self.items.put_item(Item={"pk": "res-3", "v": 1},
                            ConditionExpression=Attr("pk").not_exists())
        # The resource has its own client (own session), hence its own exception classes.
        failed = self.res.meta.client.exceptions.ConditionalCheckFailedException
        with self.assertRaises(failed):
            self.items.put_item(Item={"pk": "res-3", "v": 2},
                                ConditionExpression=Attr("pk").not_exists())
        self.assertEqual(self.items.get_item(Key={"pk": "res-3"})["Item"]["v"], 1)

    def test_resource_query_with_key_conditions(self):
        for sk in (1, 2, 3):
            self.composite.put_item(Item={"pk": "res-q", "sk": sk, "v": f"v{sk}"})
        resp = self.composite.query(KeyConditionExpression=Key("pk").eq("res-q") & Key("sk").gte(2),
                                    FilterExpression=Attr("v").ne("v3"))
        self.assertEqual(resp["Items"], [{"pk": "res-q", "sk": Decimal(2), "v": "v2"}])
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (1, 2))


class ReturnValuesTest(ItemsTestBase):
    OLD = {"pk": {"S": "rv"}, "a": {"N": "1"}, "b": {"S": "x"}, "c": {"L": [{"N": "1"}]}}

    def run_update(self, pk, return_values):
        self.put({**self.OLD, "pk": {"S": pk}})
        return self.ddb.update_item(
            TableName="items", Key={"pk": {"S": pk}},
            UpdateExpression="SET a = a + :one, d = :d REMOVE b",
            ExpressionAttributeValues={":one": {"N": "1"}, ":d": {"S": "new"}},
            ReturnValues=return_values)

    def test_update_return_values_none(self):
        self.assertNotIn("Attributes", self.run_update("rv-none", "NONE"))

    def test_update_return_values_all_old(self):
        resp = self.run_update("rv-all-old", "ALL_OLD")
        self.assertEqual(resp["Attributes"], {**self.OLD, "pk": {"S": "rv-all-old"}})

    def test_update_return_values_updated_old(self):
        resp = self.run_update("rv-upd-old", "UPDATED_OLD")
        # d did not exist before, so it has no old value; the key is never "updated".
        self.assertEqual(resp["Attributes"], {"a": {"N": "1"}, "b": {"S": "x"}})

    def test_update_return_values_all_new(self):
        resp = self.run_update("rv-all-new", "ALL_NEW")
        self.assertEqual(resp["Attributes"], {"pk": {"S": "rv-all-new"}, "a": {"N": "2"},
                                              "c": {"L": [{"N": "1"}]}, "d": {"S": "new"}})

    def test_update_return_values_updated_new(self):
        resp = self.run_update("rv-upd-new", "UPDATED_NEW")
        # b was removed, so it has no new value.
        self.assertEqual(resp["Attributes"], {"a": {"N": "2"}, "d": {"S": "new"}})

    def test_update_of_missing_item_creates_it(self):
        resp = self.ddb.update_item(TableName="items", Key={"pk": {"S": "upsert"}},
                                    UpdateExpression="SET v = :v",
                                    ExpressionAttributeValues={":v": {"N": "1"}},
                                    ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", resp)
        self.assertEqual(self.get("upsert"), {"pk": {"S": "upsert"}, "v": {"N": "1"}})
        resp = self.ddb.update_item(TableName="items", Key={"pk": {"S": "upsert2"}},
                                    UpdateExpression="SET v = :v",
                                    ExpressionAttributeValues={":v": {"N": "1"}},
                                    ReturnValues="ALL_NEW")
        self.assertEqual(resp["Attributes"], {"pk": {"S": "upsert2"}, "v": {"N": "1"}})


class ConditionExpressionTest(ItemsTestBase):
    FIXTURE = {
        "pk": {"S": "cond"},
        "n": {"N": "5"},
        "s": {"S": "hello world"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2", "3"]},
        "l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "1"}}}]},
        "m": {"M": {"k": {"S": "v"}, "nested": {"M": {"z": {"N": "0"}}}}},
        "b": {"B": b"\x01\x02"},
        "t": {"BOOL": True},
        "nul": {"NULL": True},
        "name": {"S": "reserved"},
        "a.b": {"S": "dotted"},
    }

    VALUES = {
        ":zero": {"N": "0"}, ":one": {"N": "1"}, ":two": {"N": "2"}, ":three": {"N": "3"},
        ":four": {"N": "4"}, ":five": {"N": "5"}, ":six": {"N": "6"}, ":nine": {"N": "9"},
        ":eleven": {"N": "11"}, ":five_dec": {"N": "5.000"},
        ":str": {"S": "hello world"}, ":hellp": {"S": "hellp"}, ":hel": {"S": "hel"},
        ":world": {"S": "world"}, ":wor": {"S": "o wor"}, ":nope": {"S": "nope"},
        ":v": {"S": "v"}, ":a": {"S": "a"}, ":zz": {"S": "zz"}, ":twos": {"S": "two"},
        ":bin": {"B": b"\x01\x02"}, ":bin_hi": {"B": b"\x80"}, ":bin_pre": {"B": b"\x01"},
        ":T_N": {"S": "N"}, ":T_S": {"S": "S"}, ":T_SS": {"S": "SS"}, ":T_NS": {"S": "NS"},
        ":T_L": {"S": "L"}, ":T_M": {"S": "M"}, ":T_B": {"S": "B"}, ":T_BOOL": {"S": "BOOL"},
        ":T_NULL": {"S": "NULL"}, ":true": {"BOOL": True}, ":reserved": {"S": "reserved"},
        ":dotted": {"S": "dotted"},
    }

    # (expression, expected truth)
    CASES = [
        ("n = :five", True), ("n = :five_dec", True), ("n = :six", False),
        ("n <> :six", True), ("n <> :five", False),
        ("n < :six", True), ("n < :five", False), ("n <= :five", True), ("n <= :four", False),
        ("n > :four", True), ("n > :five", False), ("n >= :five", True), ("n >= :six", False),
        ("s = :str", True), ("s < :hellp", True), ("s > :hellp", False),
        ("b = :bin", True), ("b < :bin_hi", True),  # binary compares unsigned
        ("t = :true", True),
        # Comparing different types is false, not an error.
        ("n < :str", False), ("n = :str", False), ("s > :five", False),
        ("n > m.nested.z", True), ("m.nested.z < n", True),
        ("attribute_exists(n)", True), ("attribute_exists(absent)", False),
        ("attribute_not_exists(absent)", True), ("attribute_not_exists(n)", False),
        ("attribute_exists(m.nested.z)", True), ("attribute_exists(m.nested.q)", False),
        ("attribute_exists(l[2].x)", True), ("attribute_exists(l[5])", False),
        ("attribute_exists(nul)", True),
        ("attribute_type(n, :T_N)", True), ("attribute_type(n, :T_S)", False),
        ("attribute_type(s, :T_S)", True), ("attribute_type(ss, :T_SS)", True),
        ("attribute_type(ns, :T_NS)", True), ("attribute_type(l, :T_L)", True),
        ("attribute_type(m, :T_M)", True), ("attribute_type(b, :T_B)", True),
        ("attribute_type(t, :T_BOOL)", True), ("attribute_type(nul, :T_NULL)", True),
        ("attribute_type(m.nested, :T_M)", True), ("attribute_type(absent, :T_S)", False),
        ("begins_with(s, :hel)", True), ("begins_with(s, :world)", False),
        ("begins_with(b, :bin_pre)", True), ("begins_with(n, :hel)", False),
        ("contains(s, :wor)", True), ("contains(s, :nope)", False),
        ("contains(ss, :a)", True), ("contains(ss, :zz)", False),
        ("contains(ns, :two)", True), ("contains(ns, :nine)", False),
        ("contains(l, :twos)", True), ("contains(l, :one)", True), ("contains(l, :six)", False),
        ("size(s) = :eleven", True), ("size(ss) = :two", True), ("size(ns) = :three", True),
        ("size(l) = :three", True), ("size(m) = :two", True), ("size(b) = :two", True),
        ("size(m.nested) = :one", True), ("size(s) > :eleven", False),
        ("n IN (:four, :five, :six)", True), ("n IN (:four, :six)", False),
        ("s IN (:str)", True),
        ("n BETWEEN :four AND :six", True), ("n BETWEEN :five AND :five", True),
        ("n BETWEEN :six AND :nine", False), ("s BETWEEN :hel AND :hellp", True),
        ("NOT n = :five", False), ("n = m.nested.z", False), ("NOT attribute_exists(absent)", True),
        ("m.k = :v", True), ("l[1] = :twos", True), ("l[0] = :one", True),
        ("m.nested.z = :zero", True), ("l[2].x = :one", True),
        # AND binds tighter than OR; NOT tighter than AND; parentheses override.
        ("n = :six OR n = :five AND s = :nope", False),
        ("n = :five OR n = :six AND s = :nope", True),
        ("(n = :five OR n = :six) AND s = :nope", False),
        ("(n = :six OR n = :five) AND attribute_exists(s)", True),
        ("NOT n = :six AND n = :five", True),
        ("NOT (n = :five AND s = :nope)", True),
        ("NOT (n = :five OR s = :nope)", False),
        ("attribute_exists(n) AND NOT attribute_exists(absent) AND size(l) < n", True),
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb.put_item(TableName="items", Item=cls.FIXTURE)

    def test_every_comparator_and_function(self):
        for expression, expected in self.CASES:
            with self.subTest(expression=expression):
                # Placeholders whose name prefixes another (":five" in ":five_dec") would be
                # picked up wrongly by a substring test: match whole tokens instead.
                used = set(re.findall(r":[A-Za-z_0-9]+", expression))
                values = {p: self.VALUES[p] for p in used}
                kwargs = {"ExpressionAttributeValues": values} if values else {}
                try:
                    self.ddb.put_item(TableName="items", Item=self.FIXTURE,
                                      ConditionExpression=expression, **kwargs)
                    got = True
                except self.ddb.exceptions.ConditionalCheckFailedException:
                    got = False
                self.assertEqual(got, expected, expression)

    def test_attribute_names_placeholders(self):
        cases = [
            ("#nm = :reserved", {"#nm": "name"}, True),
            ("#dotted = :dotted", {"#dotted": "a.b"}, True),
            ("#m.#k = :v", {"#m": "m", "#k": "k"}, True),
            ("#l[1] = :twos", {"#l": "l"}, True),
            ("attribute_exists(#a)", {"#a": "absent"}, False),
        ]
        for expression, names, expected in cases:
            with self.subTest(expression=expression):
                used = set(re.findall(r":[A-Za-z_0-9]+", expression))
                values = {p: self.VALUES[p] for p in used}
                try:
                    self.ddb.put_item(
                        TableName="items", Item=self.FIXTURE, ConditionExpression=expression,
                        ExpressionAttributeNames=names,
                        **({"ExpressionAttributeValues": values} if values else {}))
                    got = True
                except self.ddb.exceptions.ConditionalCheckFailedException:
                    got = False
                self.assertEqual(got, expected)

    def test_condition_on_missing_item(self):
        key = {"pk": {"S": "cond-missing"}}
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException) as ctx:
            self.ddb.update_item(TableName="items", Key=key, UpdateExpression="SET v = :v",
                                 ConditionExpression="attribute_exists(pk)",
                                 ExpressionAttributeValues={":v": {"N": "1"}},
                                 ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertNotIn("Item", ctx.exception.response)  # there was no old item
        self.assertIsNone(self.get("cond-missing"))
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.delete_item(TableName="items", Key=key,
                                 ConditionExpression="attribute_exists(pk)")
        self.ddb.put_item(TableName="items", Item={**key, "v": {"N": "1"}},
                          ConditionExpression="attribute_not_exists(pk)")
        self.assertEqual(self.get("cond-missing")["v"], {"N": "1"})

    def test_failed_condition_changes_nothing_and_returns_old_item(self):
        item = {"pk": {"S": "cond-fail"}, "v": {"N": "1"}, "l": {"L": [{"S": "a"}]}}
        self.put(item)
        calls = [
            lambda **kw: self.ddb.put_item(TableName="items", Item={**item, "v": {"N": "2"}},
                                           **kw),
            lambda **kw: self.ddb.update_item(
                TableName="items", Key={"pk": item["pk"]}, UpdateExpression="REMOVE l", **kw),
            lambda **kw: self.ddb.delete_item(TableName="items", Key={"pk": item["pk"]}, **kw),
        ]
        for call in calls:
            with self.subTest(call=call):
                with self.assertRaises(
                        self.ddb.exceptions.ConditionalCheckFailedException) as ctx:
                    call(ConditionExpression="v = :two",
                         ExpressionAttributeValues={":two": {"N": "2"}},
                         ReturnValuesOnConditionCheckFailure="ALL_OLD")
                self.assertEqual(error_code(ctx), "ConditionalCheckFailedException")
                self.assertEqual(error_message(ctx), "The conditional request failed")
                self.assertEqual(ctx.exception.response.get("Item"), item)
                self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 400)
                self.assertEqual(self.get("cond-fail"), item)
        # Without ReturnValuesOnConditionCheckFailure there is no Item in the error.
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException) as ctx:
            self.ddb.delete_item(TableName="items", Key={"pk": item["pk"]},
                                 ConditionExpression="attribute_not_exists(v)")
        self.assertNotIn("Item", ctx.exception.response)
        self.assertEqual(self.get("cond-fail"), item)


class UpdateExpressionTest(ItemsTestBase):
    def update(self, pk, expression, values=None, names=None, **kwargs):
        extra = {}
        if values:
            extra["ExpressionAttributeValues"] = values
        if names:
            extra["ExpressionAttributeNames"] = names
        return self.ddb.update_item(TableName="items", Key={"pk": {"S": pk}},
                                    UpdateExpression=expression, ReturnValues="ALL_NEW",
                                    **extra, **kwargs)["Attributes"]

    def test_set_plus_minus_uses_values_before_the_update(self):
        self.put({"pk": {"S": "u-arith"}, "a": {"N": "10"}, "b": {"N": "3"}})
        got = self.update("u-arith", "SET a = :v, c = a + b, d = a - :one, e = :one + :one",
                          {":v": {"N": "100"}, ":one": {"N": "1"}})
        self.assertEqual(got, {"pk": {"S": "u-arith"}, "a": {"N": "100"}, "b": {"N": "3"},
                               "c": {"N": "13"}, "d": {"N": "9"}, "e": {"N": "2"}})

    def test_if_not_exists(self):
        self.put({"pk": {"S": "u-ine"}, "present": {"N": "1"}})
        got = self.update("u-ine", "SET present = if_not_exists(present, :d), "
                                   "absent = if_not_exists(absent, :d), "
                                   "cnt = if_not_exists(cnt, :zero) + :one",
                          {":d": {"N": "42"}, ":zero": {"N": "0"}, ":one": {"N": "1"}})
        self.assertEqual(got["present"], {"N": "1"})
        self.assertEqual(got["absent"], {"N": "42"})
        self.assertEqual(got["cnt"], {"N": "1"})

    def test_list_append(self):
        self.put({"pk": {"S": "u-la"}, "l": {"L": [{"S": "b"}]}})
        got = self.update("u-la", "SET l = list_append(:front, l), "
                                  "l2 = list_append(if_not_exists(l2, :empty), :more)",
                          {":front": {"L": [{"S": "a"}]}, ":empty": {"L": []},
                           ":more": {"L": [{"N": "1"}, {"N": "2"}]}})
        self.assertEqual(got["l"], {"L": [{"S": "a"}, {"S": "b"}]})
        self.assertEqual(got["l2"], {"L": [{"N": "1"}, {"N": "2"}]})
        got = self.update("u-la", "SET l = list_append(l, :more)",
                          {":more": {"L": [{"S": "c"}]}})
        self.assertEqual(got["l"], {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]})

    def test_nested_paths_and_list_indexes(self):
        self.put({"pk": {"S": "u-nested"},
                  "m": {"M": {"k": {"S": "v"}, "inr": {"M": {"z": {"N": "1"}}}}},
                  "l": {"L": [{"S": "a"}, {"S": "b"}, {"M": {"x": {"N": "1"}}}]}})
        got = self.update(
            "u-nested",
            "SET m.k2 = :v2, m.inr.z = m.inr.z + :one, l[0] = :first, l[2].y = :v2, "
            "#mm.#dot = :v2",
            {":v2": {"S": "two"}, ":one": {"N": "1"}, ":first": {"S": "A"}},
            names={"#mm": "m", "#dot": "x.y"})
        self.assertEqual(got["m"], {"M": {"k": {"S": "v"}, "k2": {"S": "two"},
                                          "inr": {"M": {"z": {"N": "2"}}},
                                          "x.y": {"S": "two"}}})
        self.assertEqual(got["l"], {"L": [{"S": "A"}, {"S": "b"},
                                          {"M": {"x": {"N": "1"}, "y": {"S": "two"}}}]})

    def test_set_list_index_past_the_end_appends(self):
        self.put({"pk": {"S": "u-past"}, "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})
        got = self.update("u-past", "SET l[10] = :v", {":v": {"S": "end"}})
        self.assertEqual(got["l"], {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"S": "end"}]})

    def test_remove_attributes_nested_keys_and_list_elements(self):
        self.put({"pk": {"S": "u-rm"}, "a": {"S": "x"}, "keep": {"S": "y"},
                  "m": {"M": {"k": {"S": "v"}, "k2": {"S": "w"}}},
                  "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}})
        # Indexes refer to the list before the update; the rest shift down.
        got = self.update("u-rm", "REMOVE a, m.k, l[0], l[2], never_there")
        self.assertEqual(got, {"pk": {"S": "u-rm"}, "keep": {"S": "y"},
                               "m": {"M": {"k2": {"S": "w"}}},
                               "l": {"L": [{"S": "b"}, {"S": "d"}]}})
        got = self.update("u-rm", "REMOVE l[0]")
        self.assertEqual(got["l"], {"L": [{"S": "d"}]})
        # Removing an index past the end is a no-op.
        got = self.update("u-rm", "REMOVE l[7]")
        self.assertEqual(got["l"], {"L": [{"S": "d"}]})

    def test_add_numbers_and_sets(self):
        self.put({"pk": {"S": "u-add"}, "n": {"N": "5"}, "ss": {"SS": ["a"]},
                  "ns": {"NS": ["1"]}})
        got = self.update("u-add", "ADD n :three, fresh :three, ss :ss, ns :ns, newset :bs",
                          {":three": {"N": "3"}, ":ss": {"SS": ["a", "b"]},
                           ":ns": {"NS": ["2", "1"]}, ":bs": {"BS": [b"\x01"]}})
        self.assertEqual(canon_item(got), canon_item({
            "pk": {"S": "u-add"}, "n": {"N": "8"}, "fresh": {"N": "3"},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "newset": {"BS": [b"\x01"]}}))
        got = self.update("u-add", "ADD n :neg", {":neg": {"N": "-10"}})
        self.assertEqual(got["n"], {"N": "-2"})

    def test_add_creates_missing_item(self):
        got = self.update("u-add-new", "ADD cnt :one", {":one": {"N": "1"}})
        self.assertEqual(got, {"pk": {"S": "u-add-new"}, "cnt": {"N": "1"}})

    def test_delete_from_sets(self):
        self.put({"pk": {"S": "u-del"}, "ss": {"SS": ["a", "b", "c"]}, "ns": {"NS": ["1", "2"]},
                  "bs": {"BS": [b"\x01"]}})
        got = self.update("u-del", "DELETE ss :ab, ns :nine, never :ab",
                          {":ab": {"SS": ["a", "b"]}, ":nine": {"NS": ["9"]}})
        self.assertEqual(got["ss"], {"SS": ["c"]})
        self.assertEqual(canon_av(got["ns"]), {"NS": frozenset(["1", "2"])})
        self.assertNotIn("never", got)
        # Deleting every member removes the attribute: sets are never empty.
        got = self.update("u-del", "DELETE ss :c, bs :b1",
                          {":c": {"SS": ["c"]}, ":b1": {"BS": [b"\x01"]}})
        self.assertEqual(got, {"pk": {"S": "u-del"}, "ns": got["ns"]})
        self.assertNotIn("ss", self.get("u-del"))

    def test_all_four_clauses_in_one_expression(self):
        self.put({"pk": {"S": "u-all"}, "gone": {"S": "x"}, "cnt": {"N": "1"},
                  "tags": {"SS": ["a", "b"]}})
        got = self.update("u-all", "SET v = :v REMOVE gone ADD cnt :one DELETE tags :a",
                          {":v": {"S": "set"}, ":one": {"N": "1"}, ":a": {"SS": ["a"]}})
        self.assertEqual(got, {"pk": {"S": "u-all"}, "v": {"S": "set"}, "cnt": {"N": "2"},
                               "tags": {"SS": ["b"]}})

    def test_resource_layer_update_returns_python_values(self):
        self.items.put_item(Item={"pk": "u-res", "l": ["a"], "m": {"c": 1}})
        resp = self.items.update_item(
            Key={"pk": "u-res"},
            UpdateExpression="SET l = list_append(l, :b), m.c = m.c + :one, m.d = :s",
            ExpressionAttributeValues={":b": ["b"], ":one": 1, ":s": {"x", "y"}},
            ReturnValues="ALL_NEW")
        self.assertEqual(resp["Attributes"],
                         {"pk": "u-res", "l": ["a", "b"], "m": {"c": 2, "d": {"x", "y"}}})


class ProjectionTest(ItemsTestBase):
    ITEM = {
        "pk": {"S": "proj"},
        "a": {"S": "A"},
        "name": {"S": "reserved word"},
        "m": {"M": {"nested": {"M": {"z": {"N": "0"}, "y": {"N": "1"}}}, "other": {"S": "o"}}},
        "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"M": {"x": {"N": "1"}, "w": {"N": "2"}}},
                    {"S": "l3"}]},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb.put_item(TableName="items", Item=cls.ITEM)

    def test_projection_of_nested_paths_and_list_indexes(self):
        got = self.get("proj", ProjectionExpression="a, m.nested.z, l[1], l[2].x, #n",
                       ExpressionAttributeNames={"#n": "name"})
        self.assertEqual(got, {
            "a": {"S": "A"},
            "name": {"S": "reserved word"},
            "m": {"M": {"nested": {"M": {"z": {"N": "0"}}}}},
            "l": {"L": [{"S": "l1"}, {"M": {"x": {"N": "1"}}}]},
        })

    def test_projection_keeps_list_order_and_skips_missing(self):
        got = self.get("proj", ProjectionExpression="l[3], l[0], l[9], absent, m.nope")
        self.assertEqual(got, {"l": {"L": [{"S": "l0"}, {"S": "l3"}]}})

    def test_projection_of_only_missing_attributes_returns_empty_item(self):
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "proj"}},
                                 ProjectionExpression="absent")
        self.assertEqual(resp["Item"], {})

    def test_projection_includes_key_only_when_asked(self):
        self.assertEqual(self.get("proj", ProjectionExpression="a"), {"a": {"S": "A"}})
        self.assertEqual(self.get("proj", ProjectionExpression="pk, a"),
                         {"pk": {"S": "proj"}, "a": {"S": "A"}})

    def test_resource_layer_projection(self):
        got = self.items.get_item(Key={"pk": "proj"}, ProjectionExpression="m.nested.y, a")
        self.assertEqual(got["Item"], {"a": "A", "m": {"nested": {"y": Decimal(1)}}})


class ConsumedCapacityTest(ItemsTestBase):
    def assert_capacity(self, resp, table, units):
        cc = resp["ConsumedCapacity"]
        self.assertEqual(cc["TableName"], table)
        self.assertEqual(cc["CapacityUnits"], units)

    def test_write_capacity_total(self):
        resp = self.put({"pk": {"S": "cap-1"}, "v": {"S": "x"}}, ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 1.0)
        # 1 WCU per started KB: a ~2.5 KB item costs 3.
        resp = self.put({"pk": {"S": "cap-2"}, "v": {"S": "x" * 2500}},
                        ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 3.0)
        resp = self.ddb.update_item(TableName="items", Key={"pk": {"S": "cap-1"}},
                                    UpdateExpression="SET w = :w",
                                    ExpressionAttributeValues={":w": {"N": "1"}},
                                    ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 1.0)
        resp = self.ddb.delete_item(TableName="items", Key={"pk": {"S": "cap-1"}},
                                    ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 1.0)

    def test_read_capacity_total(self):
        self.put({"pk": {"S": "cap-r"}, "v": {"S": "x" * 9000}})
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "cap-r"}},
                                 ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 1.5)  # 3 x 4 KB, eventually consistent: x0.5
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "cap-r"}},
                                 ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 3.0)
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "cap-none"}},
                                 ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "items", 1.0)  # a miss still costs one read
        resp = self.ddb.get_item(TableName="items", Key={"pk": {"S": "cap-r"}},
                                 ReturnConsumedCapacity="NONE")
        self.assertNotIn("ConsumedCapacity", resp)

    def test_indexes_capacity_breaks_down_per_index(self):
        resp = self.ddb.put_item(TableName="with_gsi",
                                 Item={"pk": {"S": "cap-gsi"}, "gk": {"S": "g"}},
                                 ReturnConsumedCapacity="INDEXES")
        cc = resp["ConsumedCapacity"]
        self.assertEqual(cc["TableName"], "with_gsi")
        self.assertEqual(cc["CapacityUnits"], 2.0)
        self.assertEqual(cc["Table"]["CapacityUnits"], 1.0)
        self.assertEqual(set(cc["GlobalSecondaryIndexes"]), {"by_gk"})
        self.assertEqual(cc["GlobalSecondaryIndexes"]["by_gk"]["CapacityUnits"], 1.0)
        # An item without the index key is not written to the index.
        resp = self.ddb.put_item(TableName="with_gsi", Item={"pk": {"S": "cap-gsi2"}},
                                 ReturnConsumedCapacity="TOTAL")
        self.assert_capacity(resp, "with_gsi", 1.0)


class LegacyParametersTest(ItemsTestBase):
    def test_expected_on_put(self):
        self.put({"pk": {"S": "leg-1"}, "a": {"N": "1"}, "s": {"S": "abc"}})
        new = {"pk": {"S": "leg-1"}, "a": {"N": "2"}, "s": {"S": "abc"}}
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.put(new, Expected={"a": {"Exists": False}})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.put(new, Expected={"a": {"Value": {"N": "9"}}})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.put(new, Expected={"a": {"ComparisonOperator": "GT",
                                          "AttributeValueList": [{"N": "1"}]},
                                    "s": {"ComparisonOperator": "BEGINS_WITH",
                                          "AttributeValueList": [{"S": "ab"}]}})
        self.assertEqual(self.get("leg-1")["a"], {"N": "1"})
        self.put(new, Expected={"a": {"Value": {"N": "1"}, "Exists": True}})
        self.assertEqual(self.get("leg-1")["a"], {"N": "2"})
        self.put(new, Expected={"a": {"ComparisonOperator": "GT",
                                      "AttributeValueList": [{"N": "9"}]},
                                "s": {"ComparisonOperator": "BEGINS_WITH",
                                      "AttributeValueList": [{"S": "ab"}]}},
                 ConditionalOperator="OR")
        self.put(new, Expected={
            "missing": {"ComparisonOperator": "NULL"},
            "a": {"ComparisonOperator": "NOT_NULL"},
            "s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "bc"}]},
            "pk": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"},
                                                                      {"S": "leg-1"}]}})
        self.put(new, Expected={"a": {"ComparisonOperator": "BETWEEN",
                                      "AttributeValueList": [{"N": "1"}, {"N": "2"}]},
                                "s": {"ComparisonOperator": "NOT_CONTAINS",
                                      "AttributeValueList": [{"S": "zz"}]}})

    def test_expected_on_delete(self):
        self.put({"pk": {"S": "leg-del"}, "v": {"S": "x"}})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.delete_item(TableName="items", Key={"pk": {"S": "leg-del"}},
                                 Expected={"v": {"Value": {"S": "y"}}})
        self.assertIsNotNone(self.get("leg-del"))
        self.ddb.delete_item(TableName="items", Key={"pk": {"S": "leg-del"}},
                             Expected={"v": {"Value": {"S": "x"}}})
        self.assertIsNone(self.get("leg-del"))

    def test_attribute_updates(self):
        self.put({"pk": {"S": "leg-upd"}, "cnt": {"N": "1"}, "ss": {"SS": ["x", "y"]},
                  "gone": {"S": "bye"}, "keep": {"S": "k"}})
        resp = self.ddb.update_item(
            TableName="items", Key={"pk": {"S": "leg-upd"}},
            AttributeUpdates={
                "a": {"Action": "PUT", "Value": {"S": "new"}},
                "cnt": {"Action": "ADD", "Value": {"N": "2"}},
                "fresh": {"Action": "ADD", "Value": {"N": "5"}},
                "ss": {"Action": "DELETE", "Value": {"SS": ["x"]}},
                "gone": {"Action": "DELETE"},
                "keep": {"Value": {"S": "replaced"}},  # Action defaults to PUT
            },
            ReturnValues="ALL_NEW")
        self.assertEqual(resp["Attributes"], {
            "pk": {"S": "leg-upd"}, "a": {"S": "new"}, "cnt": {"N": "3"}, "fresh": {"N": "5"},
            "ss": {"SS": ["y"]}, "keep": {"S": "replaced"}})

    def test_attribute_updates_with_expected(self):
        self.put({"pk": {"S": "leg-upd2"}, "v": {"N": "1"}})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.update_item(TableName="items", Key={"pk": {"S": "leg-upd2"}},
                                 AttributeUpdates={"v": {"Action": "PUT", "Value": {"N": "2"}}},
                                 Expected={"v": {"Value": {"N": "5"}}})
        self.assertEqual(self.get("leg-upd2")["v"], {"N": "1"})

    def test_attributes_to_get(self):
        self.put({"pk": {"S": "leg-get"}, "a": {"S": "A"}, "b": {"S": "B"}, "c": {"S": "C"}})
        got = self.ddb.get_item(TableName="items", Key={"pk": {"S": "leg-get"}},
                                AttributesToGet=["a", "c", "missing"])["Item"]
        self.assertEqual(got, {"a": {"S": "A"}, "c": {"S": "C"}})


class CliSmokeTest(ItemsTestBase):
    def test_cli_put_get_query(self):
        item = {"pk": {"S": "cli"}, "sk": {"N": "1.50"}, "tags": {"SS": ["a"]},
                "m": {"M": {"x": {"BOOL": True}}}}
        self.run_cli(["dynamodb", "put-item", "--table-name", "composite",
                      "--item", json.dumps(item)])
        self.run_cli(["dynamodb", "put-item", "--table-name", "composite",
                      "--item", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "2"}})])
        got = self.cli_json(["dynamodb", "get-item", "--table-name", "composite",
                             "--key", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "1.5"}}),
                             "--consistent-read"])
        self.assertEqual(got, {"Item": {"pk": {"S": "cli"}, "sk": {"N": "1.5"},
                                        "tags": {"SS": ["a"]},
                                        "m": {"M": {"x": {"BOOL": True}}}}})
        out = self.cli_json(["dynamodb", "query", "--table-name", "composite",
                             "--key-condition-expression", "pk = :p AND sk > :lo",
                             "--expression-attribute-values",
                             json.dumps({":p": {"S": "cli"}, ":lo": {"N": "1"}}),
                             "--projection-expression", "sk"])
        self.assertEqual(out["Items"], [{"sk": {"N": "1.5"}}, {"sk": {"N": "2"}}])
        self.assertEqual(out["Count"], 2)
        self.assertEqual(out["ScannedCount"], 2)
        proc = self.run_cli(["dynamodb", "get-item", "--table-name", "composite",
                             "--key", json.dumps({"pk": {"S": "cli"}})], check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ValidationException", proc.stderr)
        self.assertIn("The provided key element does not match the schema", proc.stderr)


if __name__ == "__main__":
    unittest.main()
