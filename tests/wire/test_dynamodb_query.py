"""DynamoDB Query and Scan over the wire: key conditions, sort orders, paging, filters, Select,
the 1 MB page limit, parallel scan, secondary indexes and the legacy parameters.

Expectations are AWS DynamoDB's behaviour (spec: /work/shared/spec/aws-contracts.md section 2).
"""

from __future__ import annotations

import random
import unittest
from decimal import Decimal

from boto3.dynamodb.conditions import Attr, Key

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


def index(name, hash_key, range_key=None, projection="ALL", non_key=None):
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    proj = {"ProjectionType": projection}
    if non_key:
        proj["NonKeyAttributes"] = non_key
    return {"IndexName": name, "KeySchema": schema, "Projection": proj}


NUMS = ["-100", "-10", "-1.5", "-1", "0", "0.001", "1", "2", "2.5", "10", "100", "1000"]
STRS = ["a", "B", "b", "aa", "ab", "abc", "abd", "a b", "é", "~", "Z", "0", "ä",
        "\uFFFD", "\U0001F600", "zz"]
BINS = [b"\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]
STRS_SORTED = sorted(STRS, key=lambda s: s.encode("utf-8"))
BINS_SORTED = sorted(BINS)
NUMS_SORTED = sorted(NUMS, key=Decimal)

ORDERS = [
    {"customer": "c1", "order_id": "o1", "total": Decimal("10"), "status": "OPEN",
     "region": "eu", "note": "n1", "extra": "x1"},
    {"customer": "c1", "order_id": "o2", "total": Decimal("2"), "status": "OPEN",
     "region": "us", "note": "n2", "extra": "x2"},
    {"customer": "c1", "order_id": "o3", "total": Decimal("100"), "status": "CLOSED",
     "region": "eu", "extra": "x3"},
    {"customer": "c2", "order_id": "o4", "total": Decimal("5.5"), "status": "OPEN",
     "region": "eu", "note": "n4", "extra": "x4"},
    {"customer": "c2", "order_id": "o5", "total": Decimal("-3"), "region": "us",
     "extra": "x5"},                                   # no status: absent from by_status
    {"customer": "c2", "order_id": "o6", "total": Decimal("7"), "status": "CLOSED",
     "extra": "x6"},                                   # no region: absent from by_region
    {"customer": "c1", "order_id": "o7", "status": "CLOSED", "region": "eu",
     "extra": "x7"},                                   # no total: absent from by_total, by_status
]


def keys_of(items, *names):
    return sorted(tuple(item[n] for n in names) for item in items)


class QueryScanTestBase(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.res = cls.resource("dynamodb")
        rng = random.Random(20240601)

        create_table(cls.ddb, "num_sk", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "N")])
        create_table(cls.ddb, "str_sk", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "S")])
        create_table(cls.ddb, "bin_sk", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "B")])
        for values, table, kind in ((NUMS, "num_sk", "N"), (STRS, "str_sk", "S"),
                                    (BINS, "bin_sk", "B")):
            shuffled = list(values)
            rng.shuffle(shuffled)
            for i, v in enumerate(shuffled):
                cls.ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {kind: v},
                                                        "i": {"N": str(i)}})
            # A neighbouring partition that must never leak into queries on "p".
            for v in values[:3]:
                cls.ddb.put_item(TableName=table, Item={"pk": {"S": "q"}, "sk": {kind: v}})
        # Partition "f": sk 1..10, parity attribute for filters.
        for n in range(1, 11):
            cls.ddb.put_item(TableName="num_sk", Item={
                "pk": {"S": "f"}, "sk": {"N": str(n)},
                "parity": {"S": "odd" if n % 2 else "even"}, "n": {"N": str(n * 10)}})

    def query_all(self, table, pk, **kwargs):
        """Every item of a Query on partition `pk`, following LastEvaluatedKey by hand."""
        items = []
        while True:
            resp = self.ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues={":p": {"S": pk}}, **kwargs)
            self.assertLessEqual(resp["Count"], kwargs.get("Limit", resp["Count"]))
            items.extend(resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


class KeyConditionTest(QueryScanTestBase):
    def sort_keys(self, table, kind, condition="", values=None, **kwargs):
        expression = "pk = :p" + (f" AND {condition}" if condition else "")
        resp = self.ddb.query(TableName=table, KeyConditionExpression=expression,
                              ExpressionAttributeValues={":p": {"S": "p"}, **(values or {})},
                              **kwargs)
        self.assertEqual(resp["Count"], len(resp["Items"]))
        self.assertEqual(resp["ScannedCount"], resp["Count"])
        self.assertNotIn("LastEvaluatedKey", resp)
        for item in resp["Items"]:
            self.assertEqual(item["pk"], {"S": "p"})
        return [item["sk"][kind] for item in resp["Items"]]

    def test_numeric_sort_key_orders_numerically(self):
        self.assertEqual(self.sort_keys("num_sk", "N"), NUMS_SORTED)
        self.assertEqual(self.sort_keys("num_sk", "N", ScanIndexForward=False),
                         NUMS_SORTED[::-1])

    def test_numeric_operators(self):
        v = lambda n: {":v": {"N": n}}
        cases = [
            ("sk = :v", v("10"), ["10"]),
            ("sk = :v", v("1E+1"), ["10"]),
            ("sk = :v", v("3"), []),
            ("sk < :v", v("2"), ["-100", "-10", "-1.5", "-1", "0", "0.001", "1"]),
            ("sk <= :v", v("2"), ["-100", "-10", "-1.5", "-1", "0", "0.001", "1", "2"]),
            ("sk > :v", v("2"), ["2.5", "10", "100", "1000"]),
            ("sk >= :v", v("2"), ["2", "2.5", "10", "100", "1000"]),
            ("sk > :v", v("-1.5"), ["-1", "0", "0.001", "1", "2", "2.5", "10", "100", "1000"]),
            ("sk < :v", v("0"), ["-100", "-10", "-1.5", "-1"]),
            ("sk BETWEEN :lo AND :hi", {":lo": {"N": "-1.5"}, ":hi": {"N": "2"}},
             ["-1.5", "-1", "0", "0.001", "1", "2"]),
            ("sk BETWEEN :lo AND :hi", {":lo": {"N": "3"}, ":hi": {"N": "9"}}, []),
            ("sk BETWEEN :lo AND :hi", {":lo": {"N": "10"}, ":hi": {"N": "10"}}, ["10"]),
        ]
        for condition, values, expected in cases:
            with self.subTest(condition=condition, values=values):
                self.assertEqual(self.sort_keys("num_sk", "N", condition, values), expected)

    def test_string_sort_key_orders_by_utf8_bytes(self):
        got = self.sort_keys("str_sk", "S")
        self.assertEqual(got, STRS_SORTED)
        # UTF-8 byte order puts U+FFFD before U+1F600 (UTF-16 order would not).
        self.assertLess(got.index("\uFFFD"), got.index("\U0001F600"))
        self.assertLess(got.index("Z"), got.index("a"))
        self.assertEqual(self.sort_keys("str_sk", "S", ScanIndexForward=False),
                         STRS_SORTED[::-1])

    def test_string_operators(self):
        s = lambda x: {":v": {"S": x}}
        cases = [
            ("begins_with(sk, :v)", s("ab"), ["ab", "abc", "abd"]),
            ("begins_with(sk, :v)", s("a"), ["a", "a b", "aa", "ab", "abc", "abd"]),
            ("begins_with(sk, :v)", s("é"), ["é"]),
            ("begins_with(sk, :v)", s("nothing"), []),
            ("sk = :v", s("ä"), ["ä"]),
            ("sk < :v", s("a"), ["0", "B", "Z"]),
            ("sk <= :v", s("a"), ["0", "B", "Z", "a"]),
            ("sk > :v", s("zz"), ["~", "ä", "é", "\uFFFD", "\U0001F600"]),
            ("sk >= :v", s("zz"), ["zz", "~", "ä", "é", "\uFFFD", "\U0001F600"]),
            ("sk BETWEEN :lo AND :hi", {":lo": {"S": "aa"}, ":hi": {"S": "abc"}},
             ["aa", "ab", "abc"]),
        ]
        for condition, values, expected in cases:
            with self.subTest(condition=condition, values=values):
                self.assertEqual(self.sort_keys("str_sk", "S", condition, values), expected)

    def test_binary_sort_key_orders_unsigned(self):
        self.assertEqual(self.sort_keys("bin_sk", "B"), BINS_SORTED)
        b = lambda x: {":v": {"B": x}}
        self.assertEqual(self.sort_keys("bin_sk", "B", "begins_with(sk, :v)", b(b"\xff")),
                         [b"\xff", b"\xff\x00"])
        self.assertEqual(self.sort_keys("bin_sk", "B", "begins_with(sk, :v)", b(b"\x00")),
                         [b"\x00", b"\x00\x01"])
        self.assertEqual(self.sort_keys("bin_sk", "B", "sk BETWEEN :lo AND :hi",
                                        {":lo": {"B": b"\x01"}, ":hi": {"B": b"\x80"}}),
                         [b"\x01", b"\x7f", b"\x80"])
        self.assertEqual(self.sort_keys("bin_sk", "B", "sk > :v", b(b"\x7f")),
                         [b"\x80", b"\xff", b"\xff\x00"])

    def test_placeholders_for_key_names(self):
        resp = self.ddb.query(TableName="num_sk",
                              KeyConditionExpression="#p = :p AND #s BETWEEN :a AND :b",
                              ExpressionAttributeNames={"#p": "pk", "#s": "sk"},
                              ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "1"},
                                                         ":b": {"N": "2"}})
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["1", "2"])

    def test_resource_layer_key_conditions(self):
        table = self.res.Table("str_sk")
        resp = table.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").begins_with("ab"))
        self.assertEqual([i["sk"] for i in resp["Items"]], ["ab", "abc", "abd"])
        resp = table.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").between("a", "aa"),
                           ScanIndexForward=False)
        self.assertEqual([i["sk"] for i in resp["Items"]], ["aa", "a b", "a"])
        nums = self.res.Table("num_sk")
        for cond, expected in [
            (Key("sk").lt(0), ["-100", "-10", "-1.5", "-1"]),
            (Key("sk").lte(Decimal("-1.5")), ["-100", "-10", "-1.5"]),
            (Key("sk").gt(100), ["1000"]),
            (Key("sk").gte(100), ["100", "1000"]),
            (Key("sk").eq(Decimal("0.001")), ["0.001"]),
            (Key("sk").between(2, 10), ["2", "2.5", "10"]),
        ]:
            with self.subTest(cond=cond.get_expression()):
                resp = nums.query(KeyConditionExpression=Key("pk").eq("p") & cond)
                self.assertEqual([i["sk"] for i in resp["Items"]],
                                 [Decimal(x) for x in expected])

    def test_query_of_empty_partition(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "nobody"}})
        self.assertEqual(resp["Items"], [])
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (0, 0))
        self.assertNotIn("LastEvaluatedKey", resp)


