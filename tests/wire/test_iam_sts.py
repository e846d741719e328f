"""IAM roles and STS over the query protocol (spec 0, 1.1 steps 3 and 5), with boto3 and the
AWS CLI: every operation, each modeled error class, persistence across kill -9, and that the
routing leaves S3 alone."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse

import botocore.config
import botocore.exceptions

import harness

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                   "Resource": "arn:aws:s3:::lake/*"}],
}
S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class IamRoleTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.iam = cls.client("iam")

    def create(self, name: str, **kwargs):
        return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST),
                                    **kwargs)["Role"]

    def test_create_get_list_delete(self):
        role = self.create("firehose-delivery", Path="/service/", Description="delivery",
                           MaxSessionDuration=7200, Tags=[{"Key": "team", "Value": "data"}])
        self.assertEqual(role["RoleName"], "firehose-delivery")
        self.assertEqual(role["Path"], "/service/")
        self.assertEqual(role["Arn"], "arn:aws:iam::000000000000:role/service/firehose-delivery")
        self.assertRegex(role["RoleId"], r"^AROA[A-Z0-9]{17}$")
        self.assertEqual(role["AssumeRolePolicyDocument"], TRUST)  # botocore decodes it
        self.assertEqual(role["MaxSessionDuration"], 7200)
        self.assertEqual(role["Description"], "delivery")
        self.assertEqual(role["Tags"], [{"Key": "team", "Value": "data"}])
        self.assertIsNotNone(role["CreateDate"].tzinfo)

        got = self.iam.get_role(RoleName="firehose-delivery")["Role"]
        self.assertEqual(got["RoleId"], role["RoleId"])
        self.assertEqual(got["CreateDate"], role["CreateDate"])
        self.assertEqual(got["AssumeRolePolicyDocument"], TRUST)
        # Names ignore case in IAM.
        self.assertEqual(self.iam.get_role(RoleName="FIREHOSE-DELIVERY")["Role"]["RoleName"],
                         "firehose-delivery")

        names = [r["RoleName"] for r in self.iam.list_roles()["Roles"]]
        self.assertIn("firehose-delivery", names)
        names = [r["RoleName"] for r in self.iam.list_roles(PathPrefix="/service/")["Roles"]]
        self.assertEqual(names, ["firehose-delivery"])
        self.assertEqual(self.iam.list_roles(PathPrefix="/other/")["Roles"], [])

        self.iam.delete_role(RoleName="firehose-delivery")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.get_role(RoleName="firehose-delivery")

    def test_list_roles_pages(self):
        for i in range(5):
            self.create(f"page-role-{i}", Path="/paged/")
        first = self.iam.list_roles(PathPrefix="/paged/", MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual([r["RoleName"] for r in first["Roles"]], ["page-role-0", "page-role-1"])
        paginator = self.iam.get_paginator("list_roles")
        names = [r["RoleName"] for page in paginator.paginate(
            PathPrefix="/paged/", PaginationConfig={"PageSize": 2}) for r in page["Roles"]]
        self.assertEqual(names, [f"page-role-{i}" for i in range(5)])

    def test_already_exists_and_bad_input(self):
        self.create("dup-role")
        with self.assertRaises(self.iam.exceptions.EntityAlreadyExistsException) as ctx:
            self.create("DUP-role")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        self.assertIn("dup-role", ctx.exception.response["Error"]["Message"].lower())
        with self.assertRaises(self.iam.exceptions.MalformedPolicyDocumentException):
            self.iam.create_role(RoleName="bad-trust", AssumeRolePolicyDocument="{not json")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.get_role(RoleName="bad-trust")  # nothing was created
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException) as ctx:
            self.iam.get_role(RoleName="missing-role")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(ctx.exception.response["Error"]["Type"], "Sender")
        # Constraints botocore does not check client-side (the pattern) come back as
        # ValidationError.
        with self.assertRaises(self.iam.exceptions.ClientError) as ctx:
            self.create("has space")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(self.iam.exceptions.ClientError) as ctx:
            self.create("bad-path", Path="no-slashes")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(self.iam.exceptions.InvalidInputException):
            self.create("arn-role")
            self.iam.attach_role_policy(RoleName="arn-role", PolicyArn="not-an-arn-at-all-xyz")

    def test_inline_policies(self):
        self.create("inline-role")
        self.iam.put_role_policy(RoleName="inline-role", PolicyName="LakeWrite",
                                 PolicyDocument=json.dumps(POLICY))
        self.iam.put_role_policy(RoleName="inline-role", PolicyName="Another",
                                 PolicyDocument=json.dumps(POLICY))
        got = self.iam.get_role_policy(RoleName="inline-role", PolicyName="LakeWrite")
        self.assertEqual(got["RoleName"], "inline-role")
        self.assertEqual(got["PolicyName"], "LakeWrite")
        self.assertEqual(got["PolicyDocument"], POLICY)
        self.assertEqual(self.iam.list_role_policies(RoleName="inline-role")["PolicyNames"],
                         ["Another", "LakeWrite"])
        with self.assertRaises(self.iam.exceptions.DeleteConflictException) as ctx:
            self.iam.delete_role(RoleName="inline-role")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        with self.assertRaises(self.iam.exceptions.MalformedPolicyDocumentException):
            self.iam.put_role_policy(RoleName="inline-role", PolicyName="Bad",
                                     PolicyDocument="[1, 2")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.get_role_policy(RoleName="inline-role", PolicyName="Nope")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.put_role_policy(RoleName="no-such-role", PolicyName="P",
                                     PolicyDocument=json.dumps(POLICY))
        self.iam.delete_role_policy(RoleName="inline-role", PolicyName="LakeWrite")
        self.iam.delete_role_policy(RoleName="inline-role", PolicyName="Another")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.delete_role_policy(RoleName="inline-role", PolicyName="Another")
        self.assertEqual(self.iam.list_role_policies(RoleName="inline-role")["PolicyNames"], [])
        self.iam.delete_role(RoleName="inline-role")

    def test_attached_policies(self):
        self.create("attached-role")
        self.iam.attach_role_policy(RoleName="attached-role", PolicyArn=S3_FULL)
        self.iam.attach_role_policy(RoleName="attached-role", PolicyArn=LAMBDA_BASIC)
        self.iam.attach_role_policy(RoleName="attached-role", PolicyArn=S3_FULL)  # no-op
        attached = self.iam.list_attached_role_policies(RoleName="attached-role")
        self.assertEqual(attached["AttachedPolicies"], [
            {"PolicyName": "AmazonS3FullAccess", "PolicyArn": S3_FULL},
            {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC},
        ])
        self.assertFalse(attached["IsTruncated"])
        only = self.iam.list_attached_role_policies(RoleName="attached-role",
                                                    PathPrefix="/service-role/")
        self.assertEqual([p["PolicyArn"] for p in only["AttachedPolicies"]], [LAMBDA_BASIC])
        with self.assertRaises(self.iam.exceptions.DeleteConflictException):
            self.iam.delete_role(RoleName="attached-role")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.detach_role_policy(RoleName="attached-role",
                                        PolicyArn="arn:aws:iam::aws:policy/NotAttached")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.attach_role_policy(RoleName="no-such-role", PolicyArn=S3_FULL)
        self.iam.detach_role_policy(RoleName="attached-role", PolicyArn=S3_FULL)
        self.iam.detach_role_policy(RoleName="attached-role", PolicyArn=LAMBDA_BASIC)
        self.iam.delete_role(RoleName="attached-role")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.delete_role(RoleName="attached-role")

    def test_update_trust_and_tags(self):
        self.create("update-role")
        trust = dict(TRUST, Statement=[dict(TRUST["Statement"][0],
                                            Principal={"Service": "lambda.amazonaws.com"})])
        self.iam.update_assume_role_policy(RoleName="update-role", PolicyDocument=json.dumps(trust))
        self.assertEqual(
            self.iam.get_role(RoleName="update-role")["Role"]["AssumeRolePolicyDocument"], trust)
        with self.assertRaises(self.iam.exceptions.MalformedPolicyDocumentException):
            self.iam.update_assume_role_policy(RoleName="update-role", PolicyDocument="nope")
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.update_assume_role_policy(RoleName="nobody", PolicyDocument=json.dumps(trust))

        self.iam.tag_role(RoleName="update-role", Tags=[{"Key": "b", "Value": "2"},
                                                        {"Key": "a", "Value": "1"}])
        self.iam.tag_role(RoleName="update-role", Tags=[{"Key": "a", "Value": "one"}])
        self.assertEqual(self.iam.list_role_tags(RoleName="update-role")["Tags"],
                         [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"}])
        self.iam.untag_role(RoleName="update-role", TagKeys=["b", "not-there"])
        self.assertEqual(self.iam.get_role(RoleName="update-role")["Role"]["Tags"],
                         [{"Key": "a", "Value": "one"}])
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.tag_role(RoleName="nobody", Tags=[{"Key": "a", "Value": "1"}])
        with self.assertRaises(self.iam.exceptions.LimitExceededException):
            self.iam.tag_role(RoleName="update-role",
                              Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.assertEqual(len(self.iam.list_role_tags(RoleName="update-role")["Tags"]), 1)

        self.iam.update_role(RoleName="update-role", Description="new", MaxSessionDuration=3600)
        self.assertEqual(self.iam.get_role(RoleName="update-role")["Role"]["Description"], "new")

    def test_unknown_action_and_raw_form(self):
        status, headers, body = self.http(
            "POST", "/", body=b"Action=Frobnicate&Version=2010-05-08",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidAction</Code>", body)
        self.assertIn(b'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"', body)
        self.assertEqual(headers["Content-Type"], "text/xml")
        self.assertEqual(len(headers["x-amzn-RequestId"]), 36)
        self.assertNotIn("x-amz-request-id", {k.lower() for k in headers})
        # Unsigned GetCallerIdentity (spec 1.1 step 5: form POST to /).
        status, _, body = self.http(
            "POST", "/", body=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        self.assertIn(b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
                      body)
        self.assertIn(b"<Account>000000000000</Account>", body)

    def test_cli(self):
        out = self.cli_json(["iam", "create-role", "--role-name", "cli-role",
                             "--assume-role-policy-document", json.dumps(TRUST)])
        self.assertEqual(out["Role"]["Arn"], "arn:aws:iam::000000000000:role/cli-role")
        self.run_cli(["iam", "put-role-policy", "--role-name", "cli-role", "--policy-name", "p",
                      "--policy-document", json.dumps(POLICY)])
        self.run_cli(["iam", "attach-role-policy", "--role-name", "cli-role",
                      "--policy-arn", S3_FULL])
        self.assertEqual(self.cli_json(["iam", "get-role-policy", "--role-name", "cli-role",
                                        "--policy-name", "p"])["PolicyDocument"], POLICY)
        self.assertEqual(self.cli_json(["iam", "list-role-policies", "--role-name",
                                        "cli-role"])["PolicyNames"], ["p"])
        self.assertEqual(self.cli_json(["iam", "list-attached-role-policies", "--role-name",
                                        "cli-role"])["AttachedPolicies"][0]["PolicyArn"], S3_FULL)
        proc = self.run_cli(["iam", "delete-role", "--role-name", "cli-role"], check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("DeleteConflict", proc.stderr)
        self.run_cli(["iam", "detach-role-policy", "--role-name", "cli-role",
                      "--policy-arn", S3_FULL])
        self.run_cli(["iam", "delete-role-policy", "--role-name", "cli-role",
                      "--policy-name", "p"])
        self.run_cli(["iam", "delete-role", "--role-name", "cli-role"])
        proc = self.run_cli(["iam", "get-role", "--role-name", "cli-role"], check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("NoSuchEntity", proc.stderr)
        ident = self.cli_json(["sts", "get-caller-identity"])
        self.assertEqual(ident["Account"], "000000000000")

    def test_roles_survive_kill9(self):
        role = self.create("durable-role", Tags=[{"Key": "k", "Value": "v"}])
        self.iam.put_role_policy(RoleName="durable-role", PolicyName="p",
                                 PolicyDocument=json.dumps(POLICY))
        self.iam.attach_role_policy(RoleName="durable-role", PolicyArn=S3_FULL)
        self.kill9()
        self.restart()
        iam = self.client("iam")
        got = iam.get_role(RoleName="durable-role")["Role"]
        self.assertEqual(got["RoleId"], role["RoleId"])
        self.assertEqual(got["Tags"], [{"Key": "k", "Value": "v"}])
        self.assertEqual(iam.get_role_policy(RoleName="durable-role",
                                             PolicyName="p")["PolicyDocument"], POLICY)
        self.assertEqual(len(iam.list_attached_role_policies(
            RoleName="durable-role")["AttachedPolicies"]), 1)


class StsTest(harness.ServerTestCase):
    def test_get_caller_identity(self):
        ident = self.client("sts").get_caller_identity()
        self.assertEqual(ident["Account"], "000000000000")
        self.assertEqual(ident["Arn"], "arn:aws:iam::000000000000:root")
        self.assertEqual(ident["UserId"], "000000000000")
        # A 12-digit access key id is the account (spec 0).
        ident = self.client("sts", access_key="123456789012").get_caller_identity()
        self.assertEqual(ident["Account"], "123456789012")

    def test_assume_role_credentials_work(self):
        iam = self.client("iam")
        role = iam.create_role(RoleName="assumable",
                               AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
        sts = self.client("sts")
        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="etl-run", DurationSeconds=900)
        creds = out["Credentials"]
        self.assertRegex(creds["AccessKeyId"], r"^ASIA[A-Z0-9]{16}$")
        self.assertEqual(len(creds["SecretAccessKey"]), 40)
        self.assertTrue(creds["SessionToken"])
        self.assertIsNotNone(creds["Expiration"].tzinfo)
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::000000000000:assumed-role/assumable/etl-run")
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], role["RoleId"] + ":etl-run")
        # The temporary credentials are accepted everywhere and name the role.
        session = self.session(access_key=creds["AccessKeyId"],
                               secret_key=creds["SecretAccessKey"])
        assumed = session.client("sts", endpoint_url=self.endpoint,
                                 aws_session_token=creds["SessionToken"])
        ident = assumed.get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:sts::000000000000:assumed-role/assumable/etl-run")
        self.assertEqual(ident["UserId"], role["RoleId"] + ":etl-run")
        s3 = session.client("s3", endpoint_url=self.endpoint,
                            aws_session_token=creds["SessionToken"])
        s3.create_bucket(Bucket="assumed-bucket")
        self.assertIn("assumed-bucket", [b["Name"] for b in s3.list_buckets()["Buckets"]])

        # Roles are not required to exist (nothing is enforced).
        out = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/elsewhere",
                              RoleSessionName="x1")
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::111122223333:assumed-role/elsewhere/x1")

    def test_assume_role_bad_input(self):
        sts = self.client("sts")
        with self.assertRaises(sts.exceptions.ClientError) as ctx:
            sts.assume_role(RoleArn="arn:aws:iam::000000000000:user/not-a-role",
                            RoleSessionName="s1")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(sts.exceptions.ClientError) as ctx:
            sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/r",
                            RoleSessionName="bad session")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")

    def test_get_session_token_and_cli(self):
        creds = self.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
        self.assertRegex(creds["AccessKeyId"], r"^ASIA")
        out = self.cli_json(["sts", "assume-role", "--role-arn",
                             "arn:aws:iam::000000000000:role/cli", "--role-session-name", "cli"])
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::000000000000:assumed-role/cli/cli")


class IamVerifyTest(harness.ServerTestCase):
    """--auth verify: IAM and STS check SigV4 like every service and answer in their own
    protocol."""

    @classmethod
    def setUpClass(cls):
        cls.credentials_dir = tempfile.mkdtemp()
        path = os.path.join(cls.credentials_dir, "credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = {harness.ACCESS_KEY_ID}\n"
                    f"aws_secret_access_key = {harness.SECRET_ACCESS_KEY}\n")
        cls.server_args = ("--auth", "verify", "--credentials-file", path)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.credentials_dir, ignore_errors=True)

    def test_signed_requests_pass_and_bad_ones_are_rejected(self):
        iam = self.client("iam", region="eu-west-1")
        iam.create_role(RoleName="verified", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertEqual(self.client("sts").get_caller_identity()["Account"], "000000000000")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client("iam", secret_key="wrong-secret").get_role(RoleName="verified")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client("sts", access_key="AKIDUNKNOWN").get_caller_identity()
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidClientTokenId")
        # Unsigned form POSTs are IAM's, and rejected in IAM's XML.
        status, _, body = self.http(
            "POST", "/", body=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 403)
        self.assertIn(b"<ErrorResponse", body)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", body)


class RoutingTest(harness.ServerTestCase):
    def test_s3_keeps_its_requests(self):
        s3 = self.client("s3")
        # A bucket named like a Lambda API date segment, signed for S3, is S3's.
        s3.create_bucket(Bucket="2015-03-31")
        s3.put_object(Bucket="2015-03-31", Key="functions/x", Body=b"data")
        self.assertEqual(s3.get_object(Bucket="2015-03-31", Key="functions/x")["Body"].read(),
                         b"data")
        self.assertIn("2015-03-31", [b["Name"] for b in s3.list_buckets()["Buckets"]])
        # A form POST signed for S3 is S3's too (here: a POST to the service root, which S3
        # does not allow).
        status, _, body = self.http(
            "POST", "/", body=b"Action=GetCallerIdentity",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/s3/"
                                      "aws4_request, SignedHeaders=host, Signature=00"})
        self.assertNotIn(b"GetCallerIdentityResponse", body)
        # And the IAM side works next to it.
        iam = self.client("iam")
        iam.create_role(RoleName="2015-03-31", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertEqual(iam.get_role(RoleName="2015-03-31")["Role"]["RoleName"], "2015-03-31")
        self.assertEqual(s3.get_object(Bucket="2015-03-31", Key="functions/x")["Body"].read(),
                         b"data")

    def test_presigned_s3_url_is_s3(self):
        s3 = self.client("s3", config=botocore.config.Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="presigned")
        s3.put_object(Bucket="presigned", Key="k", Body=b"v")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "k"})
        path = url[len(self.endpoint):]
        self.assertIn("X-Amz-Credential", urllib.parse.unquote(path))
        status, _, body = self.http_get(path)
        self.assertEqual((status, body), (200, b"v"))


if __name__ == "__main__":
    import unittest
    unittest.main()
