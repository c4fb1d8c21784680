"""`bizid up|down|status`: the local platform's lifecycle."""

from __future__ import annotations

import argparse

from realm import accounts, reconcile
from scripts import install, services, settings
from scripts.keycloak_admin import admin_client


def _up(args: argparse.Namespace) -> int:
    cfg = settings.load()
    services.start_all(cfg)
    writes = reconcile.apply_definitions(cfg.target(), cfg.paths.secrets)
    print(f"[bizid] realm applied ({writes} Admin API writes)")
    demo = accounts.ensure_demo_accounts(admin_client(cfg), cfg.paths.secrets / accounts.DEMO_ACCOUNTS_FILE)
    print(f"""
bizid local platform is up (all on loopback; TLS CA: {cfg.paths.ca_cert})
  Keycloak      {cfg.keycloak_url}   admin console: {cfg.keycloak_url}/admin/
  admin login   {cfg.admin_username} / {cfg.secret("admin-password")}   (local platform only)
  realm         {cfg.issuer}
  account page  {cfg.issuer}/account/
  OPA           {cfg.opa_url}
  PostgreSQL    127.0.0.1:{cfg.ports.postgres} (db keycloak)
  mail          {cfg.mail_api_url}   (Mailpit: web UI and API; SMTP 127.0.0.1:{cfg.ports.mail_smtp})
  logs          {cfg.paths.logs}
Test accounts (one per tier; TOTP secrets for authenticator apps):""")
    for account in demo:
        print(f"  {account.describe()}")
    return 0


def _install(args: argparse.Namespace) -> int:
    install.ensure_all(settings.load())
    return 0


def _down(args: argparse.Namespace) -> int:
    services.stop_all(settings.load())
    print("[bizid] stopped")
    return 0


def _status(args: argparse.Namespace) -> int:
    states = services.status(settings.load())
    for s in states:
        state = "healthy" if s.healthy else ("running, not ready" if s.running else "stopped")
        print(f"{s.name:10} {state:20} {s.detail}")
    return 0 if all(s.healthy for s in states) else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "up", help="install what is missing, start the local platform, apply the realm"
    ).set_defaults(func=_up)
    sub.add_parser("install", help="install what is missing, start nothing").set_defaults(func=_install)
    sub.add_parser("down", help="stop the local platform").set_defaults(func=_down)
    sub.add_parser("status", help="say what runs (exit 1 unless all healthy)").set_defaults(func=_status)
