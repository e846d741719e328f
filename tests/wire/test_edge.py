"""The edge: health, metrics, request ids, keep-alive, 100-continue, limits, SigV4 verification."""

import http.client
import json
import os
import socket
import tempfile
import unittest

import botocore.exceptions

from harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, ServerTestCase

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]


def raw_request(host, port, data: bytes, read_bytes=65536, timeout=10.0) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(read_bytes)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)


class HealthAndMetricsTest(ServerTestCase):
    def test_health_answers(self):
        status, headers, body = self.http_get("/_salespipe/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")

    def test_metrics_count_requests_by_service_operation_and_status(self):
        ddb = self.client("dynamodb")
        ddb.create_table(TableName="metrics_t", KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS,
                         BillingMode="PAY_PER_REQUEST")
        for i in range(3):
            ddb.put_item(TableName="metrics_t", Item={"pk": {"S": f"k{i}"}})
        with self.assertRaises(ddb.exceptions.ResourceNotFoundException):
            ddb.get_item(TableName="no_such_table", Key={"pk": {"S": "x"}})
        status, headers, body = self.http_get("/_salespipe/metrics")
        self.assertEqual(status, 200)
        self.assertIn("text/plain", headers.get("Content-Type", ""))
        text = body.decode()
        put_lines = [l for l in text.splitlines()
                     if l.startswith("salespipe_requests_total{") and 'operation="PutItem"' in l
                     and 'service="dynamodb"' in l and 'status="200"' in l]
        self.assertEqual(len(put_lines), 1, text[:2000])
        self.assertGreaterEqual(float(put_lines[0].rsplit(" ", 1)[1]), 3)
        self.assertTrue(any('operation="GetItem"' in l and 'status="400"' in l
                            for l in text.splitlines()
                            if l.startswith("salespipe_requests_total{")))
        self.assertIn("salespipe_request_duration_seconds_bucket", text)
        self.assertIn("salespipe_store_bytes", text)

    def test_request_ids_are_unique(self):
        ddb = self.client("dynamodb")
        ids = {ddb.list_tables()["ResponseMetadata"]["RequestId"] for _ in range(5)}
        self.assertEqual(len(ids), 5)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        for _ in range(5):
            conn.request("POST", "/", body=b"{}", headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0"})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertIn("TableNames", json.loads(response.read()))
        conn.close()

    def test_unknown_operation(self):
        status, headers, body = self.http("POST", "/", body=b"{}", headers={
            "X-Amz-Target": "DynamoDB_20120810.NoSuchThing",
            "Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(status, 400)
        self.assertTrue(json.loads(body)["__type"].endswith("UnknownOperationException"))

    def test_expect_100_continue_is_answered_before_the_body(self):
        body = b"{}"
        head = (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                "Content-Type: application/x-amz-json-1.0\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
        with socket.create_connection((self.host, self.port), timeout=10) as sock:
            sock.sendall(head)
            interim = sock.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            sock.sendall(body)
            final = b""
            while b"TableNames" not in final:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                final += chunk
            self.assertIn(b"200", final.split(b"\r\n", 1)[0])

    def test_oversized_body_is_rejected_from_its_content_length(self):
        # Announce 64 MB but send nothing: the server must answer from the header alone.
        head = (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "X-Amz-Target: DynamoDB_20120810.PutItem\r\n"
                "Content-Type: application/x-amz-json-1.0\r\n"
                f"Content-Length: {64 << 20}\r\n\r\n").encode()
        answer = raw_request(self.host, self.port, head)
        status_line = answer.split(b"\r\n", 1)[0]
        self.assertIn(b"413", status_line, answer[:300])


class AuthVerifyTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.creds_dir = tempfile.mkdtemp(prefix="salespipe-creds-")
        path = os.path.join(cls.creds_dir, "credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = {ACCESS_KEY_ID}\n"
                    f"aws_secret_access_key = {SECRET_ACCESS_KEY}\n")
        cls.server_args = ("--auth", "verify", "--credentials-file", path)
        super().setUpClass()

    def table_names(self):
        return self.client("dynamodb").list_tables()["TableNames"]

    def test_good_signature_is_accepted(self):
        ddb = self.client("dynamodb")
        ddb.create_table(TableName="signed_ok", KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS,
                         BillingMode="PAY_PER_REQUEST")
        self.assertIn("signed_ok", self.table_names())

    def test_wrong_secret_is_rejected_and_changes_nothing(self):
        bad = self.client("dynamodb", secret_key="not-the-secret")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            bad.create_table(TableName="signed_bad", KeySchema=KEY_SCHEMA,
                             AttributeDefinitions=ATTRS, BillingMode="PAY_PER_REQUEST")
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertNotIn("signed_bad", self.table_names())

    def test_unknown_access_key_is_rejected(self):
        stranger = self.client("dynamodb", access_key="AKIDUNKNOWNKEY000000")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            stranger.list_tables()
        self.assertEqual(caught.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def test_missing_signature_is_rejected(self):
        status, headers, body = self.http("POST", "/", body=b"{}", headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0"})
        self.assertIn(status, (400, 403))
        self.assertTrue(json.loads(body)["__type"].endswith("MissingAuthenticationTokenException"))



class ScopeTest(ServerTestCase):
    """Region and account come from the SigV4 credential scope (spec 0)."""

    def test_tables_are_scoped_by_region(self):
        east = self.client("dynamodb")
        west = self.client("dynamodb", region="eu-west-1")
        west.create_table(TableName="scoped_west", KeySchema=KEY_SCHEMA,
                          AttributeDefinitions=ATTRS, BillingMode="PAY_PER_REQUEST")
        self.assertIn("scoped_west", west.list_tables()["TableNames"])
        self.assertNotIn("scoped_west", east.list_tables()["TableNames"])
        arn = west.describe_table(TableName="scoped_west")["Table"]["TableArn"]
        self.assertEqual(arn, "arn:aws:dynamodb:eu-west-1:000000000000:table/scoped_west")

    def test_twelve_digit_access_key_is_the_account(self):
        other = self.client("dynamodb", access_key="123456789012")
        other.create_table(TableName="scoped_acct", KeySchema=KEY_SCHEMA,
                           AttributeDefinitions=ATTRS, BillingMode="PAY_PER_REQUEST")
        arn = other.describe_table(TableName="scoped_acct")["Table"]["TableArn"]
        self.assertEqual(arn, "arn:aws:dynamodb:us-east-1:123456789012:table/scoped_acct")
        self.assertNotIn("scoped_acct", self.client("dynamodb").list_tables()["TableNames"])


if __name__ == "__main__":
    unittest.main()
