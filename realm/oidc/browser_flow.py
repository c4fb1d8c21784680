"""A browser-like OpenID Connect client: authorization code with PKCE, driven over HTTP.

It follows Keycloak's login pages the way a browser does (cookies, HTML forms, redirects) and stops at the
RP's redirect URI, where it reads `code` or `error`. Works with any `requests.Session`, including
Locust's HttpSession, so the end-to-end tests and the load tests exercise exactly the same flow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

REQUEST_TIMEOUT_SECONDS = 30.0
"""A server that does not answer fails the step instead of hanging the caller (tests, load runs)."""


class FlowError(RuntimeError):
    """The login did not go as a browser would expect; the message says at which step and why."""


@dataclass
class Form:
    action: str
    fields: dict[str, str]
    form_id: str | None


class _FormParser(HTMLParser):
    """Collects forms (action, inputs) and visible error text from a Keycloak login page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.errors: list[str] = []
        self._in_error = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), fields={}, form_id=a.get("id")))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        classes = a.get("class", "")
        if (
            a.get("id") in ("input-error", "input-error-otp-code")
            or "alert-error" in classes
            or ("kc-feedback-text" in classes)
        ):
            self._in_error += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_error and tag in ("span", "div", "p"):
            self._in_error -= 1

    def handle_data(self, data: str) -> None:
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def parse_page(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


@dataclass(frozen=True)
class Client:
    """An RP as the flow sees it."""

    client_id: str
    redirect_uri: str
    secret: str | None = None


@dataclass
class LoginResult:
    """Where the flow ended: tokens, or the OIDC error the RP received, plus what was asked on the way."""

    tokens: dict[str, Any] | None = None
    error: str | None = None
    error_description: str | None = None
    otp_prompted: bool = False
    page_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tokens is not None


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _is_redirect_to(url: str, redirect_uri: str) -> bool:
    return url.split("?", 1)[0] == redirect_uri


class PageParser(Protocol):
    forms: list[Form]
    errors: list[str]


class BrowserFlow:
    """One user agent (one cookie jar) signing in at one or more RPs of an issuer."""

    parse: Callable[[str], PageParser] = staticmethod(parse_page)
    """How a login page is read (forms, visible errors); the load generator swaps in a cheaper reader."""
    join: Callable[[str, str], str] = staticmethod(urljoin)
    """How a Location or form action is resolved against the page's URL (the load generator's is cheaper)."""
    encode_query: Callable[[dict[str, str]], str] = staticmethod(urlencode)
    """How the authorization request's parameters are encoded (the load generator's is cheaper)."""

    def __init__(self, session: requests.Session, issuer: str, verify: str | bool = True) -> None:
        self.session = session
        self.issuer = issuer
        self.verify = verify

    @property
    def endpoints(self) -> dict[str, str]:
        base = f"{self.issuer}/protocol/openid-connect"
        return {
            "auth": f"{base}/auth",
            "token": f"{base}/token",
            "userinfo": f"{base}/userinfo",
            "logout": f"{base}/logout",
        }

    def _request(self, method: str, url: str, name: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("verify", self.verify)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        if hasattr(self.session, "request_event"):  # Locust's HttpSession: name the step in the stats
            kwargs["name"] = name
        return self.session.request(method, url, **kwargs)

    def _follow(self, response: requests.Response, client: Client, name: str) -> requests.Response | str:
        """Follow redirects inside the IdP; return the final page, or the RP redirect URL when reached."""
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = self.join(response.url, response.headers["Location"])
            if _is_redirect_to(location, client.redirect_uri):
                return location
            response = self._request("GET", location, name)
        raise FlowError(f"{name}: too many redirects")

    def login(
        self,
        client: Client,
        username: str,
        password: str,
        otp: Callable[[], str] | None = None,
        scope: str = "openid",
        acr_values: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> LoginResult:
        """Run the whole authorization-code flow; `otp` supplies a code if a second factor is asked."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **(extra or {}),
        }
        if acr_values:
            params["acr_values"] = acr_values
        result = LoginResult()
        url = f"{self.endpoints['auth']}?{self.encode_query(params)}"
        location = self.sign_in_at(url, client.redirect_uri, username, password, otp, result)
        return result if location is None else self._finish(location, client, state, verifier, result)

    def sign_in_at(
        self,
        authorization_url: str,
        redirect_uri: str,
        username: str,
        password: str,
        otp: Callable[[], str] | None = None,
        result: LoginResult | None = None,
        otp_attempts: int = 1,
    ) -> str | None:
        """Be the user agent only: open an authorization URL an RP built, fill Keycloak's forms, and return
        the URL the IdP redirected to at `redirect_uri` (code or error; the RP parses it). None when the flow
        stopped on a page instead (`result.page_errors` says why, `result.otp_prompted` whether a second
        factor was asked). `otp_attempts` > 1 lets a person's retry happen: the realm refuses a code that was
        already used, so a second sign-in within one TOTP period needs the next code (see `NextTotp`)."""
        result = result if result is not None else LoginResult()
        target = Client(client_id="", redirect_uri=redirect_uri)
        password_sent = False
        otp_sent = 0
        page = self._follow(self._request("GET", authorization_url, "authorize"), target, "authorize")
        for _ in range(4 + otp_attempts):
            if isinstance(page, str):
                return page
            if page.status_code != 200:
                raise FlowError(f"login page answered {page.status_code}: {page.text[:300]}")
            parsed = self.parse(page.text)
            result.page_errors.extend(parsed.errors)
            form = next((f for f in parsed.forms if "password" in f.fields or "username" in f.fields), None)
            otp_form = next((f for f in parsed.forms if "otp" in f.fields), None)
            if otp_form is not None:
                result.otp_prompted = True
                if otp is None or otp_sent >= otp_attempts:
                    return None  # no second factor to give, or the codes given were refused
                otp_sent += 1
                data = {**otp_form.fields, "otp": otp()}
                action = self.join(page.url, otp_form.action)
                page = self._follow(self._request("POST", action, "otp", data=data), target, "otp")
            elif form is not None:
                if password_sent:
                    return None  # the login form came back: wrong password or locked; page_errors says
                password_sent = True
                data = {**form.fields, "username": username, "password": password}
                data.pop("rememberMe", None)
                action = self.join(page.url, form.action)
                page = self._follow(self._request("POST", action, "login", data=data), target, "login")
            else:
                return None  # an error or info page (e.g. account disabled); page_errors says what
        raise FlowError(f"login did not finish within {4 + otp_attempts} pages")

    def _finish(
        self, location: str, client: Client, state: str, verifier: str, result: LoginResult
    ) -> LoginResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "error" in query:
            result.error = query["error"]
            result.error_description = query.get("error_description")
            return result
        if query.get("state") != state:
            raise FlowError(f"state mismatch in redirect {location}")
        result.tokens = self.exchange(client, query["code"], verifier)
        return result

    def exchange(self, client: Client, code: str, verifier: str) -> dict[str, Any]:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "client_id": client.client_id,
            "code_verifier": verifier,
        }
        auth = (client.client_id, client.secret) if client.secret else None
        response = self._request("POST", self.endpoints["token"], "token", data=data, auth=auth)
        if response.status_code != 200:
            raise FlowError(f"token exchange answered {response.status_code}: {response.text[:300]}")
        tokens: dict[str, Any] = response.json()
        return tokens

    def userinfo(self, access_token: str) -> dict[str, Any]:
        response = self._request(
            "GET", self.endpoints["userinfo"], "userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        if response.status_code != 200:
            raise FlowError(f"userinfo answered {response.status_code}: {response.text[:300]}")
        info: dict[str, Any] = response.json()
        return info

    def refresh(self, client: Client, refresh_token: str) -> dict[str, Any]:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id}
        auth = (client.client_id, client.secret) if client.secret else None
        response = self._request("POST", self.endpoints["token"], "refresh", data=data, auth=auth)
        if response.status_code != 200:
            raise FlowError(f"refresh answered {response.status_code}: {response.text[:300]}")
        tokens: dict[str, Any] = response.json()
        return tokens

    def logout(self, client: Client, refresh_token: str) -> None:
        data = {"client_id": client.client_id, "refresh_token": refresh_token}
        auth = (client.client_id, client.secret) if client.secret else None
        response = self._request("POST", self.endpoints["logout"], "logout", data=data, auth=auth)
        if response.status_code not in (200, 204):
            raise FlowError(f"logout answered {response.status_code}: {response.text[:300]}")


def decode_jwt_payload(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: tests read claims; signature checks belong to the RP's library."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded
