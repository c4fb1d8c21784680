"""The sample RP: discovery, authorization request, callback, ID token validation, userinfo.

Everything the RP needs comes from the discovery document (endpoints, issuer, JWKS, signing algorithms);
the OAuth and OIDC mechanics are Authlib's (`OAuth2Session`, `CodeIDToken`) and joserfc's (JWS/JWKS), the
library Authlib itself uses to validate ID tokens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

TIMEOUT_SECONDS = 30.0
CLOCK_LEEWAY_SECONDS = 60


class RpError(RuntimeError):
    """The IdP's answer failed a check the RP must make (state, ID token, userinfo subject)."""


@dataclass(frozen=True)
class RpConfig:
    """What an RP is given when it is registered: issuer, client id, redirect URI, secret, CA to trust."""

    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: str | None
    """None for a public client (PKCE only); a confidential client authenticates with HTTP Basic."""
    ca_cert: str | bool = True
    """The CA bundle that verifies the IdP's TLS certificate (the local platform: .bizid/tls/ca.pem)."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the RP keeps in the user's session between sending the browser away and the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignedIn:
    id_token: dict[str, Any]
    userinfo: dict[str, Any]
    tokens: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """The IdP sent the user back with an OAuth error (e.g. access_denied and the policy's reason)."""

    error: str
    error_description: str | None


class SampleRp:
    def __init__(self, config: RpConfig) -> None:
        self.config = config
        discovery = f"{config.issuer}/.well-known/openid-configuration"
        response = requests.get(discovery, verify=config.ca_cert, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        self.metadata: dict[str, Any] = response.json()
        if self.metadata.get("issuer") != config.issuer:
            raise RpError(f"discovery names issuer {self.metadata.get('issuer')!r}, not {config.issuer!r}")
        if "S256" not in self.metadata.get("code_challenge_methods_supported", []):
            raise RpError("the IdP does not offer PKCE S256")

    def _session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.config.client_secret else "none",
            **kwargs,
        )
        # Given per request as well: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        session.verify = self.config.ca_cert
        return session

    def start(self, scope: str = "openid", **extra: str) -> PendingSignIn:
        """The authorization request (code flow, PKCE S256, fresh state and nonce); `extra` adds parameters
        such as acr_values or bizid's delegation=<id>."""
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = self._session(scope=scope).create_authorization_url(
            self.metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier, **extra
        )
        return PendingSignIn(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def finish(self, pending: PendingSignIn, callback_url: str) -> SignedIn | Refused:
        """Handle the redirect back: check state, exchange the code, validate the ID token, call userinfo."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if query.get("state") != pending.state:
            raise RpError("state does not match the authorization request")
        if query.get("iss", self.config.issuer) != self.config.issuer:  # RFC 9207
            raise RpError(f"the response names issuer {query.get('iss')!r}")
        if "error" in query:
            return Refused(query["error"], query.get("error_description"))
        session = self._session(state=pending.state)
        tokens: dict[str, Any] = dict(
            session.fetch_token(
                self.metadata["token_endpoint"],
                authorization_response=callback_url,
                code_verifier=pending.code_verifier,
                timeout=TIMEOUT_SECONDS,
                verify=self.config.ca_cert,
            )
        )
        id_token = self.validate_id_token(tokens, pending.nonce)
        response = session.get(
            self.metadata["userinfo_endpoint"], timeout=TIMEOUT_SECONDS, verify=self.config.ca_cert
        )
        response.raise_for_status()
        userinfo: dict[str, Any] = response.json()
        if userinfo.get("sub") != id_token["sub"]:  # OIDC Core 5.3.4
            raise RpError("userinfo is about another subject than the ID token")
        return SignedIn(id_token=id_token, userinfo=userinfo, tokens=tokens)

    def validate_id_token(self, tokens: dict[str, Any], nonce: str) -> dict[str, Any]:
        """Signature against the IdP's JWKS, then iss, aud, azp, exp, iat, nonce and at_hash (OIDC Core
        3.1.3.7)."""
        jwks = requests.get(self.metadata["jwks_uri"], verify=self.config.ca_cert, timeout=TIMEOUT_SECONDS)
        jwks.raise_for_status()
        algorithms = self.metadata.get("id_token_signing_alg_values_supported")
        decoded = jwt.decode(
            tokens["id_token"],
            KeySet.import_key_set(jwks.json()),
            registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"essential": True, "values": [self.config.issuer]}},
            {"nonce": nonce, "client_id": self.config.client_id, "access_token": tokens["access_token"]},
        )
        claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        return dict(claims)
