"""Ingest: presigned multipart uploads straight to S3, tracked in DynamoDB."""
