"""`bizid accounts create`: the command line of `realm.accounts` (local, or a deployed `--target`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from realm.accounts import AccountSpec, CreatedAccount, PasswordCheck, create
from realm.models import Definitions, Tier
from scripts import arguments, operating, password_blocklist
from scripts.operating import Context


def _blocklist(defs: Definitions) -> PasswordCheck | None:
    """The realm's common-password list as built for Keycloak (None: not built here; Keycloak still
    applies its own copy and refuses the write)."""
    name = defs.realm.password.blocklist
    if name is None or not (password_blocklist.BUILD_DIR / name).exists():
        return None
    return lambda password: password_blocklist.is_blocked(password, name)


def _create_cmd(args: argparse.Namespace, ctx: Context) -> int:
    if args.save_credentials:  # checked before the account exists: nothing is created that cannot be saved
        folder = Path(args.save_credentials).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            print(f"bizid: --save-credentials: cannot write into {folder}", file=sys.stderr)
            return 2
    spec = AccountSpec(
        tier=Tier(args.tier),
        username=args.username,
        email=args.email,
        first_name=args.first_name,
        last_name=args.last_name,
        password=args.password,
        corporate_number=args.corporate_number,
        corporate_name=args.corporate_name,
        corporate_type=args.corporate_type,
        representative_name=args.representative,
        address=args.address,
        phone_number=args.phone,
        branch=args.branch,
        prime_username=args.prime,
        provisional_rps=tuple(args.rp or ()),
        valid_until=args.valid_until,
        status=args.status,
        totp=args.totp,
    )
    defs = ctx.definitions()
    account = create(spec, defs, ctx.admin(), _blocklist(defs))
    if args.save_credentials:
        _save_credentials(Path(args.save_credentials), account)
    print(f"created {account.tier.value} account {account.username} (id {account.user_id})")
    print(f"  password: {account.password}")
    if account.totp_base32:
        print(f"  TOTP secret (base32, shown once): {account.totp_base32}")
        print(
            f"  otpauth://totp/bizid:{account.username}?secret={account.totp_base32}&issuer=bizid"
            f"&digits={defs.realm.otp.digits}&period={defs.realm.otp.period_seconds}"
        )
    return 0


def _save_credentials(path: Path, account: CreatedAccount) -> None:
    """The new account's credentials as a file (mode 600) for a test RP: docs/rp-guide.md."""
    path.write_text(
        json.dumps(
            {"username": account.username, "password": account.password, "totp_base32": account.totp_base32}
        )
    )
    path.chmod(0o600)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("accounts", help="manage accounts (the local platform, or --target NAME)")
    acc_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    create_p = acc_sub.add_parser("create", help="create a ready-to-use account of a tier")
    create_p.add_argument("--tier", required=True, choices=[t.value for t in Tier])
    create_p.add_argument("--username", required=True)
    create_p.add_argument("--email", required=True)
    create_p.add_argument("--first-name", required=True)
    create_p.add_argument("--last-name", required=True)
    create_p.add_argument("--password", help="default: a random one, printed once")
    create_p.add_argument("--corporate-number", help="13 digits with the NTA check digit")
    create_p.add_argument("--corporate-name")
    create_p.add_argument(
        "--corporate-type", default="corporation", choices=["corporation", "sole_proprietor"]
    )
    create_p.add_argument("--representative", help="representative's name")
    create_p.add_argument("--address")
    create_p.add_argument("--phone")
    create_p.add_argument("--branch", help="Member only: branch office")
    create_p.add_argument("--prime", help="Member only: username of the issuing Prime")
    create_p.add_argument("--rp", action="append", help="provisional Prime only: an RP it may use (repeat)")
    create_p.add_argument(
        "--valid-until", type=arguments.future_date, help="YYYY-MM-DD, after today (default: per tier)"
    )
    create_p.add_argument("--status", default="active", choices=["active", "suspended"])
    create_p.add_argument(
        "--totp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="enrol a TOTP authenticator (default: required tiers only)",
    )
    create_p.add_argument(
        "--save-credentials",
        metavar="FILE",
        help="also write username, password and TOTP secret to FILE (mode 600), e.g. for the sample RP",
    )
    operating.register(create_p, _create_cmd)
    from scripts import cli_lifecycle  # show, list, suspend, reactivate, renew

    cli_lifecycle.register(acc_sub)
    from scripts import cli_enrolment  # reset-authenticator (lost authenticator)

    cli_enrolment.register(acc_sub)

    from scripts import cli_representative  # change-representative

    cli_representative.register(acc_sub)
