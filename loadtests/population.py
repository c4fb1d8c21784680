"""The synthetic population of load-test accounts: everything about account `i` follows from `i` alone.

The seeder (`loadtests.seed`) writes these accounts straight into Keycloak's tables; the load generator
(`loadtests.locustfile`) signs in as them. Both derive username, tier, password and TOTP secret from the
index with the functions below, so no credential file is needed and any account of a population of
millions can be drawn at random.

Shape of the population, in blocks of ten consecutive indexes (b = i - i % 10):

| i % 10 | tier   | company                                                   |
|--------|--------|-----------------------------------------------------------|
| 0..5   | prime  | a corporation of its own (valid corporate number)         |
| 6      | prime  | a sole proprietor (no corporate number)                   |
| 7      | member | issued by the Prime b + 0, same company, branch office    |
| 8      | member | issued by the Prime b + 1, same company, no branch        |
| 9      | entry  | self-registered, nothing verified                         |

70 % Prime, 20 % Member, 10 % Entry: gBizID is mostly Prime (companies that applied for subsidies), Members
are issued by some Primes, Entry is the minority that only attends seminars (DOMAIN.md). Provisional
Primes (5,806 ever issued, valid at one RP) are left out: they are a rounding error of the traffic.

None of this is secret: the passwords and TOTP secrets are derived from a public constant because the
accounts exist only on a local, loopback-only platform for load tests. Never seed them anywhere else.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

from realm import loader
from realm.models import Tier, corporate_number_check_digit

USERNAME_PREFIX = "load-"
"""Every seeded account's username starts with this; nothing else on the platform uses it."""

EMAIL_DOMAIN = "load.bizid.test"
SEED = b"bizid-load-population-v1"
"""Public derivation key (see the module docstring: these credentials protect nothing)."""

PASSWORD_POOL = 16
"""Distinct passwords (each hashed once per seed run). Every login still costs Keycloak one full Argon2
hash: the pool only saves the seeder from hashing millions of times."""

OTP_POLICY = loader.load().realm.otp
"""The realm's OTP policy (realm.yaml `otp`): the seeder enrols and the load generator computes with it."""
TOTP_DIGITS = OTP_POLICY.digits
TOTP_PERIOD = OTP_POLICY.period_seconds
TOTP_ALGORITHM = OTP_POLICY.algorithm
_TOTP_HASH = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256, "HmacSHA512": hashlib.sha512}[
    TOTP_ALGORITHM
]

ID_PREFIX = "10ad"
"""First four hex digits of every row id the seeder writes (users, credentials, attributes)."""


class Kind:
    """Row kinds encoded in the second group of a deterministic id (see `row_id`)."""

    USER = 0x0000
    PASSWORD = 0x0001
    OTP = 0x0002
    ATTRIBUTE = 0x0100  # + attribute number (`ATTRIBUTE_NAMES`)


ATTRIBUTE_NAMES: tuple[str, ...] = (
    "tier",
    "account_status",
    "valid_until",
    "corporate_number",
    "corporate_name",
    "corporate_type",
    "representative_name",
    "address",
    "phone_number",
    "prime_username",
    "branch",
    "member_permissions",
)
"""User-profile attributes the seeder writes (realm/definitions/user-profile.yaml), in id order."""


def id_prefix(index: int, prefix: str = ID_PREFIX) -> str:
    """The part of every row id of account `index` that comes from the index (see `row_id`). `prefix`
    (four hex digits) tells the seeded copies of the population in different realms apart: row ids are
    primary keys across all realms (the stock baseline realm, loadtests/stock_realm.py, has its own)."""
    if not 0 <= index < 1 << 48:
        raise ValueError(f"index {index} out of range")
    if prefix != ID_PREFIX and not re.fullmatch(r"[0-9a-f]{4}", prefix):
        raise ValueError(f"id prefix {prefix!r}: four lower-case hex digits")
    h = f"{index:012x}"
    return f"{prefix}{h[:4]}-{h[4:8]}-{h[8:]}-"


def kind_suffix(kind: int) -> str:
    return f"{kind:04x}-000000000000"


def row_id(kind: int, index: int) -> str:
    """Deterministic id of a row: `10ad` + index + kind, in UUID syntax (8-4-4-4-12 hex digits).

    Ids grow with the index, then the kind: the seeder writes consecutive indexes, so every insert lands
    on the right-most leaf of each primary-key B-tree (PostgreSQL's fast path) instead of scattering over
    it as random UUIDs would, which halves the cost of a batch. Re-running a batch finds the same ids,
    which makes seeding resumable (`loadtests.seed`).
    """
    if not 0 <= kind < 1 << 16:
        raise ValueError(f"kind {kind} out of range")
    return id_prefix(index) + kind_suffix(kind)


def user_id(index: int, prefix: str = ID_PREFIX) -> str:
    return id_prefix(index, prefix) + kind_suffix(Kind.USER)


def username(index: int) -> str:
    return f"{USERNAME_PREFIX}{index:08d}"


def email(index: int) -> str:
    return f"{username(index)}@{EMAIL_DOMAIN}"


def tier(index: int) -> Tier:
    slot = index % 10
    if slot <= 6:
        return Tier.PRIME
    if slot <= 8:
        return Tier.MEMBER
    return Tier.ENTRY


