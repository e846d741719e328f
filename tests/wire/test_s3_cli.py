"""S3 through the AWS CLI: mb, cp both ways with a 50 MB file (multipart), sync, ls
--recursive, rm --recursive, presign."""

from __future__ import annotations

import hashlib
import os
import urllib.request

import harness

MiB = 1 << 20


def md5_of(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


class S3CliTest(harness.ServerTestCase):
    def test_mb_cp_sync_ls_rm_presign(self):
        self.run_cli(["s3", "mb", "s3://cli-bucket"])
        self.assertIn("cli-bucket", self.run_cli(["s3", "ls"]).stdout)

        big = os.path.join(self.tmp_dir, "big.bin")
        with open(big, "wb") as f:
            for _ in range(50):
                f.write(os.urandom(MiB))
        self.run_cli(["s3", "cp", big, "s3://cli-bucket/data/big.bin"])
        head = self.client("s3").head_object(Bucket="cli-bucket", Key="data/big.bin")
        self.assertEqual(head["ContentLength"], 50 * MiB)
        self.assertTrue(head["ETag"].endswith('-7"'))  # the CLI's 8 MiB parts
        back = os.path.join(self.tmp_dir, "back.bin")
        self.run_cli(["s3", "cp", "s3://cli-bucket/data/big.bin", back])
        self.assertEqual(md5_of(back), md5_of(big))

        tree = os.path.join(self.tmp_dir, "tree")
        for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt", "spaced name é.txt"):
            os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
            with open(os.path.join(tree, rel), "w") as f:
                f.write(rel)
        self.run_cli(["s3", "sync", tree, "s3://cli-bucket/tree"])
        listing = self.run_cli(["s3", "ls", "--recursive", "s3://cli-bucket/tree/"]).stdout
        for rel in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.txt", "tree/spaced name é.txt"):
            self.assertIn(rel, listing)
        # A second sync uploads nothing.
        self.assertEqual(self.run_cli(["s3", "sync", tree, "s3://cli-bucket/tree"]).stdout.strip(), "")
        out = os.path.join(self.tmp_dir, "tree-back")
        self.run_cli(["s3", "sync", "s3://cli-bucket/tree", out])
        with open(os.path.join(out, "sub", "deeper", "c.txt")) as f:
            self.assertEqual(f.read(), "sub/deeper/c.txt")

        url = self.run_cli(["s3", "presign", "s3://cli-bucket/tree/a.txt", "--expires-in", "300"]).stdout.strip()
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), b"a.txt")

        self.run_cli(["s3", "rm", "--recursive", "s3://cli-bucket/"])
        self.assertEqual(self.run_cli(["s3", "ls", "--recursive", "s3://cli-bucket/"], check=False).stdout.strip(), "")
        self.run_cli(["s3", "rb", "s3://cli-bucket"])
        # Nothing is left in the lake's folders.
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "lake", "cli-bucket")))
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "lake", ".staging")), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
