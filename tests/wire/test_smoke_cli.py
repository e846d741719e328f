"""Smoke test: the server starts, answers its health check, and the AWS CLI can talk to it."""

import json
import unittest

import harness


class SmokeCliTest(harness.ServerTestCase):
    def test_health_check_answers_200(self):
        status, _, body = self.http_get("/_salespipe/health")
        self.assertEqual(status, 200, body)

    def test_cli_lists_tables(self):
        out = self.cli_json(["dynamodb", "list-tables"])
        self.assertIsInstance(out, dict, out)
        self.assertIsInstance(out.get("TableNames"), list, json.dumps(out))

    def test_cli_reports_unknown_table_as_resource_not_found(self):
        proc = self.run_cli(["dynamodb", "describe-table", "--table-name", "no_such_table"],
                            check=False)
        self.assertNotEqual(proc.returncode, 0, proc.stderr)  # AWS CLI v1 exits 255 here
        self.assertIn("ResourceNotFoundException", proc.stderr)


if __name__ == "__main__":
    unittest.main()