def needs_otp(index: int) -> bool:
    """Prime and Member must pass a second factor (tiers.yaml: min_acr aal2); they have TOTP enrolled."""
    return tier(index) in (Tier.PRIME, Tier.MEMBER)


def prime_of(index: int) -> int:
    """The Prime that issued a Member (the Member's own index for anyone else)."""
    slot = index % 10
    return index - slot + (slot - 7) if slot in (7, 8) else index


def _digest(label: str, index: int, size: int) -> bytes:
    """Keyed BLAKE2b (a MAC by design): fast enough to derive millions of secrets in seconds."""
    return hashlib.blake2b(f"{label}:{index}".encode(), key=SEED, digest_size=size).digest()


def password_number(index: int) -> int:
    return index % PASSWORD_POOL


def pool_password(number: int) -> str:
    """Password number `number` of the pool: 24 characters, meets the realm's policy (12..128, not the
    username or e-mail)."""
    return f"Lt-{number:02d}-{_digest('password', number, 9).hex()}"


def password(index: int) -> str:
    return pool_password(password_number(index))


def pool_salt(number: int) -> bytes:
    """16-byte salt of pool entry `number` (Keycloak's Salt.generateSalt() length)."""
    return _digest("salt", number, 16)


def totp_secret(index: int) -> str:
    """The TOTP secret as Keycloak stores it: 20 characters whose UTF-8 bytes are the HMAC key, the shape
    Keycloak's own enrolment generates (no `secretEncoding`)."""
    return _digest("totp", index, 10).hex()


def totp_key(index: int) -> bytes:
    return totp_secret(index).encode()


def totp_code(index: int, at: float) -> str:
    """RFC 6238 code of account `index` at Unix time `at` with the realm's OTP policy (HMAC-SHA1, 6 digits,
    30 s today), as Keycloak computes it. Implemented here (not pyotp) because the load generator calls
    it for every sign-in."""
    counter = int(at) // TOTP_PERIOD
    mac = hmac.new(totp_key(index), counter.to_bytes(8, "big"), _TOTP_HASH).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**TOTP_DIGITS:0{TOTP_DIGITS}d}"


@functools.lru_cache(maxsize=256)
def corporate_number(company: int) -> str:
    """A valid corporate number (NTA check digit) unique to company `company`."""
    base12 = f"{7_000_000_000_000 // 10 + company:012d}"
    return f"{corporate_number_check_digit(base12)}{base12}"


@dataclass(frozen=True)
class Account:
    """Everything about one seeded account (the seeder's view; the load generator needs far less)."""

    index: int
    tier: Tier
    username: str
    email: str
    first_name: str
    last_name: str
    attributes: tuple[tuple[str, str], ...]
    otp: bool


MEMBER_PERMISSIONS = ("jgrants", "it-subsidy")
"""What a seeded Member's Prime permitted (`member_permissions`, bizid members permit)."""

MULTIVALUE_STRIDE = 0x40
"""Row id kind of the k-th value (k >= 1) of a multivalued attribute: ATTRIBUTE + k*stride + number."""


def attributes(index: int, valid_until: str) -> list[tuple[str, str]]:
    """User-profile attributes of account `index` (names as in realm/definitions/user-profile.yaml).
    `valid_until` (ISO date) is the Prime's re-verification date, which its Members share; it is the one
    input not derived from the index, so that a seed run can keep it in the future."""
    slot = index % 10
    if slot == 9:
        return [("tier", "entry"), ("account_status", "active"), ("corporate_type", "corporation")]
    member = slot in (7, 8)
    company = index - slot + (slot - 7) if member else index
    sole = company % 10 == 6
    attrs = [
        ("tier", "member" if member else "prime"),
        ("account_status", "active"),
        ("valid_until", valid_until),
    ]
    if not sole:
        attrs.append(("corporate_number", corporate_number(company)))
    attrs += [
        ("corporate_name", f"Load Test {'Shoten' if sole else 'K.K.'} {company:08d}"),
        ("corporate_type", "sole_proprietor" if sole else "corporation"),
        ("representative_name", f"Representative {company:08d}"),
        ("address", f"{company % 9 + 1}-{company % 47 + 1} Kasumigaseki, Chiyoda-ku, Tokyo"),
    ]
    if not member:
        attrs.append(("phone_number", f"+81 3 {company // 10000 % 10000:04d} {company % 10000:04d}"))
    else:
        attrs.append(("prime_username", username(company)))
        if slot == 7:
            attrs.append(("branch", f"Branch {company % 47 + 1}"))
        # Its Prime permitted it the RPs of the journey (loadtests/journey.py); multivalued, one row each.
        attrs += [("member_permissions", rp) for rp in MEMBER_PERMISSIONS]
    return attrs


def account(index: int, valid_until: dt.date) -> Account:
    """The account at `index`, everything the seeder writes about it."""
    return Account(
        index=index,
        tier=tier(index),
        username=username(index),
        email=email(index),
        first_name="Load",
        last_name=f"User{index:08d}",
        attributes=tuple(attributes(index, valid_until.isoformat())),
        otp=needs_otp(index),
    )
