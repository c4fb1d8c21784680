"""Run the sample RP against the local platform.

    python -m scripts.sample_rp sign-in --rp seminar --demo-account demo-entry
    python -m scripts.sample_rp sign-in --rp jgrants --credentials tax-office.json --delegation <id>
    python -m scripts.sample_rp serve --rp seminar   # then open http://<redirect host:port>/ in a browser

`sign-in` plays the user too: Keycloak's login pages are filled by a scripted user agent
(realm.oidc.browser_flow, the same one the load tests use); everything on the RP side is Authlib. It prints
the validated ID token claims and the userinfo response as JSON, or the OAuth error (exit 2).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import requests

from realm.accounts import DEMO_ACCOUNTS_FILE
from realm.oidc.browser_flow import BrowserFlow, LoginResult
from realm.oidc.next_totp import NextTotp
from scripts import settings
from scripts.sample_rp.client import Refused, SampleRp
from scripts.sample_rp.config import redirect_uri, rp_config
from scripts.sample_rp.web import make_server


def _credentials(args: argparse.Namespace, cfg: settings.Settings) -> tuple[str, str, str | None]:
    """username, password and TOTP secret (base32) from the flags, a credentials file or a demo account."""
    if args.demo_account:
        store = cfg.paths.secrets / DEMO_ACCOUNTS_FILE
        known = json.loads(store.read_text()) if store.exists() else {}
        if args.demo_account not in known:
            raise SystemExit(f"sample_rp: --demo-account: {args.demo_account!r} is not in {store}")
        saved = known[args.demo_account]
        totp = saved.get("totp")
        base32 = base64.b32encode(totp.encode()).decode() if totp else None
        return args.demo_account, saved["password"], base32
    if args.credentials:
        path = Path(args.credentials)
        try:
            saved = json.loads(path.read_text())
            return saved["username"], saved["password"], saved.get("totp_base32")
        except (OSError, ValueError, KeyError) as e:
            raise SystemExit(f"sample_rp: --credentials: cannot read {path}: {e}") from None
    if not (args.username and args.password):
        raise SystemExit("sample_rp: give --demo-account, --credentials, or --username and --password")
    return args.username, args.password, args.totp_secret


def _config(args: argparse.Namespace) -> int:
    """What an RP developer is handed at registration: issuer, discovery URL, client id, redirect URI, where
    the confidential secret is kept, and the CA that verifies the platform's TLS certificate."""
    cfg = settings.load()
    defs = cfg.definitions()
    try:
        rp = defs.rp(args.rp)
    except KeyError as e:
        raise SystemExit(f"sample_rp: --rp: {e.args[0]}") from None
    facts = {
        "issuer": cfg.issuer,
        "discovery": f"{cfg.issuer}/.well-known/openid-configuration",
        "client_id": rp.client_id,
        "client_type": rp.client_type,
        "redirect_uri": redirect_uri(defs, rp.client_id),
        "client_secret_file": str(cfg.client_secrets().path(rp.client_id))
        if rp.client_type == "confidential"
        else "",
        "ca_cert": str(cfg.paths.ca_cert),
        "scopes": " ".join(["openid", *rp.scopes]),
    }
    if args.get:
        print(facts[args.get])
    else:
        width = max(len(k) for k in facts)
        print("\n".join(f"{k:{width}}  {v}" for k, v in facts.items()))
    return 0


def _rp(cfg: settings.Settings, client_id: str) -> SampleRp:
    defs = cfg.definitions()
    try:
        return SampleRp(rp_config(cfg, defs, client_id))
    except KeyError as e:
        raise SystemExit(f"sample_rp: --rp: {e.args[0]}") from None


def _extra(args: argparse.Namespace) -> dict[str, str]:
    extra = {}
    if args.delegation:
        extra["delegation"] = args.delegation
    if args.procedure:
        extra["procedure"] = args.procedure
    if args.acr_values:
        extra["acr_values"] = args.acr_values
    return extra


def _sign_in(args: argparse.Namespace) -> int:
    cfg = settings.load()
    rp = _rp(cfg, args.rp)
    username, password, totp = _credentials(args, cfg)
    pending = rp.start(scope=args.scope, **_extra(args))
    agent = BrowserFlow(requests.Session(), cfg.issuer, verify=str(cfg.paths.ca_cert))
    otp: Callable[[], str] | None = NextTotp(totp) if totp else None
    result = LoginResult()
    # A second attempt with the next code, as a person would: an earlier sign-in may have used this one.
    callback = agent.sign_in_at(
        pending.url, rp.config.redirect_uri, username, password, otp, result, otp_attempts=2
    )
    if callback is None:
        print(json.dumps({"error": "login_incomplete", "page_errors": result.page_errors}), file=sys.stderr)
        return 2
    outcome = rp.finish(pending, callback)
    if isinstance(outcome, Refused):
        print(json.dumps({"error": outcome.error, "error_description": outcome.error_description}))
        return 2
    claims = {"id_token": outcome.id_token, "userinfo": outcome.userinfo}
    print(json.dumps(claims, ensure_ascii=False, indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
    """A browser-facing RP on its redirect URI's host and port (scripts/sample_rp/web.py)."""
    cfg = settings.load()
    rp = _rp(cfg, args.rp)
    server = make_server(rp, args.scope, **_extra(args))
    print(
        f"sample RP {args.rp}: open http://{urlsplit(rp.config.redirect_uri).netloc}/ (Ctrl-C stops)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.sample_rp", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="print an RP's registration: issuer, client id, secret file, CA")
    config.add_argument("--rp", required=True, help="client id (realm/definitions/rps/<client_id>.yaml)")
    config.add_argument(
        "--get",
        choices=[
            "issuer",
            "discovery",
            "client_id",
            "client_type",
            "redirect_uri",
            "client_secret_file",
            "ca_cert",
            "scopes",
        ],
        help="print only this value (for shell scripts)",
    )
    config.set_defaults(func=_config)
    for name, func, help_text in (
        ("sign-in", _sign_in, "sign a user in (scripted user agent) and print the claims"),
        ("serve", _serve, "serve the RP for a real browser on its redirect URI's host and port"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--rp", required=True, help="client id (realm/definitions/rps/<client_id>.yaml)")
        cmd.add_argument("--scope", default="openid", help='e.g. "openid profile email" (default: openid)')
        cmd.add_argument("--delegation", help="sign in under this delegation id (bizid delegation grant)")
        cmd.add_argument("--procedure", help="the procedure of the RP to sign in for (procedure=<id>)")
        cmd.add_argument("--acr-values", help="e.g. aal2")
        cmd.set_defaults(func=func)
        if name == "sign-in":
            who = cmd.add_mutually_exclusive_group()
            who.add_argument("--demo-account", help="one of the accounts `bizid up` prints (demo-entry, ...)")
            who.add_argument("--credentials", help="a file of `bizid accounts create --save-credentials`")
            who.add_argument("--username")
            cmd.add_argument("--password")
            cmd.add_argument("--totp-secret", help="base32 TOTP secret, when the tier needs a second factor")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
