"""The ID token checks an RP makes (OIDC Core 3.1.3.7 and 12.2), cheap enough for every sign-in of the load
generator: the RS256 signature against the issuer's JWKS, then `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`
and `at_hash`. Before this the scenario read the claims unverified, so a forged or swapped token counted as
a good sign-in.

The issuer's keys are fetched once per process (`key_set(issuer)`) and again only when a token names a key
that is not known (key rotation), at most once every `REFETCH_SECONDS`, so a run of tokens with a made-up
`kid` cannot turn into a run of JWKS requests. One RSA-2048 verification costs tens of microseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM = "RS256"
"""The realm's ID token signature algorithm (Keycloak's default). Anything else, `none` and HS256 included,
is refused: the RP decides the algorithm, never the token."""
REFETCH_SECONDS = 10.0
CLOCK_LEEWAY_SECONDS = 60


class TokenRejected(ValueError):
    """The ID token fails a check an RP must make; the message names the check."""


Fetch = Callable[[], Mapping[str, Any]]
"""Fetches the issuer's JWKS document (its `jwks_uri`)."""


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise TokenRejected("not base64url") from None


def _int(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return int.from_bytes(_b64(value), "big")


class KeySet:
    """The issuer's RSA signing keys by `kid`, loaded from its JWKS on first use and on an unknown `kid`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()  # gevent's under Locust (monkey-patched): one fetch, the others wait
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.fetched_at = -math.inf
        self.fetches = 0

    def load(self, jwks: Mapping[str, Any]) -> None:
        """Keep the RSA keys meant for signatures with our algorithm (Keycloak also publishes an encryption
        key, RSA-OAEP, which must not verify anything)."""
        keys: dict[str, rsa.RSAPublicKey] = {}
        for jwk in jwks.get("keys", []) if isinstance(jwks.get("keys"), list) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
                continue
            try:
                keys[jwk["kid"]] = rsa.RSAPublicNumbers(_int(jwk.get("e")), _int(jwk.get("n"))).public_key()
            except (ValueError, TokenRejected):
                continue  # a malformed key verifies nothing
        self.keys = keys

    def key(self, kid: str, fetch: Fetch) -> rsa.RSAPublicKey:
        key = self.keys.get(kid)
        if key is not None:
            return key
        with self.lock:  # a user that finds no key while another fetches waits for that fetch
            key = self.keys.get(kid)
            if key is None and self.clock() - self.fetched_at >= REFETCH_SECONDS:
                self.fetched_at = self.clock()
                self.fetches += 1
                self.load(fetch())
                key = self.keys.get(kid)
        if key is None:
            raise TokenRejected(f"signed with unknown key {kid!r}")
        return key


_KEY_SETS: dict[str, KeySet] = {}


def key_set(issuer: str) -> KeySet:
    """This process's keys of `issuer` (one fetch per process, not per user or sign-in)."""
    keys = _KEY_SETS.get(issuer)
    if keys is None:
        keys = _KEY_SETS[issuer] = KeySet()
    return keys


def token_hash(token: str) -> str:
    """`at_hash` for RS256: the left half of SHA-256 of the ASCII token, base64url without padding."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def verify_id_token(
    token: str,
    keys: KeySet,
    fetch: Fetch,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    nonce_required: bool = True,
    access_token: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Return the claims of an ID token issued by `issuer` to `client_id`, or raise TokenRejected.

    `nonce` is the one the authorization request sent; a refreshed ID token (`nonce_required=False`) may
    leave it out but must not carry another (OIDC Core 12.2). `access_token`, if given, must match
    `at_hash` when the token has one."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise TokenRejected("not a signed JWT (three parts)")
    try:
        header = json.loads(_b64(parts[0]))
    except ValueError:
        raise TokenRejected("header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise TokenRejected(f"algorithm {header.get('alg') if isinstance(header, dict) else None!r}")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected("no kid")
    try:
        keys.key(kid, fetch).verify(
            _b64(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise TokenRejected("signature does not verify") from None
    except UnicodeEncodeError:
        raise TokenRejected("not ASCII") from None
    try:
        claims = json.loads(_b64(parts[1]))
    except ValueError:
        raise TokenRejected("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise TokenRejected("payload is not an object")
    return _check_claims(claims, issuer, client_id, nonce, nonce_required, access_token, now)


def _check_claims(
    claims: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str | None,
    nonce_required: bool,
    access_token: str | None,
    now: float | None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    problems = []
    if claims.get("iss") != issuer:
        problems.append(f"iss {claims.get('iss')!r}")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        problems.append(f"aud {aud!r}")
    if claims.get("azp", client_id if len(audiences) == 1 else None) != client_id:
        problems.append(f"azp {claims.get('azp')!r}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp <= now:
        problems.append("expired" if isinstance(exp, int | float) else "no exp")
    if not isinstance(iat, int | float) or iat > now + CLOCK_LEEWAY_SECONDS:
        problems.append(f"iat {iat!r}")
    got = claims.get("nonce")
    if nonce is None or (got is None and nonce_required) or (got is not None and got != nonce):
        problems.append(f"nonce {got!r}")
    at_hash = claims.get("at_hash")
    if (
        access_token is not None
        and at_hash is not None
        and not hmac.compare_digest(str(at_hash), token_hash(access_token))
    ):
        problems.append("at_hash does not match the access token")
    if problems:
        raise TokenRejected(", ".join(problems))
    return claims
