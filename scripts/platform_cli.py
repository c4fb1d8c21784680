"""`bizid up|down|status`: the local platform's lifecycle."""

from __future__ import annotations

import argparse

from realm import accounts, reconcile
from scripts import install, services, settings
from scripts.keycloak_admin import admin_client


def _up(args: argparse.Namespace) -> int:
    cfg = settings.load()
    if args.sites is not None:  # the two-site topology instead of the single platform (scripts/sites)
        from scripts.sites import cli as sites_cli
        from scripts.sites import ops as sites

        sites.check_site_count(args.sites)
        sites.up(cfg)
        sites_cli.print_up(cfg)
        return 0
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
    from scripts.sites import ops as sites

    cfg = settings.load()
    sites.down(cfg)
    services.stop_all(cfg)
    print("[bizid] stopped")
    return 0


def _status(args: argparse.Namespace) -> int:
    states = services.status(settings.load())
    for s in states:
        state = "healthy" if s.healthy else ("running, not ready" if s.running else "stopped")
        print(f"{s.name:10} {state:20} {s.detail}")
    sites_state = _sites_status()
    return 0 if all(s.healthy for s in states) or sites_state else 1


def _sites_status() -> bool:
    """The two-site topology's lines when it exists here; True when its record points at a site."""
    from scripts.sites import ops as sites

    cfg = settings.load()
    if not sites.topology(cfg).state.exists():
        return False
    state = sites.status(cfg)
    print("two sites:")
    for line in sites.describe(state):
        print(f"  {line}")
    return state.record_points_to is not None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from scripts.sites.cli import site_count

    up = sub.add_parser("up", help="install what is missing, start the local platform, apply the realm")
    up.add_argument(
        "--sites",
        type=site_count,
        default=None,
        help="start the two-site topology instead (Tokyo + Osaka + the failover record; only 2)",
    )
    up.set_defaults(func=_up)
    sub.add_parser("install", help="install what is missing, start nothing").set_defaults(func=_install)
    sub.add_parser("down", help="stop the local platform (and the two-site topology)").set_defaults(
        func=_down
    )
    sub.add_parser("status", help="say what runs (exit 1 unless all healthy)").set_defaults(func=_status)
