"""Create the template's resources on an AWS-compatible endpoint (moto server locally).

The CloudFormation template in resources.json is the one definition; this applies it through
boto3 for engines without CloudFormation, translating each resource's properties to the calls
that create it. Re-running it is safe: what exists is kept.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

TEMPLATE = Path(__file__).with_name("resources.json")
ACCOUNT = "123456789012"


class Template:
    def __init__(self, stage: str, region: str, path: Path = TEMPLATE) -> None:
        self.doc = json.loads(path.read_text())
        self.params = {"Stage": stage, "AWS::Region": region, "AWS::AccountId": ACCOUNT,
                       "AWS::Partition": "aws"}
        self.physical: dict[str, dict[str, str]] = {}

    def resolve(self, value: Any) -> Any:
        """Evaluate Ref, Fn::Sub and Fn::GetAtt against parameters and created resources."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            name = value["Ref"]
            return self.params[name] if name in self.params else self.physical[name]["Ref"]
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.params[m.group(1)]), value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            name, attribute = value["Fn::GetAtt"]
            return self.physical[name][attribute]
        return {k: self.resolve(v) for k, v in value.items()}

    def ordered(self) -> list[tuple[str, dict[str, Any]]]:
        """Resources in dependency order (DependsOn and intrinsic references)."""
        resources = self.doc["Resources"]
        done: list[str] = []

        def deps(name: str) -> set[str]:
            text = json.dumps(resources[name])
            refs = set(re.findall(r'"Ref": "([^"]+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["([^"]+)"', text))
            depends = resources[name].get("DependsOn", [])
            return ({*refs, *([depends] if isinstance(depends, str) else depends)} & set(resources)) - {name}

        def visit(name: str) -> None:
            if name not in done:
                for dep in sorted(deps(name)):
                    visit(dep)
                done.append(name)

        for name in resources:
            visit(name)
        return [(name, resources[name]) for name in done]


def _queue(t: Template, clients: Callable[[str], Any], props: dict[str, Any]) -> dict[str, str]:
    sqs = clients("sqs")
    attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in props.items()
                  if k not in ("QueueName", "Tags")}
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"Ref": url, "Arn": arn, "QueueName": props["QueueName"]}


def _queue_policy(t: Template, clients: Callable[[str], Any], props: dict[str, Any]) -> dict[str, str]:
    for url in props["Queues"]:
        clients("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return {"Ref": "policy"}


def _bucket(t: Template, clients: Callable[[str], Any], props: dict[str, Any]) -> dict[str, str]:
    s3 = clients("s3")
    name = props["BucketName"]
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    if "CorsConfiguration" in props:
        rules = [{"AllowedMethods": r["AllowedMethods"], "AllowedOrigins": r["AllowedOrigins"],
                  "AllowedHeaders": r.get("AllowedHeaders", []), "ExposeHeaders": r.get("ExposedHeaders", []),
                  "MaxAgeSeconds": r.get("MaxAge", 0)} for r in props["CorsConfiguration"]["CorsRules"]]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if "LifecycleConfiguration" in props:
        rules = [{"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")},
                  **({"AbortIncompleteMultipartUpload": r["AbortIncompleteMultipartUpload"]}
                     if "AbortIncompleteMultipartUpload" in r else {}),
                  **({"Expiration": {"Days": r["ExpirationInDays"]}} if "ExpirationInDays" in r else {})}
                 for r in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    queues = props.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
    if queues:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": q["Queue"], "Events": [q["Event"]],
             **({"Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}} if "Filter" in q else {})}
            for q in queues]})
    return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}


def _table(t: Template, clients: Callable[[str], Any], props: dict[str, Any]) -> dict[str, str]:
    ddb = clients("dynamodb")
    kwargs = {k: props[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode",
                                    "GlobalSecondaryIndexes", "LocalSecondaryIndexes") if k in props}
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    try:
        ddb.create_table(**kwargs)
    except ddb.exceptions.ResourceInUseException:
        pass
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
    described = ddb.describe_table(TableName=props["TableName"])["Table"]
    return {"Ref": props["TableName"], "Arn": described["TableArn"],
            "StreamArn": described.get("LatestStreamArn", "")}


_HANDLERS = {
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
}


def provision(clients: Callable[[str], Any], stage: str, region: str) -> dict[str, dict[str, str]]:
    """Create every resource; returns logical name -> its physical names and ARNs."""
    template = Template(stage, region)
    for name, resource in template.ordered():
        props = template.resolve(resource.get("Properties", {}))
        template.physical[name] = _HANDLERS[resource["Type"]](template, clients, props)
    return template.physical
