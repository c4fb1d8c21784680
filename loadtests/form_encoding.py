"""Form bodies, query strings and URL joins, as `urllib.parse` writes them (byte for byte), cheaper.

urlencode quotes every name and value through `quote_plus` (several Python calls each); the journey's
fields are mostly already safe (tokens, codes, verifiers: base64url), so a value that needs no quoting is
taken as it is and only the others go through `quote_plus`. tests/test_load_bare_http.py compares both on
random text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote_plus, urlencode, urljoin

_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
_PLAIN_ABSOLUTE = re.compile(r"https?://[^/?#\s]+(?:/(?!\.\.?(?:[/?#]|$))[^/?#\s]*)*(?:\?[^#\s]+)?")
"""scheme://authority, path segments none of which is `.` or `..`, an optional non-empty query, no fragment:
a URL that urljoin gives back unchanged (tests/test_load_bare_http.py compares them)."""


def _quote(text: str) -> str:
    return text if _SAFE.fullmatch(text) is not None else quote_plus(text)


def form_query(fields: Mapping[str, str]) -> str:
    """urlencode(fields), for str names and values (any other field goes through urlencode itself)."""
    if not all(type(name) is str and type(value) is str for name, value in fields.items()):
        return urlencode(fields)
    return "&".join(f"{_quote(name)}={_quote(value)}" for name, value in fields.items())


def absolute_join(base: str, reference: str) -> str:
    """urljoin(base, reference), taking a plain absolute http(s) reference as it is (Keycloak's form actions
    and Locations are absolute) instead of splitting and reassembling it; anything else goes to urljoin."""
    if reference.startswith(("https://", "http://")) and _PLAIN_ABSOLUTE.fullmatch(reference) is not None:
        return reference
    return urljoin(base, reference)


def form_encode(fields: Mapping[str, str]) -> bytes:
    """The form body for `fields`, as urlencode(fields).encode("ascii") (which any non-str field takes)."""
    return form_query(fields).encode("ascii")
