"""`bizid review submit|list|approve|reject`: the Entry -> Prime review queue (`realm.upgrade_review`).

Applications live in `.bizid/review/`; approvals and rejections are recorded in the operator audit trail.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from realm import loader, upgrade_review
from realm.upgrade_review import ApplicationStore, Evidence
from scripts import settings
from scripts.cli_lifecycle import OPERATOR_ENV, _actor, trail
from scripts.keycloak_admin import admin_client


def store_path(cfg: settings.Settings) -> Path:
    return cfg.paths.state / "review"


def store(cfg: settings.Settings) -> ApplicationStore:
    return ApplicationStore(store_path(cfg))


def _submit(args: argparse.Namespace) -> int:
    evidence = Evidence(
        corporate_name=args.corporate_name,
        representative_name=args.representative_name,
        address=args.address,
        seal_certificate=args.seal_certificate,
        corporate_type=args.corporate_type,
        corporate_number=args.corporate_number,
    )
    evidence.validate()
    cfg = settings.load()
    application = upgrade_review.submit(admin_client(cfg), store(cfg), args.username, evidence)
    print(f"submitted: {application.id} ({application.username}), pending review")
    return 0


def _list(args: argparse.Namespace) -> int:
    found = [a for a in store(settings.load()).all() if args.status in (None, a.status)]
    for a in found:
        e = a.evidence
        print(
            f"{a.id}  {a.status:8} {a.username:40} {e.corporate_number or '(sole proprietor)':17} "
            f"{e.corporate_name}  seal certificate {e.seal_certificate}  submitted {a.submitted}"
        )
    print(f"{len(found)} application(s)")
    return 0


def _approve(args: argparse.Namespace) -> int:
    actor = _actor(args)
    actor.validate()
    cfg = settings.load()
    done = upgrade_review.approve(admin_client(cfg), loader.load(), store(cfg), args.id, actor, trail(cfg))
    print(
        f"approved: {done.application.username} is now a Prime (valid until "
        f"{done.event.changes['valid_until'][1]})"
    )
    if done.totp_secret:
        import base64

        print(f"  TOTP (base32), deliver out of band: {base64.b32encode(done.totp_secret.encode()).decode()}")
    print(f"  recorded in the operator audit trail by {done.event.operator} at {done.event.time}")
    return 0


def _reject(args: argparse.Namespace) -> int:
    actor = _actor(args)
    actor.validate()
    cfg = settings.load()
    event = upgrade_review.reject(admin_client(cfg), store(cfg), args.id, actor, trail(cfg))
    print(f"rejected: {args.id} ({event.username}); recorded by {event.operator} at {event.time}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = sub.add_parser("review", help="the Entry -> Prime upgrade review queue")
    review_sub = review.add_subparsers(dest="review_command", required=True)

    submit_p = review_sub.add_parser("submit", help="file an Entry account's upgrade application")
    submit_p.add_argument("--username", required=True)
    submit_p.add_argument(
        "--corporate-type", default="corporation", choices=["corporation", "sole_proprietor"]
    )
    submit_p.add_argument("--corporate-number", help="13 digits (a corporation)")
    submit_p.add_argument("--corporate-name", required=True)
    submit_p.add_argument("--representative-name", required=True)
    submit_p.add_argument("--address", required=True, help="registered address")
    submit_p.add_argument(
        "--seal-certificate", required=True, help="reference of the seal certificate checked"
    )
    submit_p.set_defaults(func=_submit)

    list_p = review_sub.add_parser("list", help="the applications (pending first by default: all)")
    list_p.add_argument("--status", choices=["pending", "approved", "rejected"])
    list_p.set_defaults(func=_list)

    for name, func, text in (
        ("approve", _approve, "upgrade the applicant to Prime (tier, company, validity, second factor)"),
        ("reject", _reject, "refuse the application; the account stays Entry"),
    ):
        p = review_sub.add_parser(name, help=text)
        p.add_argument("--id", required=True, help="application id (app-...)")
        p.add_argument("--reason", required=True, help="recorded in the operator audit trail")
        p.add_argument("--operator", help=f"who decides (default: ${OPERATOR_ENV})")
        p.set_defaults(func=func)
