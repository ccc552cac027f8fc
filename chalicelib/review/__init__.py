"""Rating as a service: the built-in analyzer as a refer-key client, findings and comments in
DynamoDB, the file's rating, the merged recommendation and the report (JSON and Excel)."""
