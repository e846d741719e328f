"""DynamoDB batch and transaction operations over the wire: BatchWriteItem, BatchGetItem,
Table.batch_writer(), TransactWriteItems and TransactGetItems.

Expectations are AWS DynamoDB's behaviour (spec: /work/shared/spec/aws-contracts.md section 2).
"""

from __future__ import annotations

import unittest
import uuid
from decimal import Decimal

import harness


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


class BatchTestBase(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.res = cls.resource("dynamodb")
        create_table(cls.ddb, "tab_a", [("pk", "HASH")], [("pk", "S")])
        create_table(cls.ddb, "tab_b", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "N")])

    def get_a(self, pk):
        return self.ddb.get_item(TableName="tab_a", Key={"pk": s(pk)},
                                 ConsistentRead=True).get("Item")

    def get_b(self, pk, sk):
        return self.ddb.get_item(TableName="tab_b", Key={"pk": s(pk), "sk": n(sk)},
                                 ConsistentRead=True).get("Item")

    def count(self, table, prefix):
        resp = self.ddb.scan(TableName=table, FilterExpression="begins_with(pk, :p)",
                             ExpressionAttributeValues={":p": s(prefix)}, ConsistentRead=True)
        self.assertNotIn("LastEvaluatedKey", resp)
        return resp["Count"]

    def assert_validation(self, ctx, *substrings):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], "ValidationException", err)
        for sub in substrings:
            self.assertIn(sub, err["Message"])


