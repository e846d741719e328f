"""The lake after kill -9: only whole objects (bytes match ETags), no temp files; hostile keys
stay inside their bucket's folder."""

from __future__ import annotations

import hashlib
import os
import threading

import botocore.config
import botocore.exceptions

import harness

MiB = 1 << 20


class S3CrashTest(harness.ServerTestCase):
    def test_kill9_during_uploads_leaves_only_whole_objects(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="crash")
        for i in range(5):
            s3.put_object(Bucket="crash", Key=f"before/{i}", Body=os.urandom(64 * 1024))
        stop = threading.Event()
        enough = threading.Event()
        acked = {}

        def writer(n: int) -> None:
            client = self.client("s3", config=botocore.config.Config(connect_timeout=2, read_timeout=5))
            i = 0
            while not stop.is_set():
                body = os.urandom((n + 1) * 300 * 1024 + i)
                key = f"w{n}/{i % 4}"
                try:
                    etag = client.put_object(Bucket="crash", Key=key, Body=body)["ETag"]
                    acked[key] = etag
                    if len(acked) >= 6:
                        enough.set()
                except Exception:
                    return
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        # Let the writers get going: wait until every writer had some uploads acknowledged.
        self.assertTrue(enough.wait(120))
        self.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.restart()
        s3 = self.client("s3")
        objects = s3.list_objects_v2(Bucket="crash")["Contents"]
        self.assertGreaterEqual(len(objects), 5)
        for obj in objects:
            body = s3.get_object(Bucket="crash", Key=obj["Key"])["Body"].read()
            self.assertEqual('"%s"' % hashlib.md5(body).hexdigest(), obj["ETag"], obj["Key"])
            self.assertEqual(len(body), obj["Size"])
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "lake", ".staging")), [])
        # Files on disk are exactly the listed objects.
        on_disk = []
        root = os.path.join(self.data_dir, "lake", "crash")
        for dirpath, _, files in os.walk(root):
            on_disk += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
        self.assertEqual(sorted(on_disk), sorted(o["Key"] for o in objects))


class S3HostileKeysTest(harness.ServerTestCase):
    KEYS = ["../../etc/passwd", "a/../../b", "./x", "a//b", "%2e%2e/x", "..", ".", "/leading",
            "trailing/", "ünï cødé/ファイル", "a", "a/b", ".%dfake", "sp ace/\ttab", "x/./y/../z",
            "back\\slash\\..\\..\\up"]

    def test_hostile_keys_stay_inside_the_bucket(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="hostile")
        s3.create_bucket(Bucket="neighbour")
        for key in self.KEYS:
            s3.put_object(Bucket="hostile", Key=key, Body=key.encode())
        for key in self.KEYS:
            self.assertEqual(s3.get_object(Bucket="hostile", Key=key)["Body"].read(), key.encode(), key)
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="hostile")["Contents"]]
        self.assertEqual(listed, sorted(self.KEYS, key=lambda k: k.encode()))
        lake = os.path.realpath(os.path.join(self.data_dir, "lake"))
        bucket_dir = os.path.join(lake, "hostile")
        files = []
        for dirpath, _, names in os.walk(lake):
            for name in names:
                files.append(os.path.realpath(os.path.join(dirpath, name)))
        self.assertEqual(len(files), len(self.KEYS))
        for path in files:
            self.assertTrue(path.startswith(bucket_dir + os.sep), path)
        self.assertEqual(os.listdir(os.path.join(lake, "neighbour")), [])
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(lake), "etc")))
        # A normal key is a normal path.
        self.assertTrue(os.path.isfile(os.path.join(bucket_dir, "ünï cødé", "ファイル")))
        for key in self.KEYS:
            s3.delete_object(Bucket="hostile", Key=key)
        s3.delete_bucket(Bucket="hostile")
        self.assertFalse(os.path.exists(bucket_dir))


if __name__ == "__main__":
    import unittest
    unittest.main()
