"""DynamoDB durability over the wire: acknowledged writes survive a clean restart (SIGTERM) and a
crash (SIGKILL mid-load), with their exact values.

Bounded in count and time; no timing asserts. The only waits are the harness waiting for the
server to come up, and the main thread waiting (bounded) for the writer to make progress before
it pulls the plug.
"""

from __future__ import annotations

import threading
import unittest
from decimal import Decimal

import harness

KILL_AFTER_ACKS = 2000        # SIGKILL once this many writes are acknowledged ...
KILL_AFTER_SECONDS = 3.0      # ... or after this long, whichever comes first
MAX_WRITES = 50_000           # the writer never goes beyond this
KEY_SPACE = 700               # writes cycle over this many keys, so most keys are overwritten
JOIN_TIMEOUT_S = 60.0


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


def payload(i: int) -> str:
    return f"value-{i}-" + "x" * (i % 97)


class _Writer(threading.Thread):
    """Calls `write(i)` for i = 0, 1, ... until it raises or `stop` is set. Records the last i
    whose call returned (acknowledged) and the one in flight when it stopped."""

    def __init__(self, write, enough: int):
        super().__init__(daemon=True)
        self.write = write
        self.enough = enough
        self.acked = 0                  # writes 0 .. acked-1 were acknowledged
        self.in_flight: int | None = None
        self.error: BaseException | None = None
        self.reached = threading.Event()
        self.stop = threading.Event()

    def run(self):
        try:
            for i in range(MAX_WRITES):
                if self.stop.is_set():
                    break
                self.in_flight = i
                self.write(i)
                self.in_flight = None
                self.acked = i + 1
                if self.acked >= self.enough:
                    self.reached.set()
        except BaseException as e:  # the server went away under us: expected
            self.error = e
        finally:
            self.reached.set()


class DurabilityTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        create_table(cls.ddb, "durable", [("pk", "HASH")], [("pk", "S"), ("g", "S")],
                     GlobalSecondaryIndexes=[{
                         "IndexName": "by_g",
                         "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"}}])
        create_table(cls.ddb, "crash", [("pk", "HASH")], [("pk", "S"), ("bucket", "S")],
                     GlobalSecondaryIndexes=[{
                         "IndexName": "by_bucket",
                         "KeySchema": [{"AttributeName": "bucket", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "INCLUDE",
                                        "NonKeyAttributes": ["i"]}}])
        create_table(cls.ddb, "counter", [("pk", "HASH")], [("pk", "S")])
        create_table(cls.ddb, "crashes", [("pk", "HASH")], [("pk", "S")])

    def scan_all(self, table):
        pages = self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        return {item["pk"]["S"]: item for page in pages for item in page["Items"]}

    def crash_during(self, write, enough=KILL_AFTER_ACKS):
        """Runs `write` in a loop on another thread, SIGKILLs the server once `enough` writes
        are acknowledged (or KILL_AFTER_SECONDS passed), then restarts it on the same data dir.
        Returns the writer (acked count, in-flight index)."""
        writer = _Writer(write, enough)
        writer.start()
        writer.reached.wait(KILL_AFTER_SECONDS)
        self.kill9()
        writer.stop.set()
        writer.join(JOIN_TIMEOUT_S)
        self.assertFalse(writer.is_alive(), "writer did not stop after the server was killed")
        self.assertGreater(writer.acked, 0, f"no write was acknowledged: {writer.error!r}")
        self.restart()
        return writer

    def test_items_survive_clean_restart(self):
        expected = {}
        for i in range(500):
            item = {"pk": {"S": f"item-{i:03d}"}, "n": {"N": str(Decimal(i) / 8)},
                    "s": {"S": payload(i)}, "g": {"S": f"group-{i % 5}"},
                    "l": {"L": [{"N": str(i)}, {"M": {"b": {"B": bytes([i % 256])}}}]},
                    "ss": {"SS": [f"t{i}", "common"]}}
            self.ddb.put_item(TableName="durable", Item=item)
            expected[item["pk"]["S"]] = item
        # Overwrites and deletes must survive too.
        self.ddb.update_item(TableName="durable", Key={"pk": {"S": "item-007"}},
                             UpdateExpression="SET s = :s REMOVE l",
                             ExpressionAttributeValues={":s": {"S": "updated"}})
        del expected["item-007"]["l"]
        expected["item-007"]["s"] = {"S": "updated"}
        self.ddb.delete_item(TableName="durable", Key={"pk": {"S": "item-499"}})
        del expected["item-499"]

        self.restart()  # SIGTERM; the harness asserts a clean exit (code 0)

        got = self.scan_all("durable")
        self.assertEqual(set(got), set(expected))
        for pk, item in expected.items():
            got_item = dict(got[pk])
            got_item["ss"] = {"SS": sorted(got_item["ss"]["SS"])}
            want = dict(item)
            want["ss"] = {"SS": sorted(item["ss"]["SS"])}
            self.assertEqual(got_item, want, pk)
        # The index survived as well.
        resp = self.ddb.query(TableName="durable", IndexName="by_g",
                              KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": "group-3"}})
        self.assertEqual(sorted(i["pk"]["S"] for i in resp["Items"]),
                         sorted(pk for pk, it in expected.items()
                                if it["g"]["S"] == "group-3"))
        # And the server keeps working.
        self.ddb.put_item(TableName="durable", Item={"pk": {"S": "after"}, "g": {"S": "x"}})
        self.assertIn("Item", self.ddb.get_item(TableName="durable", Key={"pk": {"S": "after"}}))

    def test_acknowledged_puts_survive_sigkill(self):
        client = self.client("dynamodb")

        def write(i):
            # Each overwrite of a key moves it to another index bucket.
            client.put_item(TableName="crash", Item={
                "pk": {"S": f"k-{i % KEY_SPACE}"}, "i": {"N": str(i)}, "s": {"S": payload(i)},
                "bucket": {"S": f"b{(i // KEY_SPACE) % 3}"}})

        writer = self.crash_during(write)
        got = self.scan_all("crash")
        # The newest acknowledged value of every key, and the in-flight one (may or may not
        # have been applied).
        last_acked = {}
        for i in range(writer.acked):
            last_acked[f"k-{i % KEY_SPACE}"] = i
        maybe = writer.in_flight
        maybe_key = f"k-{maybe % KEY_SPACE}" if maybe is not None else None
        lost = [pk for pk in last_acked if pk not in got]
        self.assertEqual(lost, [], f"{len(lost)} acknowledged keys missing after SIGKILL "
                                   f"({writer.acked} acked)")
        for pk, i in last_acked.items():
            allowed = {i} | ({maybe} if pk == maybe_key else set())
            got_i = int(got[pk]["i"]["N"])
            self.assertIn(got_i, allowed, f"{pk}: acknowledged write {i} not the value read")
            self.assertEqual(got[pk]["s"], {"S": payload(got_i)}, pk)
        extra = set(got) - set(last_acked)
        self.assertLessEqual(extra, {maybe_key} - {None})
        # The index agrees with the table: every item exactly once, under its current bucket.
        indexed = {}
        for bucket in ("b0", "b1", "b2"):
            pages = self.ddb.get_paginator("query").paginate(
                TableName="crash", IndexName="by_bucket", KeyConditionExpression="#b = :b",
                ExpressionAttributeNames={"#b": "bucket"},
                ExpressionAttributeValues={":b": {"S": bucket}})
            for page in pages:
                for item in page["Items"]:
                    self.assertNotIn(item["pk"]["S"], indexed, "indexed twice")
                    indexed[item["pk"]["S"]] = (bucket, item["i"]["N"])
        self.assertEqual(indexed, {pk: (it["bucket"]["S"], it["i"]["N"])
                                   for pk, it in got.items()})
        # The restarted server accepts writes on the same table.
        client.put_item(TableName="crash", Item={"pk": {"S": "after-crash"}})
        self.assertIn("Item", client.get_item(TableName="crash",
                                              Key={"pk": {"S": "after-crash"}},
                                              ConsistentRead=True))

    def test_acknowledged_counter_increments_survive_sigkill(self):
        client = self.client("dynamodb")
        key = {"pk": {"S": "hits"}}

        def increment(_):
            client.update_item(TableName="counter", Key=key, UpdateExpression="ADD cnt :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})

        writer = self.crash_during(increment, enough=KILL_AFTER_ACKS // 2)
        item = client.get_item(TableName="counter", Key=key, ConsistentRead=True)["Item"]
        count = int(item["cnt"]["N"])
        allowed = {writer.acked} | ({writer.acked + 1} if writer.in_flight is not None else set())
        self.assertIn(count, allowed, f"counter is {count} after {writer.acked} acknowledged "
                                      f"increments (in flight: {writer.in_flight})")
        # Counting resumes from the recovered value.
        resp = client.update_item(TableName="counter", Key=key, UpdateExpression="ADD cnt :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}},
                                  ReturnValues="UPDATED_NEW")
        self.assertEqual(resp["Attributes"]["cnt"], {"N": str(count + 1)})

    def test_repeated_crashes(self):
        client = self.client("dynamodb")
        acked = {}
        for round_ in range(3):
            def write(i, round_=round_):
                client.put_item(TableName="crashes", Item={
                    "pk": {"S": f"r{round_}-{i}"}, "i": {"N": str(i)}})
            writer = self.crash_during(write, enough=300)
            for i in range(writer.acked):
                acked[f"r{round_}-{i}"] = i
        got = self.scan_all("crashes")
        missing = [pk for pk in acked if pk not in got]
        self.assertEqual(missing, [])
        for pk, i in acked.items():
            self.assertEqual(got[pk]["i"], {"N": str(i)})


class SyncDurabilityTest(DurabilityTest):
    """The same restarts and crashes with `--durability sync` (the WAL is fsynced before a
    write is acknowledged, so a power cut would not lose it either)."""
    server_args = ("--durability", "sync")


if __name__ == "__main__":
    unittest.main()