class BatchWriteTest(BatchTestBase):
    def test_put_and_delete_across_two_tables(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("bw-old"), "v": n(0)})
        self.ddb.put_item(TableName="tab_b", Item={"pk": s("bw"), "sk": n(1), "v": n(0)})
        resp = self.ddb.batch_write_item(RequestItems={
            "tab_a": [{"PutRequest": {"Item": {"pk": s("bw-1"), "v": n(1),
                                            "m": {"M": {"l": {"L": [s("x")]}}}}}},
                   {"PutRequest": {"Item": {"pk": s("bw-2"), "v": n(2)}}},
                   {"DeleteRequest": {"Key": {"pk": s("bw-old")}}}],
            "tab_b": [{"PutRequest": {"Item": {"pk": s("bw"), "sk": n(2), "v": n(3)}}},
                   {"DeleteRequest": {"Key": {"pk": s("bw"), "sk": n(1)}}},
                   {"DeleteRequest": {"Key": {"pk": s("bw"), "sk": n(99)}}}],  # missing: fine
        })
        self.assertEqual(resp["UnprocessedItems"], {})
        self.assertEqual(self.get_a("bw-1"), {"pk": s("bw-1"), "v": n(1),
                                              "m": {"M": {"l": {"L": [s("x")]}}}})
        self.assertEqual(self.get_a("bw-2"), {"pk": s("bw-2"), "v": n(2)})
        self.assertIsNone(self.get_a("bw-old"))
        self.assertEqual(self.get_b("bw", 2), {"pk": s("bw"), "sk": n(2), "v": n(3)})
        self.assertIsNone(self.get_b("bw", 1))

    def test_batch_write_consumed_capacity(self):
        resp = self.ddb.batch_write_item(RequestItems={
            "tab_a": [{"PutRequest": {"Item": {"pk": s(f"bwc-{i}")}}} for i in range(3)],
            "tab_b": [{"PutRequest": {"Item": {"pk": s("bwc"), "sk": n(i)}}} for i in range(2)],
        }, ReturnConsumedCapacity="TOTAL")
        by_table = {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}
        self.assertEqual(by_table, {"tab_a": 3.0, "tab_b": 2.0})

    def test_batch_writer_puts_and_deletes_100_items(self):
        table = self.res.Table("tab_b")
        with table.batch_writer() as writer:
            for i in range(100):
                writer.put_item(Item={"pk": "bw100", "sk": i, "v": f"value-{i}",
                                      "d": Decimal(i) / 4})
        pages = self.ddb.get_paginator("query").paginate(
            TableName="tab_b", KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": s("bw100")}, ConsistentRead=True)
        items = [i for p in pages for i in p["Items"]]
        self.assertEqual(len(items), 100)
        for i, item in enumerate(items):
            self.assertEqual(item, {"pk": s("bw100"), "sk": n(i), "v": s(f"value-{i}"),
                                    "d": n(Decimal(i) / 4)})
        with table.batch_writer() as writer:
            for i in range(0, 100, 2):
                writer.delete_item(Key={"pk": "bw100", "sk": i})
        resp = self.ddb.query(TableName="tab_b", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": s("bw100")}, Select="COUNT")
        self.assertEqual(resp["Count"], 50)

    def test_batch_writer_overwrite_by_pkeys(self):
        table = self.res.Table("tab_b")
        with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
            for round_ in range(3):
                for i in range(10):
                    writer.put_item(Item={"pk": "obp", "sk": i, "round": round_})
            writer.delete_item(Key={"pk": "obp", "sk": 9})
        resp = table.query(KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": "obp"}, ConsistentRead=True)
        self.assertEqual([(i["sk"], i["round"]) for i in resp["Items"]],
                         [(Decimal(i), Decimal(2)) for i in range(9)])

    def test_more_than_25_writes_is_rejected_and_writes_nothing(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_write_item(RequestItems={
                "tab_a": [{"PutRequest": {"Item": {"pk": s(f"bw26-{i}")}}} for i in range(26)]})
        self.assert_validation(ctx, "Member must have length less than or equal to 25")
        self.assertEqual(self.count("tab_a", "bw26-"), 0)

    def test_duplicate_keys_are_rejected_and_write_nothing(self):
        cases = {
            "two puts": {"tab_a": [{"PutRequest": {"Item": {"pk": s("dup-1"), "v": n(1)}}},
                                {"PutRequest": {"Item": {"pk": s("dup-1"), "v": n(2)}}}]},
            "put and delete": {"tab_a": [{"PutRequest": {"Item": {"pk": s("dup-2")}}},
                                      {"DeleteRequest": {"Key": {"pk": s("dup-2")}}}]},
            "composite": {"tab_b": [{"PutRequest": {"Item": {"pk": s("dup-3"), "sk": n(1)}}},
                                 {"PutRequest": {"Item": {"pk": s("dup-3"), "sk": n("1.0")}}}],
                          "tab_a": [{"PutRequest": {"Item": {"pk": s("dup-3")}}}]},
        }
        for name, request in cases.items():
            with self.subTest(name):
                with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
                    self.ddb.batch_write_item(RequestItems=request)
                self.assert_validation(ctx, "Provided list of item keys contains duplicates")
        self.assertEqual(self.count("tab_a", "dup-"), 0)
        self.assertEqual(self.count("tab_b", "dup-"), 0)

    def test_too_large_item_fails_whole_batch(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_write_item(RequestItems={"tab_a": [
                {"PutRequest": {"Item": {"pk": s("bw-big-1")}}},
                {"PutRequest": {"Item": {"pk": s("bw-big-2"), "d": s("x" * 410_000)}}}]})
        self.assert_validation(ctx, "Item size has exceeded the maximum allowed size")
        self.assertIsNone(self.get_a("bw-big-1"))

    def test_missing_table_fails_whole_batch(self):
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException) as ctx:
            self.ddb.batch_write_item(RequestItems={
                "tab_a": [{"PutRequest": {"Item": {"pk": s("bw-missing")}}}],
                "no_such_table": [{"PutRequest": {"Item": {"pk": s("x")}}}]})
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Requested resource not found")
        self.assertIsNone(self.get_a("bw-missing"))

    def test_invalid_item_fails_whole_batch(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_write_item(RequestItems={
                "tab_a": [{"PutRequest": {"Item": {"pk": s("bw-bad-1")}}},
                       {"PutRequest": {"Item": {"nokey": s("x")}}}]})
        self.assert_validation(ctx, "One or more parameter values were invalid: "
                                    "Missing the key pk in the item")
        self.assertIsNone(self.get_a("bw-bad-1"))
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_write_item(RequestItems={
                "tab_b": [{"PutRequest": {"Item": {"pk": s("bw-bad-2"), "sk": n(1)}}},
                       {"DeleteRequest": {"Key": {"pk": s("bw-bad-2")}}}]})
        self.assert_validation(ctx, "The provided key element does not match the schema")
        self.assertIsNone(self.get_b("bw-bad-2", 1))


class BatchGetTest(BatchTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(5):
            cls.ddb.put_item(TableName="tab_a", Item={"pk": s(f"bg-{i}"), "v": n(i),
                                                   "name": s(f"name-{i}"),
                                                   "m": {"M": {"x": n(i), "y": s("y")}}})
            cls.ddb.put_item(TableName="tab_b", Item={"pk": s("bg"), "sk": n(i), "w": s(f"w{i}")})
        for i in range(120):
            cls.ddb.put_item(TableName="tab_b", Item={"pk": s("bg-many"), "sk": n(i)})

    def test_batch_get_across_tables_with_projection(self):
        resp = self.ddb.batch_get_item(RequestItems={
            "tab_a": {"Keys": [{"pk": s("bg-1")}, {"pk": s("bg-3")}, {"pk": s("bg-missing")}],
                   "ProjectionExpression": "pk, #n, m.x",
                   "ExpressionAttributeNames": {"#n": "name"}},
            "tab_b": {"Keys": [{"pk": s("bg"), "sk": n(0)}, {"pk": s("bg"), "sk": n(4)}],
                   "ConsistentRead": True},
        })
        self.assertEqual(resp["UnprocessedKeys"], {})
        self.assertEqual(set(resp["Responses"]), {"tab_a", "tab_b"})
        ta = sorted(resp["Responses"]["tab_a"], key=lambda i: i["pk"]["S"])
        self.assertEqual(ta, [
            {"pk": s("bg-1"), "name": s("name-1"), "m": {"M": {"x": n(1)}}},
            {"pk": s("bg-3"), "name": s("name-3"), "m": {"M": {"x": n(3)}}},
        ])
        tb = sorted(resp["Responses"]["tab_b"], key=lambda i: int(i["sk"]["N"]))
        self.assertEqual(tb, [{"pk": s("bg"), "sk": n(0), "w": s("w0")},
                              {"pk": s("bg"), "sk": n(4), "w": s("w4")}])

    def test_batch_get_of_only_missing_keys(self):
        resp = self.ddb.batch_get_item(RequestItems={"tab_a": {"Keys": [{"pk": s("nope")}]}})
        self.assertEqual(resp["Responses"], {"tab_a": []})
        self.assertEqual(resp["UnprocessedKeys"], {})

    def test_batch_get_100_keys(self):
        keys = [{"pk": s("bg-many"), "sk": n(i)} for i in range(100)]
        resp = self.ddb.batch_get_item(RequestItems={"tab_b": {"Keys": keys}})
        self.assertEqual(resp["UnprocessedKeys"], {})
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in resp["Responses"]["tab_b"]),
                         list(range(100)))

    def test_resource_batch_get(self):
        resp = self.res.batch_get_item(RequestItems={
            "tab_a": {"Keys": [{"pk": "bg-2"}], "AttributesToGet": ["v"]}})
        self.assertEqual(resp["Responses"], {"tab_a": [{"v": Decimal(2)}]})

    def test_more_than_100_keys_is_rejected(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_get_item(RequestItems={"tab_b": {
                "Keys": [{"pk": s("bg-many"), "sk": n(i)} for i in range(101)]}})
        self.assert_validation(ctx, "Member must have length less than or equal to 100")
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_get_item(RequestItems={
                "tab_b": {"Keys": [{"pk": s("bg-many"), "sk": n(i)} for i in range(60)]},
                "tab_a": {"Keys": [{"pk": s(f"bg-x{i}")} for i in range(60)]}})
        self.assert_validation(ctx, "Too many items requested for the BatchGetItem call")

    def test_duplicate_keys_are_rejected(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_get_item(RequestItems={"tab_a": {"Keys": [{"pk": s("bg-1")},
                                                                  {"pk": s("bg-1")}]}})
        self.assert_validation(ctx, "Provided list of item keys contains duplicates")

    def test_missing_table(self):
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException) as ctx:
            self.ddb.batch_get_item(RequestItems={"tab_a": {"Keys": [{"pk": s("bg-1")}]},
                                                  "no_such_table": {"Keys": [{"pk": s("x")}]}})
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Requested resource not found")

    def test_wrong_key_schema(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.batch_get_item(RequestItems={"tab_b": {"Keys": [{"pk": s("bg")}]}})
        self.assert_validation(ctx, "The provided key element does not match the schema")


class TransactionTest(BatchTestBase):
    def reasons(self, ctx):
        return [r["Code"] for r in ctx.exception.response["CancellationReasons"]]

    def test_put_update_delete_condition_check_together(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("tx-upd"), "cnt": n(1)})
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("tx-del"), "v": s("bye")})
        self.ddb.put_item(TableName="tab_b", Item={"pk": s("tx-guard"), "sk": n(0),
                                                "state": s("open")})
        resp = self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "tab_a", "Item": {"pk": s("tx-new"), "v": s("hi")},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": "tab_a", "Key": {"pk": s("tx-upd")},
                        "UpdateExpression": "ADD cnt :one SET tag = :t",
                        "ExpressionAttributeValues": {":one": n(1), ":t": s("x")}}},
            {"Delete": {"TableName": "tab_a", "Key": {"pk": s("tx-del")},
                        "ConditionExpression": "v = :bye",
                        "ExpressionAttributeValues": {":bye": s("bye")}}},
            {"ConditionCheck": {"TableName": "tab_b", "Key": {"pk": s("tx-guard"), "sk": n(0)},
                                "ConditionExpression": "#st = :open",
                                "ExpressionAttributeNames": {"#st": "state"},
                                "ExpressionAttributeValues": {":open": s("open")}}},
        ])
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.get_a("tx-new"), {"pk": s("tx-new"), "v": s("hi")})
        self.assertEqual(self.get_a("tx-upd"), {"pk": s("tx-upd"), "cnt": n(2), "tag": s("x")})
        self.assertIsNone(self.get_a("tx-del"))
        self.assertEqual(self.get_b("tx-guard", 0)["state"], s("open"))

    def test_failed_condition_check_cancels_everything(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("txf-upd"), "cnt": n(1)})
        self.ddb.put_item(TableName="tab_b", Item={"pk": s("txf-guard"), "sk": n(0),
                                                "state": s("closed")})
        items = [
            {"Put": {"TableName": "tab_a", "Item": {"pk": s("txf-new")}}},
            {"ConditionCheck": {"TableName": "tab_b", "Key": {"pk": s("txf-guard"), "sk": n(0)},
                                "ConditionExpression": "#st = :open",
                                "ExpressionAttributeNames": {"#st": "state"},
                                "ExpressionAttributeValues": {":open": s("open")},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "tab_a", "Key": {"pk": s("txf-upd")},
                        "UpdateExpression": "ADD cnt :one",
                        "ExpressionAttributeValues": {":one": n(1)}}},
        ]
        with self.assertRaises(self.ddb.exceptions.TransactionCanceledException) as ctx:
            self.ddb.transact_write_items(TransactItems=items)
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], "TransactionCanceledException")
        self.assertIn("Transaction cancelled, please refer cancellation reasons for specific "
                      "reasons [None, ConditionalCheckFailed, None]", err["Error"]["Message"])
        self.assertEqual(self.reasons(ctx), ["None", "ConditionalCheckFailed", "None"])
        failed = err["CancellationReasons"][1]
        self.assertEqual(failed["Message"], "The conditional request failed")
        self.assertEqual(failed["Item"], {"pk": s("txf-guard"), "sk": n(0),
                                          "state": s("closed")})
        self.assertNotIn("Item", err["CancellationReasons"][0])
        # Nothing was written.
        self.assertIsNone(self.get_a("txf-new"))
        self.assertEqual(self.get_a("txf-upd")["cnt"], n(1))

    def test_every_failing_condition_is_reported(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("txm-1"), "v": n(1)})
        with self.assertRaises(self.ddb.exceptions.TransactionCanceledException) as ctx:
            self.ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": "tab_a", "Key": {"pk": s("txm-1")},
                            "UpdateExpression": "SET v = :two",
                            "ConditionExpression": "v = :two",
                            "ExpressionAttributeValues": {":two": n(2)}}},
                {"Put": {"TableName": "tab_a", "Item": {"pk": s("txm-2")}}},
                {"Delete": {"TableName": "tab_a", "Key": {"pk": s("txm-3")},
                            "ConditionExpression": "attribute_exists(pk)"}},
            ])
        self.assertEqual(self.reasons(ctx),
                         ["ConditionalCheckFailed", "None", "ConditionalCheckFailed"])
        self.assertEqual(self.get_a("txm-1"), {"pk": s("txm-1"), "v": n(1)})
        self.assertIsNone(self.get_a("txm-2"))

    def test_client_request_token_is_idempotent(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("tx-idem"), "cnt": n(0)})
        token = str(uuid.uuid4())
        items = [{"Update": {"TableName": "tab_a", "Key": {"pk": s("tx-idem")},
                             "UpdateExpression": "ADD cnt :one",
                             "ExpressionAttributeValues": {":one": n(1)}}},
                 {"Put": {"TableName": "tab_b", "Item": {"pk": s("tx-idem"), "sk": n(1)}}}]
        self.ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
        self.ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
        self.assertEqual(self.get_a("tx-idem")["cnt"], n(1))
        # Same token, different request.
        other = [{"Update": {"TableName": "tab_a", "Key": {"pk": s("tx-idem")},
                             "UpdateExpression": "ADD cnt :two",
                             "ExpressionAttributeValues": {":two": n(2)}}}]
        with self.assertRaises(self.ddb.exceptions.IdempotentParameterMismatchException) as ctx:
            self.ddb.transact_write_items(TransactItems=other, ClientRequestToken=token)
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "IdempotentParameterMismatchException")
        self.assertEqual(self.get_a("tx-idem")["cnt"], n(1))
        # A new token applies again.
        self.ddb.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
        self.assertEqual(self.get_a("tx-idem")["cnt"], n(2))

    def test_without_token_each_call_applies(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("tx-notoken"), "cnt": n(0)})
        items = [{"Update": {"TableName": "tab_a", "Key": {"pk": s("tx-notoken")},
                             "UpdateExpression": "ADD cnt :one",
                             "ExpressionAttributeValues": {":one": n(1)}}}]
        for _ in range(3):
            self.ddb.transact_write_items(TransactItems=items)  # botocore fills a fresh token
        self.assertEqual(self.get_a("tx-notoken")["cnt"], n(3))

    def test_same_item_twice_is_rejected(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "tab_a", "Item": {"pk": s("tx-twice"), "v": n(1)}}},
                {"Update": {"TableName": "tab_a", "Key": {"pk": s("tx-twice")},
                            "UpdateExpression": "SET w = :w",
                            "ExpressionAttributeValues": {":w": n(2)}}},
            ])
        self.assert_validation(ctx, "Transaction request cannot include multiple operations "
                                    "on one item")
        self.assertIsNone(self.get_a("tx-twice"))

    def test_more_than_100_actions_is_rejected(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "tab_a", "Item": {"pk": s(f"tx101-{i}")}}}
                for i in range(101)])
        self.assert_validation(ctx, "Member must have length less than or equal to 100")
        self.assertEqual(self.count("tab_a", "tx101-"), 0)

    def test_missing_table(self):
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException):
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "tab_a", "Item": {"pk": s("tx-nt")}}},
                {"Put": {"TableName": "no_such_table", "Item": {"pk": s("x")}}}])
        self.assertIsNone(self.get_a("tx-nt"))

    def test_transaction_consumed_capacity_is_doubled(self):
        resp = self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "tab_a", "Item": {"pk": s("tx-cap-1")}}},
            {"Put": {"TableName": "tab_a", "Item": {"pk": s("tx-cap-2")}}},
        ], ReturnConsumedCapacity="TOTAL")
        self.assertEqual([(c["TableName"], c["CapacityUnits"])
                          for c in resp["ConsumedCapacity"]], [("tab_a", 4.0)])

    def test_transact_get_items_in_order(self):
        self.ddb.put_item(TableName="tab_a", Item={"pk": s("tg-1"), "v": n(1), "w": s("w")})
        self.ddb.put_item(TableName="tab_b", Item={"pk": s("tg"), "sk": n(2), "v": n(2)})
        resp = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "tab_b", "Key": {"pk": s("tg"), "sk": n(2)}}},
            {"Get": {"TableName": "tab_a", "Key": {"pk": s("tg-missing")}}},
            {"Get": {"TableName": "tab_a", "Key": {"pk": s("tg-1")},
                     "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "v"}}},
        ])
        self.assertEqual(resp["Responses"], [
            {"Item": {"pk": s("tg"), "sk": n(2), "v": n(2)}},
            {},
            {"Item": {"v": n(1)}},
        ])

    def test_transact_get_missing_table(self):
        with self.assertRaises(self.ddb.exceptions.ResourceNotFoundException):
            self.ddb.transact_get_items(TransactItems=[
                {"Get": {"TableName": "no_such_table", "Key": {"pk": s("x")}}}])


if __name__ == "__main__":
    unittest.main()
