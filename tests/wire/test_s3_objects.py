"""S3 objects and buckets through boto3: put/get/head/delete/copy, ranges, conditionals,
listings (2,500 keys, delimiters, paginators), multipart, tagging, presigned URLs,
virtual-host addressing, checksums, and the error catalogue."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.client
import io
import os
import urllib.parse
import urllib.request
import zlib

import boto3.s3.transfer
import botocore.config
import botocore.exceptions

import harness

MiB = 1 << 20


class S3ObjectsTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client("s3")
        cls.s3.create_bucket(Bucket="objects")

    def error_of(self, fn, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(*args, **kwargs)
        return cm.exception.response

    # --- objects ---------------------------------------------------------------------------

    def test_put_get_head_delete(self):
        body = b"hello lake"
        put = self.s3.put_object(Bucket="objects", Key="a/b.txt", Body=body, ContentType="text/plain",
                                 Metadata={"Owner": "me"}, CacheControl="no-cache",
                                 ContentDisposition="attachment")
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = self.s3.get_object(Bucket="objects", Key="a/b.txt")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "text/plain")
        self.assertEqual(got["Metadata"], {"owner": "me"})
        self.assertEqual(got["CacheControl"], "no-cache")
        self.assertEqual(got["ContentDisposition"], "attachment")
        self.assertEqual(got["AcceptRanges"], "bytes")
        head = self.s3.head_object(Bucket="objects", Key="a/b.txt")
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["ETag"], put["ETag"])
        rid = head["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        self.assertRegex(rid, r"^[0-9A-F]{16}$")
        self.assertIn("x-amz-id-2", head["ResponseMetadata"]["HTTPHeaders"])
        self.s3.delete_object(Bucket="objects", Key="a/b.txt")
        self.s3.delete_object(Bucket="objects", Key="a/b.txt")  # idempotent
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="a/b.txt")
        self.assertEqual(err["Error"]["Code"], "NoSuchKey")
        self.assertEqual(err["Error"]["Key"], "a/b.txt")
        err = self.error_of(self.s3.head_object, Bucket="objects", Key="a/b.txt")
        self.assertEqual(err["Error"]["Code"], "404")
        # The object's bytes are a real file under the data dir; its folder went with it.
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "lake", "objects", "a")))

    def test_default_content_type_and_empty_object(self):
        self.s3.put_object(Bucket="objects", Key="empty", Body=b"")
        got = self.s3.get_object(Bucket="objects", Key="empty")
        self.assertEqual(got["Body"].read(), b"")
        self.assertEqual(got["ContentType"], "binary/octet-stream")

    def test_ranges(self):
        body = bytes(range(256)) * 4
        self.s3.put_object(Bucket="objects", Key="range", Body=body)
        r = self.s3.get_object(Bucket="objects", Key="range", Range="bytes=10-19")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(r["Body"].read(), body[10:20])
        self.assertEqual(r["ContentRange"], "bytes 10-19/1024")
        self.assertNotIn("ChecksumCRC32", r)
        r = self.s3.get_object(Bucket="objects", Key="range", Range="bytes=-100")
        self.assertEqual(r["Body"].read(), body[-100:])
        r = self.s3.get_object(Bucket="objects", Key="range", Range="bytes=1000-")
        self.assertEqual(r["Body"].read(), body[1000:])
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="range", Range="bytes=5000-")
        self.assertEqual(err["Error"]["Code"], "InvalidRange")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 416)

    def test_conditionals(self):
        put = self.s3.put_object(Bucket="objects", Key="cond", Body=b"v1")
        etag = put["ETag"]
        self.assertEqual(self.s3.get_object(Bucket="objects", Key="cond", IfMatch=etag)["Body"].read(), b"v1")
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="cond", IfMatch='"nope"')
        self.assertEqual(err["Error"]["Code"], "PreconditionFailed")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 412)
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="cond", IfNoneMatch=etag)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 304)
        err = self.error_of(self.s3.head_object, Bucket="objects", Key="cond", IfNoneMatch=etag)
        self.assertEqual(err["Error"]["Code"], "304")
        head = self.s3.head_object(Bucket="objects", Key="cond")
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="cond",
                            IfModifiedSince=head["LastModified"])
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 304)
        import datetime
        err = self.error_of(self.s3.get_object, Bucket="objects", Key="cond",
                            IfUnmodifiedSince=datetime.datetime(2000, 1, 1))
        self.assertEqual(err["Error"]["Code"], "PreconditionFailed")

    def test_response_overrides(self):
        self.s3.put_object(Bucket="objects", Key="ovr", Body=b"x", ContentType="text/plain")
        r = self.s3.get_object(Bucket="objects", Key="ovr", ResponseContentType="application/json",
                               ResponseContentDisposition="inline", ResponseCacheControl="max-age=1")
        self.assertEqual(r["ContentType"], "application/json")
        self.assertEqual(r["ContentDisposition"], "inline")
        self.assertEqual(r["CacheControl"], "max-age=1")

    def test_copy_object(self):
        self.s3.put_object(Bucket="objects", Key="src key+ü", Body=b"copy me", ContentType="text/x",
                           Metadata={"a": "1"})
        r = self.s3.copy_object(Bucket="objects", Key="dst", CopySource={"Bucket": "objects", "Key": "src key+ü"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], '"%s"' % hashlib.md5(b"copy me").hexdigest())
        got = self.s3.get_object(Bucket="objects", Key="dst")
        self.assertEqual(got["Body"].read(), b"copy me")
        self.assertEqual(got["Metadata"], {"a": "1"})
        self.assertEqual(got["ContentType"], "text/x")
        self.s3.copy_object(Bucket="objects", Key="dst2", CopySource="objects/src key+ü?versionId=null",
                            MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/y")
        got = self.s3.get_object(Bucket="objects", Key="dst2")
        self.assertEqual(got["Metadata"], {"b": "2"})
        self.assertEqual(got["ContentType"], "text/y")
        err = self.error_of(self.s3.copy_object, Bucket="objects", Key="dst",
                            CopySource={"Bucket": "objects", "Key": "dst"})
        self.assertEqual(err["Error"]["Code"], "InvalidRequest")
        err = self.error_of(self.s3.copy_object, Bucket="objects", Key="x",
                            CopySource={"Bucket": "objects", "Key": "missing"})
        self.assertEqual(err["Error"]["Code"], "NoSuchKey")

    def test_delete_objects(self):
        for i in range(5):
            self.s3.put_object(Bucket="objects", Key=f"del/{i}", Body=b"x")
        r = self.s3.delete_objects(Bucket="objects", Delete={"Objects": [{"Key": f"del/{i}"} for i in range(3)]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["del/0", "del/1", "del/2"])
        r = self.s3.delete_objects(Bucket="objects", Delete={"Objects": [{"Key": "del/3"}, {"Key": "nope"}], "Quiet": True})
        self.assertNotIn("Deleted", r)
        left = self.s3.list_objects_v2(Bucket="objects", Prefix="del/")
        self.assertEqual([o["Key"] for o in left["Contents"]], ["del/4"])

    def test_checksums(self):
        body = b"checksummed body"
        for algorithm in ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"):
            try:
                r = self.s3.put_object(Bucket="objects", Key="ck-" + algorithm, Body=body,
                                       ChecksumAlgorithm=algorithm)
            except Exception as e:  # botocore without CRT cannot compute CRC32C / CRC64NVME
                if "crt" in str(e).lower() or "MissingDependency" in type(e).__name__:
                    continue
                raise
            self.assertIn("Checksum" + algorithm, r)
            got = self.s3.get_object(Bucket="objects", Key="ck-" + algorithm, ChecksumMode="ENABLED")
            self.assertEqual(got["Body"].read(), body)
            self.assertEqual(got["Checksum" + algorithm], r["Checksum" + algorithm])
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        r = self.s3.put_object(Bucket="objects", Key="ck-explicit", Body=body, ChecksumCRC32=crc)
        self.assertEqual(r["ChecksumCRC32"], crc)
        err = self.error_of(self.s3.put_object, Bucket="objects", Key="ck-bad", Body=body,
                            ChecksumCRC32=base64.b64encode(b"\0\0\0\0").decode())
        self.assertEqual(err["Error"]["Code"], "BadDigest")
        err = self.error_of(self.s3.head_object, Bucket="objects", Key="ck-bad")
        self.assertEqual(err["Error"]["Code"], "404")  # nothing stored

    def test_content_md5(self):
        body = b"md5 body"
        good = base64.b64encode(hashlib.md5(body).digest()).decode()
        self.s3.put_object(Bucket="objects", Key="md5", Body=body, ContentMD5=good)
        bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        err = self.error_of(self.s3.put_object, Bucket="objects", Key="md5-bad", Body=body, ContentMD5=bad)
        self.assertEqual(err["Error"]["Code"], "BadDigest")
        err = self.error_of(self.s3.put_object, Bucket="objects", Key="md5-bad", Body=body, ContentMD5="xx")
        self.assertEqual(err["Error"]["Code"], "InvalidDigest")
        self.assertEqual(self.error_of(self.s3.head_object, Bucket="objects", Key="md5-bad")["Error"]["Code"], "404")

    def test_tagging(self):
        self.s3.put_object(Bucket="objects", Key="tagged", Body=b"x", Tagging="a=1&b=two")
        tags = self.s3.get_object_tagging(Bucket="objects", Key="tagged")["TagSet"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("a", "1"), ("b", "two")])
        self.s3.put_object_tagging(Bucket="objects", Key="tagged", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket="objects", Key="tagged")["TagSet"], [{"Key": "k", "Value": "v"}])
        self.assertEqual(self.s3.get_object(Bucket="objects", Key="tagged")["TagCount"], 1)
        self.s3.delete_object_tagging(Bucket="objects", Key="tagged")
        self.assertEqual(self.s3.get_object_tagging(Bucket="objects", Key="tagged")["TagSet"], [])
        err = self.error_of(self.s3.get_object_tagging, Bucket="objects", Key="untagged-missing")
        self.assertEqual(err["Error"]["Code"], "NoSuchKey")

    # --- buckets ---------------------------------------------------------------------------

    def test_bucket_lifecycle_and_errors(self):
        self.s3.create_bucket(Bucket="life")
        self.s3.create_bucket(Bucket="life")  # us-east-1: 200 for a bucket you own
        self.s3.head_bucket(Bucket="life")
        self.assertIn("life", [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.assertIsNone(self.s3.get_bucket_location(Bucket="life").get("LocationConstraint"))
        self.s3.put_object(Bucket="life", Key="k", Body=b"x")
        err = self.error_of(self.s3.delete_bucket, Bucket="life")
        self.assertEqual(err["Error"]["Code"], "BucketNotEmpty")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 409)
        self.s3.delete_object(Bucket="life", Key="k")
        self.s3.delete_bucket(Bucket="life")
        err = self.error_of(self.s3.head_bucket, Bucket="life")
        self.assertEqual(err["Error"]["Code"], "404")
        err = self.error_of(self.s3.list_objects_v2, Bucket="life")
        self.assertEqual(err["Error"]["Code"], "NoSuchBucket")
        err = self.error_of(self.s3.put_object, Bucket="life", Key="k", Body=b"x")
        self.assertEqual(err["Error"]["Code"], "NoSuchBucket")

    def test_other_region_and_owned_bucket(self):
        eu = self.client("s3", region="eu-west-1")
        eu.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(eu.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"], "eu-west-1")
        err = self.error_of(eu.create_bucket, Bucket="eu-bucket",
                            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(err["Error"]["Code"], "BucketAlreadyOwnedByYou")
        err = self.error_of(eu.create_bucket, Bucket="eu-bucket2")
        self.assertEqual(err["Error"]["Code"], "IllegalLocationConstraintException")

    def test_invalid_bucket_name_and_long_key(self):
        # Bypass botocore's client-side name check with a raw request.
        status, _, body = self.http("PUT", "/Bad_Name")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidBucketName</Code>", body)
        err = self.error_of(self.s3.put_object, Bucket="objects", Key="k" * 1025, Body=b"x")
        self.assertEqual(err["Error"]["Code"], "KeyTooLongError")

    def test_versioning_and_unsupported(self):
        v = self.s3.get_bucket_versioning(Bucket="objects")
        self.assertNotIn("Status", v)
        err = self.error_of(self.s3.put_bucket_versioning, Bucket="objects",
                            VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(err["Error"]["Code"], "NotImplemented")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertIn("versioning", err["Error"]["Message"])
        err = self.error_of(self.s3.get_bucket_policy, Bucket="objects")
        self.assertEqual(err["Error"]["Code"], "NotImplemented")
        self.assertIn("policy", err["Error"]["Message"])
        status, _, body = self.http("PATCH", "/objects/k")
        self.assertEqual(status, 405)
        self.assertIn(b"MethodNotAllowed", body)

    # --- listings --------------------------------------------------------------------------

    def test_listing_2500_keys_with_delimiters_and_paginators(self):
        self.s3.create_bucket(Bucket="many")
        keys = [f"d{d}/f{f:04d}" for d in range(5) for f in range(490)] + [f"top{i:02d}" for i in range(50)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: self.s3.put_object(Bucket="many", Key=k, Body=k.encode()), keys))
        paginator = self.s3.get_paginator("list_objects_v2")
        seen = []
        pages = 0
        for page in paginator.paginate(Bucket="many"):
            pages += 1
            self.assertLessEqual(page["KeyCount"], 1000)
            seen += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(keys))
        r = self.s3.list_objects_v2(Bucket="many", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], [f"d{d}/" for d in range(5)])
        self.assertEqual(len(r["Contents"]), 50)
        self.assertEqual(r["KeyCount"], 55)
        seen = []
        for page in paginator.paginate(Bucket="many", Delimiter="/", PaginationConfig={"PageSize": 7}):
            seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            seen += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(sorted(seen), sorted([f"d{d}/" for d in range(5)] + [f"top{i:02d}" for i in range(50)]))
        r = self.s3.list_objects_v2(Bucket="many", Prefix="d3/", StartAfter="d3/f0480", MaxKeys=5000)
        self.assertEqual([o["Key"] for o in r["Contents"]], [f"d3/f{f:04d}" for f in range(481, 490)])
        # v1 with marker and NextMarker
        v1 = self.client("s3").get_paginator("list_objects")
        seen = []
        for page in v1.paginate(Bucket="many", Prefix="d1/", PaginationConfig={"PageSize": 100}):
            seen += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(seen, [f"d1/f{f:04d}" for f in range(490)])
        r = self.s3.list_objects(Bucket="many", Delimiter="/", MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["NextMarker"], "d1/")
        err = self.error_of(self.s3.list_objects_v2, Bucket="many", ContinuationToken="garbage!")
        self.assertEqual(err["Error"]["Code"], "InvalidArgument")

    def test_listing_order_and_url_encoding(self):
        self.s3.create_bucket(Bucket="order")
        keys = ["b", "a b", "a/c", "é", "Z", "a+b", "a%2Fb", "tab\there"]
        for k in keys:
            self.s3.put_object(Bucket="order", Key=k, Body=b"x")
        r = self.s3.list_objects_v2(Bucket="order")  # botocore sends encoding-type=url
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(keys, key=lambda k: k.encode()))
        self.assertEqual(r["EncodingType"], "url")

    # --- multipart -------------------------------------------------------------------------

    def test_multipart_low_level(self):
        up = self.s3.create_multipart_upload(Bucket="objects", Key="mp", ContentType="text/mp")
        uid = up["UploadId"]
        p1 = os.urandom(5 * MiB)
        p2 = b"tail"
        e1 = self.s3.upload_part(Bucket="objects", Key="mp", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
        e2 = self.s3.upload_part(Bucket="objects", Key="mp", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
        parts = self.s3.list_parts(Bucket="objects", Key="mp", UploadId=uid)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in parts], [(1, 5 * MiB), (2, 4)])
        uploads = self.s3.list_multipart_uploads(Bucket="objects")["Uploads"]
        self.assertIn(uid, [u["UploadId"] for u in uploads])
        err = self.error_of(self.s3.complete_multipart_upload, Bucket="objects", Key="mp", UploadId=uid,
                            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
        self.assertEqual(err["Error"]["Code"], "InvalidPartOrder")
        err = self.error_of(self.s3.complete_multipart_upload, Bucket="objects", Key="mp", UploadId=uid,
                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]})
        self.assertEqual(err["Error"]["Code"], "InvalidPart")
        r = self.s3.complete_multipart_upload(Bucket="objects", Key="mp", UploadId=uid,
                                              MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        md5s = hashlib.md5(p1).digest() + hashlib.md5(p2).digest()
        self.assertEqual(r["ETag"], '"%s-2"' % hashlib.md5(md5s).hexdigest())
        got = self.s3.get_object(Bucket="objects", Key="mp")
        self.assertEqual(got["Body"].read(), p1 + p2)
        self.assertEqual(got["ContentType"], "text/mp")
        err = self.error_of(self.s3.list_parts, Bucket="objects", Key="mp", UploadId=uid)
        self.assertEqual(err["Error"]["Code"], "NoSuchUpload")

    def test_multipart_entity_too_small_abort_and_copy_part(self):
        self.s3.put_object(Bucket="objects", Key="copy-src", Body=b"0123456789" * 100)
        uid = self.s3.create_multipart_upload(Bucket="objects", Key="small")["UploadId"]
        e1 = self.s3.upload_part(Bucket="objects", Key="small", UploadId=uid, PartNumber=1, Body=b"a")["ETag"]
        e2 = self.s3.upload_part_copy(Bucket="objects", Key="small", UploadId=uid, PartNumber=2,
                                      CopySource={"Bucket": "objects", "Key": "copy-src"},
                                      CopySourceRange="bytes=10-29")["CopyPartResult"]["ETag"]
        self.assertEqual(e2, '"%s"' % hashlib.md5(b"0123456789" * 2).hexdigest())
        err = self.error_of(self.s3.complete_multipart_upload, Bucket="objects", Key="small", UploadId=uid,
                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        self.assertEqual(err["Error"]["Code"], "EntityTooSmall")
        self.s3.abort_multipart_upload(Bucket="objects", Key="small", UploadId=uid)
        err = self.error_of(self.s3.upload_part, Bucket="objects", Key="small", UploadId=uid, PartNumber=1, Body=b"x")
        self.assertEqual(err["Error"]["Code"], "NoSuchUpload")

    def test_transfer_manager_upload_and_download(self):
        path = os.path.join(self.tmp_dir, "up.bin")
        data = os.urandom(17 * MiB + 123)
        with open(path, "wb") as f:
            f.write(data)
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
        self.s3.upload_file(path, "objects", "transfer/big.bin", Config=config)
        head = self.s3.head_object(Bucket="objects", Key="transfer/big.bin")
        self.assertTrue(head["ETag"].endswith('-4"'))
        out = os.path.join(self.tmp_dir, "down.bin")
        self.s3.download_file("objects", "transfer/big.bin", out, Config=config)
        with open(out, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), hashlib.md5(data).hexdigest())
        # The resource API too.
        bucket = self.resource("s3").Bucket("objects")
        bucket.upload_fileobj(io.BytesIO(b"via resource"), "transfer/small")
        self.assertEqual(bucket.Object("transfer/small").get()["Body"].read(), b"via resource")

    # --- addressing and presigning ---------------------------------------------------------

    def test_virtual_host_addressing(self):
        self.s3.put_object(Bucket="objects", Key="vh/key.txt", Body=b"virtual")
        port = self.endpoint.rsplit(":", 1)[1]
        for host in (f"objects.localhost:{port}", f"objects.s3.localhost:{port}",
                     f"objects.s3.us-east-1.localhost:{port}"):
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            conn.request("GET", "/vh/key.txt", headers={"Host": host})
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"virtual"), host)
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        conn.request("GET", "/?list-type=2&prefix=vh/", headers={"Host": f"objects.localhost:{port}"})
        r = conn.getresponse()
        self.assertIn(b"<Key>vh/key.txt</Key>", r.read())

    def test_presigned_get_and_put(self):
        # SigV4 presigning (boto3's S3 default is still SigV2 query auth; see docs/compat/s3.md).
        s3 = self.client("s3", config=botocore.config.Config(signature_version="s3v4"))
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "objects", "Key": "presigned"}, ExpiresIn=60)
        req = urllib.request.Request(url, data=b"presigned body", method="PUT")
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.status, 200)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "objects", "Key": "presigned"}, ExpiresIn=60)
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), b"presigned body")

    def test_expect_continue_and_chunked_trailer_body(self):
        # STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer, as 2025 SDKs send it.
        body = b"trailer body" * 1000
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        encoded = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(body), body, crc.encode())
        port = int(self.endpoint.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("PUT", "/objects/chunked")
        for k, v in {"Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                     "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-decoded-content-length": str(len(body)),
                     "Transfer-Encoding": "chunked", "Expect": "100-continue"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(encoded), encoded))
        r = conn.getresponse()
        self.assertEqual(r.status, 200, r.read())
        self.assertEqual(r.getheader("x-amz-checksum-crc32"), crc)
        conn.close()
        got = self.s3.get_object(Bucket="objects", Key="chunked")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got.get("ContentEncoding"), None)


class S3VerifyTest(harness.ServerTestCase):
    """--auth verify: signatures, presigned URLs and chunk signatures."""

    @classmethod
    def setUpClass(cls):
        cls.credentials_dir = __import__("tempfile").mkdtemp()
        path = os.path.join(cls.credentials_dir, "credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = {harness.ACCESS_KEY_ID}\n"
                    f"aws_secret_access_key = {harness.SECRET_ACCESS_KEY}\n")
        cls.server_args = ("--auth", "verify", "--credentials-file", path)
        super().setUpClass()

    def test_signed_requests_and_bad_signature(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="secure")
        s3.put_object(Bucket="secure", Key="k", Body=b"signed")
        self.assertEqual(s3.get_object(Bucket="secure", Key="k")["Body"].read(), b"signed")
        bad = self.client("s3", secret_key="wrong-secret")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            bad.get_object(Bucket="secure", Key="k")
        self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")

    def test_presigned_urls_verified(self):
        s3 = self.client("s3", config=botocore.config.Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="presign")
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "p"}, ExpiresIn=60)
        with urllib.request.urlopen(urllib.request.Request(url, data=b"pp", method="PUT")) as r:
            self.assertEqual(r.status, 200)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "p"}, ExpiresIn=60)
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), b"pp")
        tampered = url.replace("presign/p", "presign/q")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(tampered)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", cm.exception.read())
        # Expired: signed an hour ago, valid for a minute.
        import datetime
        from unittest import mock
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
        with mock.patch("botocore.auth.get_current_datetime", return_value=past):
            old = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "p"}, ExpiresIn=60)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(old)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"AccessDenied", cm.exception.read())

if __name__ == "__main__":
    import unittest
    unittest.main()
