"""The Admin REST API as JSON, with a write counter: the transport of `realm.reconcile`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class ReconcileError(RuntimeError):
    """The Admin API refused or failed a request; the message names method, path, status and body."""


class AdminApi:
    """JSON over the Admin REST API through python-keycloak's (token-refreshing) connection.

    `writes` counts POST, PUT and DELETE requests: `apply` on an unchanged realm must leave it unchanged.
    """

    def __init__(self, connection: Any) -> None:
        self._c = connection
        self.writes = 0

    @staticmethod
    def _check(method: str, path: str, response: Any, ok: Iterable[int] = (200, 201, 204)) -> Any:
        if response.status_code not in tuple(ok):
            raise ReconcileError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response

    def get(self, path: str, **params: Any) -> Any:
        r = self._check("GET", path, self._c.raw_get(path, **params))
        return r.json() if r.content else None

    def get_or_none(self, path: str) -> Any:
        r = self._c.raw_get(path)
        if r.status_code == 404:
            return None
        return self._check("GET", path, r).json()

    def post(self, path: str, body: Any) -> str | None:
        """POST; returns the id at the end of the Location header, if any."""
        self.writes += 1
        r = self._check("POST", path, self._c.raw_post(path, data=json.dumps(body)))
        location = r.headers.get("Location")
        return location.rstrip("/").rsplit("/", 1)[-1] if location else None

    def put(self, path: str, body: Any) -> None:
        self.writes += 1
        self._check("PUT", path, self._c.raw_put(path, data=json.dumps(body)))

    def delete(self, path: str) -> None:
        self.writes += 1
        self._check("DELETE", path, self._c.raw_delete(path))

    def delete_with_body(self, path: str, body: Any) -> None:
        """DELETE with a JSON body (the Admin API removes role mappings this way)."""
        self.writes += 1
        self._check("DELETE", path, self._c.raw_delete(path, data=json.dumps(body)))