class PagingTest(QueryScanTestBase):
    def test_limit_and_exclusive_start_key(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, Limit=3)
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], NUMS_SORTED[:3])
        self.assertEqual(resp["LastEvaluatedKey"], {"pk": {"S": "p"}, "sk": {"N": "-1.5"}})
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, Limit=3,
                              ExclusiveStartKey=resp["LastEvaluatedKey"])
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], NUMS_SORTED[3:6])
        # Descending paging starts after the given key in the other direction.
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, Limit=2,
                              ScanIndexForward=False,
                              ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "2"}})
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["1", "0.001"])

    def test_exclusive_start_key_need_not_exist(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, Limit=2,
                              ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "1.7"}})
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["2", "2.5"])

    def test_query_consumed_capacity(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}},
                              ReturnConsumedCapacity="TOTAL")
        # A dozen tiny items: under 4 KB, one read unit, halved for eventual consistency.
        self.assertEqual(resp["ConsumedCapacity"]["TableName"], "num_sk")
        self.assertEqual(resp["ConsumedCapacity"]["CapacityUnits"], 0.5)
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, ConsistentRead=True,
                              ReturnConsumedCapacity="TOTAL")
        self.assertEqual(resp["ConsumedCapacity"]["CapacityUnits"], 1.0)

    def test_manual_paging_returns_every_item_once(self):
        for limit in (1, 3, 5, 12, 100):
            with self.subTest(limit=limit):
                items = self.query_all("num_sk", "p", Limit=limit)
                self.assertEqual([i["sk"]["N"] for i in items], NUMS_SORTED)

    def test_query_paginator(self):
        paginator = self.ddb.get_paginator("query")
        pages = list(paginator.paginate(
            TableName="str_sk", KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}}, PaginationConfig={"PageSize": 4}))
        self.assertGreaterEqual(len(pages), 4)
        for page in pages:
            self.assertLessEqual(page["Count"], 4)
        self.assertEqual([i["sk"]["S"] for p in pages for i in p["Items"]], STRS_SORTED)
        pages = list(paginator.paginate(
            TableName="str_sk", KeyConditionExpression="pk = :p", ScanIndexForward=False,
            ExpressionAttributeValues={":p": {"S": "p"}}, PaginationConfig={"PageSize": 5}))
        self.assertEqual([i["sk"]["S"] for p in pages for i in p["Items"]], STRS_SORTED[::-1])

    def test_filter_is_applied_after_limit(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              FilterExpression="parity = :odd",
                              ExpressionAttributeValues={":p": {"S": "f"}, ":odd": {"S": "odd"}},
                              Limit=4)
        self.assertEqual(resp["ScannedCount"], 4)
        self.assertEqual(resp["Count"], 2)
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["1", "3"])
        self.assertEqual(resp["LastEvaluatedKey"], {"pk": {"S": "f"}, "sk": {"N": "4"}})
        # A page may match nothing and still carry a LastEvaluatedKey.
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              FilterExpression="n > :big",
                              ExpressionAttributeValues={":p": {"S": "f"},
                                                         ":big": {"N": "1000"}},
                              Limit=3)
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (0, 3))
        self.assertEqual(resp["Items"], [])
        self.assertIn("LastEvaluatedKey", resp)

    def test_filter_with_paginator_counts(self):
        pages = list(self.ddb.get_paginator("query").paginate(
            TableName="num_sk", KeyConditionExpression="pk = :p",
            FilterExpression="parity = :even AND n >= :forty",
            ExpressionAttributeValues={":p": {"S": "f"}, ":even": {"S": "even"},
                                       ":forty": {"N": "40"}},
            PaginationConfig={"PageSize": 3}))
        self.assertEqual(sum(p["ScannedCount"] for p in pages), 10)
        self.assertEqual(sum(p["Count"] for p in pages), 4)
        self.assertEqual([i["sk"]["N"] for p in pages for i in p["Items"]], ["4", "6", "8", "10"])

    def test_select_count(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p"}}, Select="COUNT")
        self.assertNotIn("Items", resp)
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (len(NUMS), len(NUMS)))
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p",
                              FilterExpression="parity = :odd",
                              ExpressionAttributeValues={":p": {"S": "f"}, ":odd": {"S": "odd"}},
                              Select="COUNT")
        self.assertNotIn("Items", resp)
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (5, 10))
        resp = self.ddb.scan(TableName="bin_sk", Select="COUNT")
        self.assertNotIn("Items", resp)
        self.assertEqual(resp["Count"], len(BINS) + 3)

    def test_select_specific_attributes_and_projection(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p AND sk <= :two",
                              ExpressionAttributeValues={":p": {"S": "f"}, ":two": {"N": "2"}},
                              Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="n, parity")
        self.assertEqual(resp["Items"], [{"n": {"N": "10"}, "parity": {"S": "odd"}},
                                         {"n": {"N": "20"}, "parity": {"S": "even"}}])
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p AND sk = :two",
                              ExpressionAttributeValues={":p": {"S": "f"}, ":two": {"N": "2"}},
                              ProjectionExpression="sk")
        self.assertEqual(resp["Items"], [{"sk": {"N": "2"}}])
        resp = self.ddb.query(TableName="num_sk", KeyConditionExpression="pk = :p AND sk = :two",
                              ExpressionAttributeValues={":p": {"S": "f"}, ":two": {"N": "2"}},
                              Select="ALL_ATTRIBUTES")
        self.assertEqual(resp["Items"], [{"pk": {"S": "f"}, "sk": {"N": "2"},
                                          "parity": {"S": "even"}, "n": {"N": "20"}}])

    def test_scan_filter_and_limit(self):
        resp = self.ddb.scan(TableName="num_sk", FilterExpression="parity = :odd",
                             ExpressionAttributeValues={":odd": {"S": "odd"}}, Limit=5)
        self.assertEqual(resp["ScannedCount"], 5)
        self.assertLessEqual(resp["Count"], 5)
        self.assertIn("LastEvaluatedKey", resp)
        pages = list(self.ddb.get_paginator("scan").paginate(
            TableName="num_sk", FilterExpression="parity = :odd",
            ExpressionAttributeValues={":odd": {"S": "odd"}}, PaginationConfig={"PageSize": 5}))
        total = len(NUMS) + 3 + 10  # partitions p, q and f
        self.assertEqual(sum(p["ScannedCount"] for p in pages), total)
        self.assertEqual(sorted(int(i["sk"]["N"]) for p in pages for i in p["Items"]),
                         [1, 3, 5, 7, 9])


