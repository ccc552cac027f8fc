"""The baseline for cold starts: a bare Chalice app with one DynamoDB client and one Query.

Same table and endpoint settings as Kadr (KADR_AWS_ENDPOINT, KADR_PAGES_TABLE,
AWS_DEFAULT_REGION); no auth, no validation, no logging, no view counting.
"""
import os

import boto3
from chalice import Chalice

app = Chalice(app_name="kadr-bare")

TABLE = os.environ.get("KADR_PAGES_TABLE", "kadr-dev-pages")
dynamodb = boto3.client("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                        endpoint_url=os.environ.get("KADR_AWS_ENDPOINT") or None)


@app.route("/pages/{page_id}")
def get_page(page_id):
    result = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues={":pk": {"S": f"PAGE#{page_id}"}})
    return {"items": result["Items"]}
