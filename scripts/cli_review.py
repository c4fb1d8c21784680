"""`bizid review submit|list|approve|reject`: the Entry -> Prime review queue (`realm.upgrade_review`).

Applications of the local platform live in `.bizid/review/`; a deployed target's in its S3 audit archive under
`review/` (realm/review_queue_s3.py: the bucket and region of the target's `operator_trail`), so every
operator's desk sees one queue and one decision per application. Approvals and rejections are recorded in the
operator audit trail. `--target`: scripts/operating.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from realm import upgrade_review
from realm.loader import DefinitionError
from realm.upgrade_review import Application, ApplicationStore, Evidence, ReviewQueue
from scripts import operating, settings
from scripts.cli_lifecycle import OPERATOR_ENV, _actor
from scripts.operating import Context


def store_path(cfg: settings.Settings) -> Path:
    return cfg.paths.state / "review"


def store(cfg: settings.Settings) -> ApplicationStore:
    return ApplicationStore(store_path(cfg))


def _store(ctx: Context) -> ReviewQueue:
    """The local folder, or the deployed target's shared queue in S3 (never a folder on this desk)."""
    if ctx.local:
        return ApplicationStore(ctx.state() / "review")
    home = ctx.operating.trail
    if home is None:
        raise DefinitionError(
            f"{ctx.operating.file}: operator_trail: missing: a deployed target's review queue is kept in its "
            'S3 audit archive, beside the operator audit trail (docs/infra.md, "The review queue")'
        )
    from realm.review_queue_s3 import queue_for

    old = ctx.state() / "review"
    if old.is_dir() and any(old.glob("app-*.json")):
        print(
            f"note: {old} holds applications of this desk's former local queue; they are not read (the "
            f"queue of {ctx.name} is in S3): submit them again",
            file=sys.stderr,
        )
    return queue_for(home)


def _submit(args: argparse.Namespace, ctx: Context) -> int:
    evidence = Evidence(
        corporate_name=args.corporate_name,
        representative_name=args.representative_name,
        address=args.address,
        seal_certificate=args.seal_certificate,
        corporate_type=args.corporate_type,
        corporate_number=args.corporate_number,
    )
    evidence.validate()
    application = upgrade_review.submit(ctx.admin(), _store(ctx), args.username, evidence)
    print(f"submitted: {application.id} ({application.username}), pending review")
    return 0


def _decision(a: Application) -> str:
    """Who decided and when; for an open claim, that it has no outcome yet (and how it is settled)."""
    if a.status == "claimed" and a.claim is not None:
        verb = "approve" if a.claim.decision == "approved" else "reject"
        return (
            f"  claimed to {verb} by {a.claim.operator} at {a.claim.at}, no outcome yet "
            f"(if that desk stopped: bizid review recover --id {a.id}, "
            f"after {upgrade_review.CLAIM_STALE_AFTER})"
        )
    if a.status in ("approved", "rejected"):
        return f"  by {a.decided_by} at {a.decided_at}"
    return ""


def _list(args: argparse.Namespace, ctx: Context) -> int:
    """One line per application: what an operator needs to pick it (never the representative's name or the
    address: `realm.upgrade_review.Evidence` holds them for the approval only)."""
    queue = _store(ctx)
    found = [a for a in queue.all() if args.status in (None, a.status)]
    for a in found:
        e = a.evidence
        print(
            f"{a.id}  {a.status:8} {a.username:40} {e.corporate_number or '(sole proprietor)':17} "
            f"{e.corporate_name}  seal certificate {e.seal_certificate}  submitted {a.submitted}"
            + _decision(a)
        )
    print(f"{len(found)} application(s) in {queue.where}")
    return 0


def _approve(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    done = upgrade_review.approve(ctx.admin(), ctx.definitions(), _store(ctx), args.id, actor, ctx.trail())
    print(
        f"approved: {done.application.username} is now a Prime (valid until "
        f"{done.event.changes['valid_until'][1]})"
    )
    if done.totp_secret:
        import base64

        print(f"  TOTP (base32), deliver out of band: {base64.b32encode(done.totp_secret.encode()).decode()}")
    print(f"  recorded in the operator audit trail by {done.event.operator} at {done.event.time}")
    return 0


def _reject(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    event = upgrade_review.reject(ctx.admin(), _store(ctx), args.id, actor, ctx.trail())
    print(f"rejected: {args.id} ({event.username}); recorded by {event.operator} at {event.time}")
    return 0


def _recover(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    done = upgrade_review.recover(ctx.admin(), ctx.definitions(), _store(ctx), args.id, actor, ctx.trail())
    print(f"recovered: {args.id} is {done.application.status} ({done.outcome.note})")
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
    operating.register(submit_p, _submit)

    list_p = review_sub.add_parser("list", help="the applications (pending first by default: all)")
    list_p.add_argument("--status", choices=["pending", "claimed", "approved", "rejected"])
    operating.register(list_p, _list)

    for name, func, text in (
        ("approve", _approve, "upgrade the applicant to Prime (tier, company, validity, second factor)"),
        ("reject", _reject, "refuse the application; the account stays Entry"),
        (
            "recover",
            _recover,
            "settle a decision whose desk stopped midway ('claimed' in review list), from the account",
        ),
    ):
        p = review_sub.add_parser(name, help=text)
        p.add_argument("--id", required=True, help="application id (app-...)")
        p.add_argument("--reason", required=True, help="recorded in the operator audit trail")
        p.add_argument("--operator", help=f"who decides (default: ${OPERATOR_ENV})")
        operating.register(p, func)
