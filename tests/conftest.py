"""Shared fixtures. Tests marked `platform` run against the real PostgreSQL, Keycloak and OPA.

The suite starts the local platform itself when it is not already running (and stops what it started),
so `make test` works on a fresh machine and beside a developer's `make up` alike.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import requests

from loadtests.browser_flow import BrowserFlow, Client
from realm import loader, reconcile
from realm.models import Definitions
from scripts import services, settings
from scripts.settings import Settings


@pytest.fixture(scope="session")
def platform() -> Iterator[Settings]:
    cfg = settings.load()
    already_running = all(s.healthy for s in services.status(cfg))
    services.start_all(cfg)
    reconcile.apply_definitions(cfg)
    yield cfg
    if not already_running and not os.environ.get("BIZID_KEEP_PLATFORM"):
        services.stop_all(cfg)


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return loader.load()


@pytest.fixture(scope="session")
def run_id() -> str:
    """A suffix that keeps accounts of this run apart from those of earlier runs on the same platform."""
    return uuid.uuid4().hex[:8]


def rp_client(cfg: Settings, defs: Definitions, client_id: str) -> Client:
    rp = defs.rp(client_id)
    secret = None
    if rp.client_type == "confidential":
        secret = (cfg.paths.secrets / "clients" / client_id).read_text().strip()
    return Client(client_id=client_id, redirect_uri=str(rp.redirect_uris[0]), secret=secret)


def new_browser(cfg: Settings) -> BrowserFlow:
    """A fresh user agent with an empty cookie jar."""
    return BrowserFlow(requests.Session(), cfg.issuer, verify=str(cfg.paths.ca_cert))
