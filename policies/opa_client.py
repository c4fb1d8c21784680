"""The one Python client of OPA's data API, on `opa-python-client` (the Java client in Keycloak is
separate). It never uploads policies, so that package's `rego_compat` rewriting is never involved.

Every failure is an `OpaError` with a clear message: OPA unreachable, an HTTP error, or an undefined
result (the policy or data is not loaded) - a caller can never mistake one for a decision.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client.errors import ConnectionsError, PolicyNotFoundError
from opa_client.opa import OpaClient

Json = Any


class OpaError(RuntimeError):
    """OPA could not be asked, or answered something that is not a decision."""


_TOKENS: dict[str, str] = {}
"""Read tokens of OPA servers this process knows (its private ones, a platform's), by URL."""


def remember_token(url: str, token: str) -> None:
    """Use `token` for every later client of the OPA at `url` that is given none."""
    _TOKENS[url.rstrip("/")] = token


def forget_token(url: str) -> None:
    _TOKENS.pop(url.rstrip("/"), None)


def token_for(url: str) -> str | None:
    """The remembered read token of the OPA at `url`, if any."""
    return _TOKENS.get(url.rstrip("/"))


class Opa:
    """A client of one OPA server's data API."""

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OpaError(f"OPA URL {url!r} is not http(s)://host:port")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.client = OpaClient(
            host=parts.hostname,
            port=port,
            ssl=parts.scheme == "https",
            token=token or token_for(self.url),
            retries=0,
            timeout=timeout,
        )

    def _call(self, what: str, call: Any) -> Json:
        try:
            return call()
        except requests.HTTPError as exc:
            response = exc.response
            status = response.status_code if response is not None else "?"
            text = response.text[:300] if response is not None else ""
            raise OpaError(f"OPA at {self.url} answered {status} for {what}: {text}") from None
        except requests.RequestException as exc:
            raise OpaError(f"OPA at {self.url} cannot be reached: {exc}") from None
        except (PolicyNotFoundError, ConnectionsError) as exc:
            raise OpaError(f"OPA at {self.url} has no {what} ({exc.expression}: {exc.message})") from None
        except ValueError as exc:  # a body that is not JSON
            raise OpaError(
                f"OPA at {self.url} answered {what} with something that is not JSON: {exc}"
            ) from None

    def decide(self, package: str, policy_input: Json) -> dict[str, Any]:
        """The decision of `data.bizid.<package>.decision` for this input; it must be defined."""
        body = self._call(
            f"bizid.{package}.decision",
            lambda: self.client.query_rule(policy_input, f"bizid.{package}", "decision"),
        )
        if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
            raise OpaError(f"OPA at {self.url} gave no {package} decision (is the policy loaded?)")
        result: dict[str, Any] = body["result"]
        return result

    def access(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("access", policy_input)

    def release(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("release", policy_input)

    def data(self, path: str) -> Json:
        """The document at `data.<path>` (path with slashes); an undefined one is an `OpaError`."""
        body = self._call(f"data/{path}", lambda: self.client.get_data(path))
        return body.get("result") if isinstance(body, dict) else None

    def registry(self) -> dict[str, Any]:
        registry = self.data("bizid/registry")
        if not isinstance(registry, dict) or not registry.get("rps"):
            raise OpaError(f"OPA at {self.url} serves no registry at data.bizid.registry")
        return registry

    def policy_digest(self) -> str:
        """sha256 over the raw text of the served bizid modules (sorted): names the policy version.

        One `GET /v1/policies` (the list carries each module's text): the read token may read the list,
        not single modules (policies/system/authz.rego). opa-python-client's list call drops the text, so
        this one call is made with plain requests and the client's own headers (its token)."""

        def modules() -> Any:
            response = requests.get(
                f"{self.url}/v1/policies", headers=self.client.headers, timeout=self.timeout
            )
            response.raise_for_status()
            return response.json().get("result") or []

        listed = self._call("the policy list", modules)
        texts = sorted(m["raw"] for m in listed if "package bizid." in m.get("raw", ""))
        return hashlib.sha256("\n".join(texts).encode()).hexdigest()
