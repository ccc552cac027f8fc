"""Resources come from infra/resources.json, on moto exactly as the template says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chalice.app import Rate

from chalicelib.provider import client, settings
from infra.emulators import Scheduler, rate_seconds
from infra.provision import TEMPLATE, Template


def test_template_is_cfn_lint_clean() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_provisioned_bucket_matches_the_template(stack) -> None:
    s3 = client("s3")
    bucket = settings().media_bucket
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]
    assert cors["ExposeHeaders"] == ["ETag"] and "PUT" in cors["AllowedMethods"]
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]
    assert notification["QueueArn"] == stack.resources["UploadsQueue"]["Arn"]
    assert notification["Events"] == ["s3:ObjectCreated:*"]


def test_provisioned_table_and_queues_match_the_template(stack) -> None:
    ddb = client("dynamodb")
    table = ddb.describe_table(TableName=settings().pages_table)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_title"]
    ttl = ddb.describe_time_to_live(TableName=settings().pages_table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=settings().views_queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"] == stack.resources["ViewsDeadLetterQueue"]["Arn"]


def test_template_order_puts_dependencies_first() -> None:
    names = [name for name, _ in Template("dev", "us-east-1").ordered()]
    assert names.index("UploadsQueue") < names.index("UploadsQueuePolicy") < names.index("MediaBucket")
    assert names.index("ViewsDeadLetterQueue") < names.index("ViewsQueue")


def test_rate_expressions() -> None:
    assert rate_seconds(Rate(1, unit=Rate.MINUTES)) == 60
    assert rate_seconds("rate(2 hours)") == 7200
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_scheduler_invokes_schedule_handlers_at_their_rate(stack) -> None:
    scheduler = Scheduler(stack.app, "us-east-1")
    assert scheduler.jobs == {"report_views_backlog": 60, "sweep_stale_uploads": 300, "repair_refer_timers": 60}
    start = scheduler._next["report_views_backlog"]
    assert "report_views_backlog" not in scheduler.run_due(start - 1)
    assert "report_views_backlog" in scheduler.run_due(start)
    assert "report_views_backlog" not in scheduler.run_due(start + 30)
    assert "report_views_backlog" in scheduler.run_due(start + 60)
    assert scheduler.runs["report_views_backlog"] == 2
