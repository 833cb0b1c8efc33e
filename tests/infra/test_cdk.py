"""The AWS CDK app synthesises offline, keeps its security properties, and passes cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ROOT, require

pytestmark = pytest.mark.slow
INFRA = ROOT / "infra" / "aws"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    try:
        import aws_cdk  # noqa: F401
    except ImportError:
        require(False, "aws-cdk-lib is not installed")
    sys.path.insert(0, str(INFRA))
    try:
        from repairdesk_infra.app import build
    finally:
        sys.path.remove(str(INFRA))
    outdir = tmp_path_factory.mktemp("cdk.out")
    assembly = build(str(outdir)).synth()
    stack = assembly.get_stack_by_name("RepairDesk")
    return {"template": stack.template, "path": outdir / stack.template_file}


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["template"]["Resources"].values() if r["Type"] == kind]


def test_bucket_is_private_versioned_and_kms_encrypted(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 2  # documents, audit anchors
    for bucket in buckets:
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (locked,) = [b for b in buckets if b.get("ObjectLockEnabled")]
    retention = locked["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "COMPLIANCE" and retention["Days"] >= 2555
    policies = _resources(template, "AWS::S3::BucketPolicy")
    assert any("aws:SecureTransport" in json.dumps(p) for p in policies)


def test_database_encrypted_private_and_multi_az_switchable(template: dict[str, Any]) -> None:
    (db,) = _resources(template, "AWS::RDS::DBInstance")
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MultiAZ"] is False
    assert db["DeletionProtection"] is True
    sys.path.insert(0, str(INFRA))
    try:
        from repairdesk_infra.app import build
    finally:
        sys.path.remove(str(INFRA))
    multi = build(multi_az=True).synth().get_stack_by_name("RepairDesk").template
    (db_multi,) = [
        r["Properties"] for r in multi["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"
    ]
    assert db_multi["MultiAZ"] is True


def test_queue_has_dead_letter_queue_and_long_visibility(template: dict[str, Any]) -> None:
    queues = _resources(template, "AWS::SQS::Queue")
    main = [q for q in queues if "RedrivePolicy" in q]
    assert len(main) == 1
    assert main[0]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert main[0]["VisibilityTimeout"] >= 600  # longer than the slowest task
    assert all("KmsMasterKeyId" in q for q in queues)


def test_iam_is_least_privilege(template: dict[str, Any]) -> None:
    statements = [
        s for p in _resources(template, "AWS::IAM::Policy") for s in p["PolicyDocument"]["Statement"]
    ]
    bedrock = [s for s in statements if "bedrock:InvokeModel" in json.dumps(s["Action"])]
    assert bedrock, "no bedrock permission"
    for statement in bedrock:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert all("foundation-model/" in json.dumps(r) for r in resources), resources
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in actions and not any(
            a.endswith(":*") and a.startswith(("s3", "sqs", "bedrock")) for a in actions
        )


def test_secrets_logs_alarms_and_autoscaling(template: dict[str, Any]) -> None:
    assert len(_resources(template, "AWS::SecretsManager::Secret")) >= 3  # tokens, database, audit key
    containers = [
        c for t in _resources(template, "AWS::ECS::TaskDefinition") for c in t["ContainerDefinitions"]
    ]
    assert all("REPAIRDESK_AUDIT_KEY" in {s["Name"] for s in c.get("Secrets", [])} for c in containers)
    app_logs = [g for g in _resources(template, "AWS::Logs::LogGroup") if "KmsKeyId" in g]
    assert [g["RetentionInDays"] for g in app_logs] == [90]
    alarm_metrics = {a.get("MetricName") for a in _resources(template, "AWS::CloudWatch::Alarm")}
    assert {"ApproximateAgeOfOldestMessage", "HTTPCode_Target_5XX_Count", "GuardViolations"} <= alarm_metrics
    policies = _resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert any(p["PolicyType"] == "StepScaling" for p in policies)
    services = _resources(template, "AWS::ECS::Service")
    assert len(services) == 2


def test_cfn_lint_passes(template: dict[str, Any]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "parseable", str(template["path"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    assert result.returncode & 2 == 0, result.stdout + result.stderr
