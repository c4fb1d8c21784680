"""Checks of operator input for an account that Keycloak would otherwise refuse mid-write (or with a stack
trace): the e-mail address, the names and the password against the realm's password policy.

Pure functions returning a message (None: fine), so the CLI can name the option before any request.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from realm.models import PasswordPolicy

EMAIL = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
"""A pragmatic addr-spec: one @, no blanks or specials in the local part, a dotted domain of DNS labels."""

MAX_FIELD = 255
"""Keycloak's length limit of username, e-mail and name fields (user profile default validators)."""


def email_error(email: str) -> str | None:
    if len(email) > MAX_FIELD:
        return f"{email[:40]!r}...: longer than {MAX_FIELD} characters"
    if not EMAIL.fullmatch(email):
        return f"{email!r}: not an e-mail address (expected name@domain.example)"
    return None


def name_error(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if len(value) > MAX_FIELD:
        return f"longer than {MAX_FIELD} characters"
    if any(ord(c) < 32 or c in '<>&"$%!#?§;*~/\\|^=[]{}()' for c in value):
        return f"{value!r}: contains a character a person's name cannot have"
    return None


def password_error(
    password: str,
    username: str,
    email: str,
    policy: PasswordPolicy,
    blocked: Callable[[str], bool] | None = None,
) -> str | None:
    """The realm's password policy (realm.yaml `password`), as Keycloak applies it to an Admin API create."""
    if len(password) < policy.min_length:
        return f"shorter than the realm's minimum of {policy.min_length} characters"
    if len(password) > policy.max_length:
        return f"longer than the realm's maximum of {policy.max_length} characters"
    if policy.not_username and password.lower() == username.lower():
        return "must not be the username"
    if policy.not_email and password.lower() == email.lower():
        return "must not be the e-mail address"
    if blocked is not None and blocked(password):
        return "is on the list of commonly used passwords; choose another"
    return None