class LargeItemsPagingTest(harness.ServerTestCase):
    ITEM_BYTES = 100 * 1024
    COUNT = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        create_table(cls.ddb, "big", [("pk", "HASH"), ("sk", "RANGE")],
                     [("pk", "S"), ("sk", "N")])
        for i in range(cls.COUNT):
            cls.ddb.put_item(TableName="big", Item={
                "pk": {"S": "heavy"}, "sk": {"N": str(i)},
                "blob": {"S": chr(ord("a") + i % 26) * cls.ITEM_BYTES}})

    def check_pages(self, pages):
        first = pages[0]
        self.assertIn("LastEvaluatedKey", first)
        # 1 MB of data read per page: about ten 100 KB items, never all thirty.
        self.assertGreaterEqual(first["Count"], 9)
        self.assertLessEqual(first["Count"], 11)
        self.assertEqual(first["Count"], first["ScannedCount"])
        seen = [int(i["sk"]["N"]) for p in pages for i in p["Items"]]
        self.assertEqual(sorted(seen), list(range(self.COUNT)))
        self.assertEqual(len(seen), len(set(seen)))
        for p in pages:
            for item in p["Items"]:
                self.assertEqual(len(item["blob"]["S"]), self.ITEM_BYTES)

    def test_scan_stops_at_one_megabyte(self):
        self.check_pages(list(self.ddb.get_paginator("scan").paginate(TableName="big")))

    def test_query_stops_at_one_megabyte(self):
        pages = list(self.ddb.get_paginator("query").paginate(
            TableName="big", KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "heavy"}}))
        self.check_pages(pages)
        self.assertEqual([int(i["sk"]["N"]) for p in pages for i in p["Items"]],
                         list(range(self.COUNT)))

    def test_select_count_also_stops_at_one_megabyte(self):
        resp = self.ddb.scan(TableName="big", Select="COUNT")
        self.assertNotIn("Items", resp)
        self.assertIn("LastEvaluatedKey", resp)
        self.assertLess(resp["Count"], self.COUNT)
        pages = list(self.ddb.get_paginator("scan").paginate(TableName="big", Select="COUNT"))
        self.assertEqual(sum(p["Count"] for p in pages), self.COUNT)

    def test_filter_matching_nothing_still_pages_by_megabyte(self):
        resp = self.ddb.scan(TableName="big", FilterExpression="sk < :neg",
                             ExpressionAttributeValues={":neg": {"N": "-1"}})
        self.assertEqual(resp["Count"], 0)
        self.assertIn("LastEvaluatedKey", resp)
        self.assertLess(resp["ScannedCount"], self.COUNT)


