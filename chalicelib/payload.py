"""What a request or a response weighs inside Lambda's payload, which is JSON too.

Lambda takes at most 6,291,456 bytes per synchronous invocation, for the event (the request)
and again for the result (the response). API Gateway's proxy event carries the request body as
a JSON string, and the Python runtime returns the response body as a JSON string, so both are
escaped once more on the way: measured here, not guessed from ``len``.
"""
from __future__ import annotations

import json

LAMBDA_PAYLOAD_LIMIT = 6_291_456
_CONTROL = bytes(range(0x20))


def response_cost(text: str) -> int:
    """An upper bound of the bytes ``text`` takes in a Lambda response payload, whichever way the
    runtime escapes: ASCII-escaped in the response body (control characters and non-ASCII as
    ``\\uXXXX``, 6 bytes, 12 for a character outside the BMP) and escaped again in the payload
    (each backslash doubled): 7 bytes a control character or Cyrillic letter, 14 an emoji.
    The python3.11 runtime escapes non-ASCII in the payload; 3.12+ does not; this bounds both."""
    return len(json.dumps(json.dumps(text)))


def event_body_cost(raw: bytes) -> int:
    """The bytes a request body takes in API Gateway's proxy event, where it is a JSON string:
    each ``"`` and ``\\`` gains a backslash, a control byte becomes ``\\u00XX``. A JSON body sent
    with ``\\u``-escaped letters (``requests``' ``json=``) weighs 7 bytes a letter there.
    Assumes non-ASCII UTF-8 passes unescaped, as API Gateway's events show it."""
    control = len(raw) - len(raw.translate(None, _CONTROL))
    return len(raw) + raw.count(b'"') + raw.count(b"\\") + 5 * control
