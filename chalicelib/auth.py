"""Bearer tokens carrying a role and a subject.

Locally the stack signs HS256 JWTs with ``KADR_TOKEN_SECRET`` (``python -m chalicelib.auth``
issues one). In AWS the same claims can come from a Cognito/JWT authorizer: when API Gateway
has already verified the token, its claims arrive in ``requestContext.authorizer.claims`` and
are used as they are (role from ``custom:role`` or the first ``cognito:groups`` entry).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.provider import settings

ROLES = ("reader", "uploader", "editor", "analyzer", "admin")
ISSUER = "kadr"
MAX_TOKEN_LIFETIME = 7 * 24 * 3600  # a leaked token must not work forever


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str


def issue_token(sub: str, role: str, ttl_seconds: int = 12 * 3600, secret: str | None = None) -> str:
    import jwt  # loaded on use: anonymous page reads never pay for it

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not 0 < ttl_seconds <= MAX_TOKEN_LIFETIME:
        raise ValueError(f"a token lives 1 s to {MAX_TOKEN_LIFETIME} s (7 days)")
    key = secret or settings().token_secret
    if not key:
        raise RuntimeError("KADR_TOKEN_SECRET is not set")
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": role, "iss": ISSUER, "iat": now, "exp": now + ttl_seconds},
                      key, algorithm="HS256")


def _verify(token: str) -> Principal:
    import jwt

    key = settings().token_secret
    if not key:
        raise Unauthorized("token verification is not configured")
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["sub", "role", "exp", "iat"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None
    if not isinstance(claims["iat"], (int, float)) or claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME:
        raise Unauthorized("token lifetime over 7 days")
    return _principal(claims)


def _principal(claims: Mapping[str, Any]) -> Principal:
    role = claims.get("role") or claims.get("custom:role")
    groups = claims.get("cognito:groups")
    if not role and groups:
        role = (groups if isinstance(groups, list) else str(groups).split(","))[0]
    if role not in ROLES or not claims.get("sub"):
        raise Unauthorized("token carries no known role")
    return Principal(sub=str(claims["sub"]), role=str(role))


def authenticate(headers: Mapping[str, str], context: Mapping[str, Any] | None) -> Principal | None:
    """The caller, or None when anonymous. A token that is present but bad is always a 401."""
    claims = ((context or {}).get("authorizer") or {}).get("claims")
    if claims:
        return _principal(claims)
    header = headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    return _verify(token.strip())


def require(principal: Principal | None, roles: Iterable[str] | None) -> None:
    """``roles=None`` admits anyone, anonymous included; admin passes every role check."""
    if roles is None:
        return
    if principal is None:
        raise Unauthorized("authentication required", headers={"WWW-Authenticate": "Bearer"})
    allowed = set(roles)
    if principal.role != "admin" and principal.role not in allowed:
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of: {', '.join(sorted(allowed))}")


def local_secret(start: Path | None = None) -> str | None:
    """The key ``kadr-token`` signs with: ``KADR_TOKEN_SECRET``, else the local stack's
    ``secret`` file in ``KADR_STATE_DIR``, else in the nearest ``.kadr/`` at or above ``start``
    (the working directory), where ``make dev`` keeps it. None when there is none."""
    if os.environ.get("KADR_TOKEN_SECRET"):
        return os.environ["KADR_TOKEN_SECRET"]
    if os.environ.get("KADR_STATE_DIR"):
        candidates = [Path(os.environ["KADR_STATE_DIR"]) / "secret"]
    else:
        here = (start or Path.cwd()).resolve()
        candidates = [folder / ".kadr" / "secret" for folder in (here, *here.parents)]
    for path in candidates:
        try:
            secret = path.read_text().strip()
        except OSError:
            continue
        if secret:
            return secret
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kadr-token", description="Issue a local Kadr bearer token.",
        epilog="The signing key is $KADR_TOKEN_SECRET, else the local stack's key: the file "
               "'secret' in $KADR_STATE_DIR, else in the nearest .kadr/ folder at or above the "
               "working directory (`make dev` creates .kadr/secret).")
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--sub", default=None, help="subject (user id); default local-<role>")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds (at most 7 days)")
    args = parser.parse_args(argv)
    if not 0 < args.ttl <= MAX_TOKEN_LIFETIME:
        parser.error(f"--ttl must be 1 to {MAX_TOKEN_LIFETIME} seconds (7 days)")
    secret = local_secret()
    if not secret:
        where = Path(os.environ["KADR_STATE_DIR"]) / "secret" if os.environ.get("KADR_STATE_DIR") else ".kadr/secret"
        print(f"kadr-token: error: no signing key: set KADR_TOKEN_SECRET, or run `make dev` once "
              f"(it writes {where})", file=sys.stderr)
        return 2
    print(issue_token(args.sub or f"local-{args.role}", args.role, args.ttl, secret=secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
