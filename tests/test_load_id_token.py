"""The load scenario's ID token checks (loadtests/id_token.py) on tokens signed here with keys made here:
every check an RP must make refuses the token that breaks it, and the keys are fetched once and again only
for an unknown `kid`. The same checks on the real Keycloak's tokens: tests/test_load_token_checks.py."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from loadtests import id_token
from loadtests.id_token import KeySet, TokenRejected, token_hash, verify_id_token

ISSUER = "https://127.0.0.1:8443/realms/bizid"
CLIENT = "jgrants"
NONCE = "n-0S6_WzA2Mj"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.access.token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _key()
OTHER = _key()


def _jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": _int(numbers.n), "e": _int(numbers.e)}
    return jwk | extra


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "azp": CLIENT,
        "sub": "u-1",
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "at_hash": token_hash(ACCESS),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: Mapping[str, Any], key: rsa.RSAPrivateKey = KEY, **header: Any) -> str:
    head = _b64(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT", **header}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64(signature)}"


class Jwks:
    """The issuer's JWKS document, counting how often it is fetched."""

    def __init__(self, *keys: Mapping[str, Any]) -> None:
        self.doc: dict[str, Any] = {"keys": list(keys)}
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return self.doc


def _verify(token: str, keys: KeySet | None = None, fetch: Callable[[], Any] | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {"issuer": ISSUER, "client_id": CLIENT, "nonce": NONCE, "access_token": ACCESS}
    args.update(kw)
    return verify_id_token(token, keys or KeySet(), fetch or Jwks(_jwk(KEY, "k1")), **args)


def test_a_good_token_gives_its_claims_and_the_keys_are_fetched_once() -> None:
    keys, jwks = KeySet(), Jwks(_jwk(KEY, "k1"))
    for _ in range(3):
        assert _verify(_sign(_claims()), keys, jwks)["sub"] == "u-1"
    assert jwks.calls == 1


def _tamper_payload(token: str, **changes: Any) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return ".".join([head, _b64(json.dumps({**claims, **changes}).encode()), signature])


@pytest.mark.parametrize(
    "token, check",
    [
        (_tamper_payload(_sign(_claims()), sub="u-2"), "signature"),
        (_sign(_claims(), key=OTHER), "signature"),
        (_sign(_claims(), alg="none"), "algorithm"),
        (_sign(_claims(), alg="HS256"), "algorithm"),
        (_sign(_claims(), kid=None), "no kid"),
        (_sign(_claims(nonce="another")), "nonce"),
        (_sign(_claims(nonce=None)), "nonce"),
        (_sign(_claims(iss="https://127.0.0.1:8443/realms/other")), "iss"),
        (_sign(_claims(aud="seminar", azp="seminar")), "aud"),
        (_sign(_claims(aud=[CLIENT, "seminar"], azp="seminar")), "azp"),
        (_sign(_claims(aud=[CLIENT, "seminar"], azp=None)), "azp"),
        (_sign(_claims(exp=int(time.time()) - 1)), "expired"),
        (_sign(_claims(exp=None)), "no exp"),
        (_sign(_claims(iat=int(time.time()) + 3600)), "iat"),
        (_sign(_claims(at_hash=token_hash("another access token"))), "at_hash"),
        ("not.a-jwt", "three parts"),
        (_sign(_claims()) + ".x", "three parts"),
    ],
)
def test_a_token_that_breaks_a_check_is_refused_naming_it(token: str, check: str) -> None:
    with pytest.raises(TokenRejected, match=check):
        _verify(token)


def test_a_refreshed_token_may_leave_the_nonce_out_but_not_carry_another() -> None:
    assert _verify(_sign(_claims(nonce=None)), nonce_required=False)["sub"] == "u-1"
    assert _verify(_sign(_claims()), nonce_required=False)["sub"] == "u-1"
    with pytest.raises(TokenRejected, match="nonce"):
        _verify(_sign(_claims(nonce="another")), nonce_required=False)


def test_an_unknown_kid_refetches_once_then_is_refused_until_the_refetch_interval() -> None:
    clock = [1000.0]
    keys, jwks = KeySet(clock=lambda: clock[0]), Jwks(_jwk(KEY, "k1"))
    _verify(_sign(_claims()), keys, jwks)
    with pytest.raises(TokenRejected, match="unknown key 'k2'"):
        _verify(_sign(_claims(), key=OTHER, kid="k2"), keys, jwks)
    assert jwks.calls == 1, "fetched again within the refetch interval"
    jwks.doc["keys"].append(_jwk(OTHER, "k2"))  # the issuer rotated its key
    clock[0] += id_token.REFETCH_SECONDS
    assert _verify(_sign(_claims(), key=OTHER, kid="k2"), keys, jwks)["sub"] == "u-1"
    assert jwks.calls == 2
    assert _verify(_sign(_claims()), keys, jwks)["sub"] == "u-1"  # the old key stays while published


def test_keys_for_encryption_or_other_algorithms_verify_nothing() -> None:
    for jwk in (
        _jwk(KEY, "k1", use="enc", alg="RSA-OAEP"),
        _jwk(KEY, "k1", alg="PS256"),
        {**_jwk(KEY, "k1"), "kty": "EC"},
        {**_jwk(KEY, "k1"), "n": 42},
    ):
        with pytest.raises(TokenRejected, match="unknown key"):
            _verify(_sign(_claims()), KeySet(), Jwks(jwk))


def test_one_key_set_per_issuer_per_process() -> None:
    assert id_token.key_set(ISSUER) is id_token.key_set(ISSUER)
    assert id_token.key_set(ISSUER) is not id_token.key_set(ISSUER + "-stock")


def test_a_user_that_needs_the_keys_while_another_fetches_them_waits_for_that_fetch() -> None:
    """Found in a Locust run: four users started at once, one fetched the JWKS, the other three were refused
    "unknown key" (the fetch was under way and the refetch interval not over)."""
    keys, inside, proceed = KeySet(), threading.Event(), threading.Event()
    jwks = Jwks(_jwk(KEY, "k1"))

    def slow_fetch() -> dict[str, Any]:
        inside.set()
        proceed.wait(10)
        return jwks()

    results: list[object] = []

    def sign_in(fetch: Callable[[], Any]) -> None:
        try:
            results.append(_verify(_sign(_claims()), keys, fetch)["sub"])
        except TokenRejected as exc:
            results.append(exc)

    first = threading.Thread(target=sign_in, args=(slow_fetch,))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=sign_in, args=(jwks,))
    second.start()
    time.sleep(0.2)  # the second user reaches the key set while the first one's fetch is under way
    proceed.set()
    first.join(10)
    second.join(10)
    assert results == ["u-1", "u-1"] and jwks.calls == 1
