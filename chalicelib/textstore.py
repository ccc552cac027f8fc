"""Long text kept in S3 under server-made keys, so DynamoDB items stay small."""
from __future__ import annotations

from typing import Iterable

from chalicelib.ids import new_id
from chalicelib.provider import client, settings


def put_text(prefix: str, text: str) -> str:
    key = f"{prefix}/{new_id()}.txt"
    client("s3").put_object(Bucket=settings().media_bucket, Key=key, Body=text.encode("utf-8"),
                            ContentType="text/plain; charset=utf-8")
    return key


def download_url(key: str) -> str:
    """A short-lived presigned GET of a stored text, answered as UTF-8 plain text."""
    return client("s3").generate_presigned_url("get_object", ExpiresIn=settings().presign_ttl, Params={
        "Bucket": settings().media_bucket, "Key": key,
        "ResponseContentType": "text/plain; charset=utf-8", "ResponseContentDisposition": "inline"})


def delete_texts(keys: Iterable[str]) -> None:
    """Best effort: an orphaned text object costs storage, never correctness."""
    objects = [{"Key": key} for key in keys]
    for start in range(0, len(objects), 1000):
        client("s3").delete_objects(Bucket=settings().media_bucket,
                                    Delete={"Objects": objects[start:start + 1000], "Quiet": True})