class ParallelScanTest(harness.ServerTestCase):
    N = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        create_table(cls.ddb, "flat", [("pk", "HASH")], [("pk", "S")])
        for i in range(cls.N):
            cls.ddb.put_item(TableName="flat",
                             Item={"pk": {"S": f"item-{i:04d}"}, "i": {"N": str(i)}})

    def test_full_scan_paginator_returns_each_item_once(self):
        pages = list(self.ddb.get_paginator("scan").paginate(
            TableName="flat", PaginationConfig={"PageSize": 13}))
        keys = [i["pk"]["S"] for p in pages for i in p["Items"]]
        self.assertEqual(len(keys), self.N)
        self.assertEqual(set(keys), {f"item-{i:04d}" for i in range(self.N)})
        self.assertGreaterEqual(len(pages), self.N // 13)

    def test_four_segments_partition_the_table(self):
        segments = []
        for segment in range(4):
            pages = self.ddb.get_paginator("scan").paginate(
                TableName="flat", Segment=segment, TotalSegments=4,
                PaginationConfig={"PageSize": 7})
            segments.append([i["pk"]["S"] for p in pages for i in p["Items"]])
        all_keys = [k for seg in segments for k in seg]
        self.assertEqual(len(all_keys), self.N, [len(s) for s in segments])
        self.assertEqual(set(all_keys), {f"item-{i:04d}" for i in range(self.N)})
        for seg in segments:
            self.assertGreater(len(seg), 0, [len(s) for s in segments])

    def test_segment_scan_is_stable_across_calls(self):
        a = self.ddb.scan(TableName="flat", Segment=2, TotalSegments=4)
        b = self.ddb.scan(TableName="flat", Segment=2, TotalSegments=4)
        self.assertEqual([i["pk"] for i in a["Items"]], [i["pk"] for i in b["Items"]])

    def test_single_segment_is_whole_table(self):
        resp = self.ddb.scan(TableName="flat", Segment=0, TotalSegments=1, Select="COUNT")
        self.assertEqual(resp["Count"], self.N)


class SecondaryIndexTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.client("dynamodb")
        cls.res = cls.resource("dynamodb")
        create_table(
            cls.ddb, "orders", [("customer", "HASH"), ("order_id", "RANGE")],
            [("customer", "S"), ("order_id", "S"), ("total", "N"), ("status", "S"),
             ("region", "S")],
            LocalSecondaryIndexes=[index("by_total", "customer", "total", "KEYS_ONLY")],
            GlobalSecondaryIndexes=[
                index("by_status", "status", "total", "KEYS_ONLY"),
                index("by_region", "region", None, "INCLUDE", ["note"]),
                index("all_by_region", "region", "order_id", "ALL"),
            ])
        cls.orders = cls.res.Table("orders")
        for item in ORDERS:
            cls.orders.put_item(Item=item)

    def q(self, index_name, expression, values, **kwargs):
        return self.orders.query(IndexName=index_name, KeyConditionExpression=expression,
                                 ExpressionAttributeValues=values, **kwargs)

    def test_gsi_keys_only(self):
        resp = self.orders.query(IndexName="by_status",
                                 KeyConditionExpression=Key("status").eq("OPEN"))
        self.assertEqual(resp["Items"], [
            {"customer": "c1", "order_id": "o2", "status": "OPEN", "total": Decimal("2")},
            {"customer": "c2", "order_id": "o4", "status": "OPEN", "total": Decimal("5.5")},
            {"customer": "c1", "order_id": "o1", "status": "OPEN", "total": Decimal("10")},
        ])
        resp = self.orders.query(IndexName="by_status", ScanIndexForward=False,
                                 KeyConditionExpression=Key("status").eq("CLOSED")
                                 & Key("total").gt(0))
        self.assertEqual([(i["order_id"], i["total"]) for i in resp["Items"]],
                         [("o3", Decimal(100)), ("o6", Decimal(7))])

    def test_gsi_include_projects_only_named_attributes(self):
        resp = self.orders.query(IndexName="by_region",
                                 KeyConditionExpression=Key("region").eq("eu"))
        items = sorted(resp["Items"], key=lambda i: i["order_id"])
        self.assertEqual(items, [
            {"customer": "c1", "order_id": "o1", "region": "eu", "note": "n1"},
            {"customer": "c1", "order_id": "o3", "region": "eu"},
            {"customer": "c2", "order_id": "o4", "region": "eu", "note": "n4"},
            {"customer": "c1", "order_id": "o7", "region": "eu"},
        ])

    def test_gsi_all_projection(self):
        resp = self.orders.query(IndexName="all_by_region",
                                 KeyConditionExpression=Key("region").eq("us"))
        expected = [o for o in ORDERS if o.get("region") == "us"]
        self.assertEqual(resp["Items"], sorted(expected, key=lambda o: o["order_id"]))
        resp = self.orders.query(IndexName="all_by_region",
                                 KeyConditionExpression=Key("region").eq("eu")
                                 & Key("order_id").begins_with("o"),
                                 FilterExpression=Attr("total").gte(10),
                                 ProjectionExpression="order_id, extra")
        self.assertEqual(resp["Items"], [{"order_id": "o1", "extra": "x1"},
                                         {"order_id": "o3", "extra": "x3"}])
        self.assertEqual(resp["ScannedCount"], 4)

    def test_sparse_gsi_scan(self):
        resp = self.ddb.scan(TableName="orders", IndexName="by_status")
        self.assertEqual(sorted(i["order_id"]["S"] for i in resp["Items"]),
                         ["o1", "o2", "o3", "o4", "o6"])  # o5 has no status, o7 no total
        for item in resp["Items"]:
            self.assertEqual(set(item), {"customer", "order_id", "status", "total"})
        resp = self.ddb.scan(TableName="orders", IndexName="by_region", Select="COUNT")
        self.assertEqual(resp["Count"], 6)  # o6 has no region

    def test_gsi_paging_last_evaluated_key_has_index_and_table_keys(self):
        resp = self.ddb.query(TableName="orders", IndexName="by_status",
                              KeyConditionExpression="#s = :s",
                              ExpressionAttributeNames={"#s": "status"},
                              ExpressionAttributeValues={":s": {"S": "OPEN"}}, Limit=1)
        self.assertEqual(resp["LastEvaluatedKey"], {
            "status": {"S": "OPEN"}, "total": {"N": "2"},
            "customer": {"S": "c1"}, "order_id": {"S": "o2"}})
        pages = list(self.ddb.get_paginator("query").paginate(
            TableName="orders", IndexName="by_status", KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "OPEN"}}, PaginationConfig={"PageSize": 1}))
        self.assertEqual([i["order_id"]["S"] for p in pages for i in p["Items"]],
                         ["o2", "o4", "o1"])
        pages = list(self.ddb.get_paginator("scan").paginate(
            TableName="orders", IndexName="by_region", PaginationConfig={"PageSize": 2}))
        self.assertEqual(sorted(i["order_id"]["S"] for p in pages for i in p["Items"]),
                         ["o1", "o2", "o3", "o4", "o5", "o7"])

    def test_gsi_follows_item_changes(self):
        def by_status(status):
            resp = self.orders.query(IndexName="by_status",
                                     KeyConditionExpression=Key("status").eq(status))
            return [i["order_id"] for i in resp["Items"]]

        for order_id in ("m1", "m2"):
            self.addCleanup(self.orders.delete_item,
                            Key={"customer": "c9", "order_id": order_id})
        self.orders.put_item(Item={"customer": "c9", "order_id": "m1", "status": "MOVE_A",
                                   "total": 1, "region": "moon"})
        self.assertEqual(by_status("MOVE_A"), ["m1"])
        self.orders.update_item(Key={"customer": "c9", "order_id": "m1"},
                                UpdateExpression="SET #s = :b",
                                ExpressionAttributeNames={"#s": "status"},
                                ExpressionAttributeValues={":b": "MOVE_B"})
        self.assertEqual(by_status("MOVE_A"), [])
        self.assertEqual(by_status("MOVE_B"), ["m1"])
        # Changing the index sort key moves the entry too.
        self.orders.put_item(Item={"customer": "c9", "order_id": "m2", "status": "MOVE_B",
                                   "total": 5})
        self.assertEqual(by_status("MOVE_B"), ["m1", "m2"])
        self.orders.update_item(Key={"customer": "c9", "order_id": "m1"},
                                UpdateExpression="SET #t = :t",
                                ExpressionAttributeNames={"#t": "total"},
                                ExpressionAttributeValues={":t": 9})
        self.assertEqual(by_status("MOVE_B"), ["m2", "m1"])
        # Removing the index key takes the item out of the index.
        self.orders.update_item(Key={"customer": "c9", "order_id": "m1"},
                                UpdateExpression="REMOVE #s",
                                ExpressionAttributeNames={"#s": "status"})
        self.assertEqual(by_status("MOVE_B"), ["m2"])
        resp = self.orders.query(IndexName="all_by_region",
                                 KeyConditionExpression=Key("region").eq("moon"))
        self.assertEqual([i["order_id"] for i in resp["Items"]], ["m1"])
        self.assertNotIn("status", resp["Items"][0])
        # Deleting the item removes it from every index.
        self.orders.delete_item(Key={"customer": "c9", "order_id": "m1"})
        self.orders.delete_item(Key={"customer": "c9", "order_id": "m2"})
        self.assertEqual(by_status("MOVE_B"), [])
        resp = self.orders.query(IndexName="all_by_region",
                                 KeyConditionExpression=Key("region").eq("moon"))
        self.assertEqual(resp["Items"], [])

    def test_gsi_with_duplicate_index_keys(self):
        resp = self.orders.query(IndexName="by_region",
                                 KeyConditionExpression=Key("region").eq("us"),
                                 Select="COUNT")
        self.assertEqual(resp["Count"], 2)

    def test_lsi_query_keys_only_and_fetch(self):
        resp = self.orders.query(IndexName="by_total",
                                 KeyConditionExpression=Key("customer").eq("c1")
                                 & Key("total").between(2, 10))
        self.assertEqual(resp["Items"], [
            {"customer": "c1", "order_id": "o2", "total": Decimal(2)},
            {"customer": "c1", "order_id": "o1", "total": Decimal(10)},
        ])

    def test_lsi_select_all_attributes_fetches_from_table(self):
        # An LSI can fetch attributes it does not project from the table.
        resp = self.orders.query(IndexName="by_total", Select="ALL_ATTRIBUTES",
                                 KeyConditionExpression=Key("customer").eq("c1"),
                                 ScanIndexForward=False)
        self.assertEqual(resp["Items"], [ORDERS[2], ORDERS[0], ORDERS[1]])

    def test_lsi_projection_of_unprojected_attribute_fetches_from_table(self):
        resp = self.orders.query(IndexName="by_total", ConsistentRead=True,
                                 KeyConditionExpression=Key("customer").eq("c2"),
                                 ProjectionExpression="order_id, extra")
        self.assertEqual(resp["Items"], [{"order_id": "o5", "extra": "x5"},
                                         {"order_id": "o4", "extra": "x4"},
                                         {"order_id": "o6", "extra": "x6"}])

    def test_lsi_scan_is_sparse(self):
        resp = self.ddb.scan(TableName="orders", IndexName="by_total")
        self.assertEqual(sorted(i["order_id"]["S"] for i in resp["Items"]),
                         ["o1", "o2", "o3", "o4", "o5", "o6"])  # o7 has no total
        for item in resp["Items"]:
            self.assertEqual(set(item), {"customer", "order_id", "total"})

    def test_gsi_rejects_consistent_read(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.orders.query(IndexName="by_status", ConsistentRead=True,
                              KeyConditionExpression=Key("status").eq("OPEN"))
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("Consistent reads are not supported on global secondary indexes",
                      ctx.exception.response["Error"]["Message"])

    def test_unknown_index(self):
        with self.assertRaises(self.ddb.exceptions.ClientError) as ctx:
            self.orders.query(IndexName="nope", KeyConditionExpression=Key("customer").eq("c1"))
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("The table does not have the specified index: nope",
                      ctx.exception.response["Error"]["Message"])


class LegacyQueryScanTest(QueryScanTestBase):
    def test_key_conditions(self):
        resp = self.ddb.query(TableName="num_sk", KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "BETWEEN",
                   "AttributeValueList": [{"N": "-1"}, {"N": "1"}]}})
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["-1", "0", "0.001", "1"])
        resp = self.ddb.query(TableName="str_sk", KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "ab"}]}})
        self.assertEqual([i["sk"]["S"] for i in resp["Items"]], ["ab", "abc", "abd"])
        for op, expected in [("LT", ["-100", "-10"]), ("LE", ["-100", "-10", "-1.5"]),
                             ("GT", ["1000"]), ("GE", ["100", "1000"]), ("EQ", ["-1.5"])]:
            with self.subTest(op=op):
                value = {"LT": "-1.5", "LE": "-1.5", "GT": "100", "GE": "100", "EQ": "-1.5"}[op]
                resp = self.ddb.query(TableName="num_sk", KeyConditions={
                    "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                    "sk": {"ComparisonOperator": op, "AttributeValueList": [{"N": value}]}})
                self.assertEqual([i["sk"]["N"] for i in resp["Items"]], expected)

    def test_query_filter_and_attributes_to_get(self):
        resp = self.ddb.query(
            TableName="num_sk",
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "f"}]}},
            QueryFilter={"parity": {"ComparisonOperator": "EQ",
                                    "AttributeValueList": [{"S": "even"}]},
                         "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "50"}]}},
            AttributesToGet=["sk", "n"])
        self.assertEqual(resp["Items"], [{"sk": {"N": str(k)}, "n": {"N": str(k * 10)}}
                                         for k in (6, 8, 10)])
        self.assertEqual((resp["Count"], resp["ScannedCount"]), (3, 10))
        resp = self.ddb.query(
            TableName="num_sk",
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "f"}]}},
            QueryFilter={
                "n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "20"}]},
                "parity": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "even"}]}},
            ConditionalOperator="OR")
        self.assertEqual([i["sk"]["N"] for i in resp["Items"]], ["1", "2", "4", "6", "8", "10"])

    def test_scan_filter(self):
        resp = self.ddb.scan(TableName="num_sk", ScanFilter={
            "n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "80"}]},
            "parity": {"ComparisonOperator": "NOT_NULL"}})
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in resp["Items"]), [8, 9, 10])
        resp = self.ddb.scan(TableName="str_sk", ScanFilter={
            "sk": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "a"}, {"S": "zz"}]},
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}})
        self.assertEqual(sorted(i["sk"]["S"] for i in resp["Items"]), ["a", "zz"])
        resp = self.ddb.scan(TableName="num_sk", ScanFilter={
            "i": {"ComparisonOperator": "NULL"}, "n": {"ComparisonOperator": "NULL"}})
        self.assertEqual(sorted(i["sk"]["N"] for i in resp["Items"] if i["pk"]["S"] == "q"),
                         sorted(NUMS[:3]))
        self.assertEqual(resp["Count"], 3)


if __name__ == "__main__":
    unittest.main()
