"""`bizid policy matrix`: which tier may use which RP, and which claims each RP receives - asked of OPA.

Nothing here re-implements a rule. Every cell of the report is a decision OPA returned for a synthetic
input: the RP list, tiers, scopes and procedures are read from the registry OPA serves
(`GET /v1/data/bizid/registry`), each access cell is `POST /v1/data/bizid/access/decision`, each claims
row is `POST /v1/data/bizid/release/decision`. The report therefore shows the policy as it is deployed,
not a description of it; the digests of the served policies and registry in its header say which.

By default it asks the platform's OPA (`settings.opa_url`). With `--definitions DIR` it starts a private
OPA on `policies/bizid` and the registry generated from DIR (what-if: "what would this registry change
do?"). Output: `policy-matrix.md` and `policy-matrix.html` in `--out` (default `docs/reports/`).

The synthetic account of each tier has every attribute a claim reads set (so a withheld claim is
withheld by the policy, not for lack of a value), is active and valid for a year; a Member has a branch;
an RP-scoped tier (provisional Prime) is tried with the RP named on it and without.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from realm import loader, opa_data
from scripts import arguments, opa_server, settings

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = REPO_ROOT / "policies" / "bizid"
DEFAULT_OUT = REPO_ROOT / "docs" / "reports"
REPORT_NAME = "policy-matrix"

PRINCIPAL_CORPORATE_NUMBER = "5010401089998"
ACCOUNT_CORPORATE_NUMBER = "7000012050002"

Json = Any


class MatrixError(RuntimeError):
    """OPA could not be asked, or answered something that is not a decision."""


# --- asking OPA ------------------------------------------------------------------------------------


class Opa:
    """A client of one OPA server's data API."""

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update(opa_server.bearer(token or token_for(self.url)))

    def decide(self, package: str, policy_input: Json) -> dict[str, Any]:
        """The decision of `data.bizid.<package>.decision` for this input; it must be defined."""
        try:
            response = self.http.post(
                f"{self.url}/v1/data/bizid/{package}/decision",
                json={"input": policy_input},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise MatrixError(f"OPA at {self.url} cannot be reached: {exc}") from None
        if response.status_code != 200:
            raise MatrixError(f"OPA at {self.url} answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        if not isinstance(body.get("result"), dict):
            raise MatrixError(f"OPA at {self.url} gave no {package} decision (is the policy loaded?)")
        result: dict[str, Any] = body["result"]
        return result

    def access(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("access", policy_input)

    def release(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("release", policy_input)

    def get(self, path: str) -> Json:
        try:
            response = self.http.get(f"{self.url}/v1/{path}", timeout=self.timeout)
        except requests.RequestException as exc:
            raise MatrixError(f"OPA at {self.url} cannot be reached: {exc}") from None
        if response.status_code != 200:
            raise MatrixError(f"OPA at {self.url} answered {response.status_code} for /v1/{path}")
        return response.json().get("result")

    def registry(self) -> dict[str, Any]:
        registry = self.get("data/bizid/registry")
        if not isinstance(registry, dict) or not registry.get("rps"):
            raise MatrixError(f"OPA at {self.url} serves no registry at data.bizid.registry")
        return registry

    def policy_digest(self) -> str:
        """sha256 over the raw text of the served bizid modules (sorted): names the policy version."""
        modules = self.get("policies") or []
        texts = sorted(m["raw"] for m in modules if "package bizid." in m["raw"])
        return hashlib.sha256("\n".join(texts).encode()).hexdigest()


_PRIVATE_TOKENS: dict[str, str] = {}
"""Read tokens of the private OPA servers running in this process, by URL."""


def token_for(url: str) -> str | None:
    """The read token for an OPA of ours: a private one started here, or the platform's (generated secret)."""
    url = url.rstrip("/")
    if url in _PRIVATE_TOKENS:
        return _PRIVATE_TOKENS[url]
    cfg = settings.load()
    secret = cfg.paths.secrets / opa_server.READ_TOKEN_SECRET
    if url == cfg.opa_url and secret.exists():
        return secret.read_text().strip()
    return None


def opa_binary() -> Path:
    configured = settings.load().paths.opa
    if configured.exists():
        return configured
    found = shutil.which("opa")
    if found is None:
        raise MatrixError(f"no OPA binary at {configured} nor on PATH (run `bizid up`)")
    return Path(found)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_opa(
    definitions: Path = loader.DEFINITIONS_DIR,
    registry: dict[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """A private OPA server (the real binary) on a free loopback port; yields its URL.

    It serves `policies/bizid` (without `_test.rego`, as in production) and the registry generated from
    `definitions` by `realm.opa_data` - or the given `registry` document as is - with the platform's
    authentication and authorization (scripts/opa_server.py) and fresh tokens; `Opa(url)` finds the read
    token through `token_for`.
    """
    with tempfile.TemporaryDirectory(prefix="bizid-opa-") as tmp:
        data_dir = Path(tmp) / "data"
        if registry is None:
            opa_data.write(loader.load(definitions), data_dir)
        else:
            target = data_dir.joinpath(*opa_data.DATA_PATH, "data.json")
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(registry), encoding="utf-8")
        port = _free_port()
        log_path = Path(tmp) / "opa.log"
        command = [
            str(opa_binary()),
            *opa_server.run_args(f"127.0.0.1:{port}", data_dir, decision_log=False, extra=extra_args),
        ]
        read_token = opa_server.new_token()
        env = {**os.environ, **opa_server.token_env(opa_server.new_token(), read_token)}
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        _PRIVATE_TOKENS[url] = read_token
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise MatrixError(f"OPA exited with {process.returncode}: {log_path.read_text()[-2000:]}")
                try:
                    if requests.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise MatrixError(f"OPA did not become healthy: {log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            yield url
        finally:
            _PRIVATE_TOKENS.pop(url, None)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- synthetic inputs ------------------------------------------------------------------------------

SAMPLE_VALUES: dict[str, Json] = {
    "firstName": "Taro",
    "lastName": "Yamada",
    "email": "taro@example.test",
    "emailVerified": True,
    "phone_number": "+81312345678",
    "corporate_number": ACCOUNT_CORPORATE_NUMBER,
    "corporate_name": "Yamada Shoji K.K.",
    "corporate_type": "corporation",
    "representative_name": "Yamada Taro",
    "address": "1-1 Kasumigaseki, Chiyoda-ku, Tokyo",
    "branch": "Osaka branch",
}
"""Values of the account attributes claims read; an attribute not listed here gets a placeholder."""


def now_rfc3339(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic_account(
    registry: dict[str, Any], tier: str, now: dt.datetime, rps: list[str]
) -> dict[str, Any]:
    """An active account of `tier`, valid for a year, with a value for every attribute a claim reads."""
    tier_def = registry["tiers"][tier]
    account: dict[str, Any] = {
        "id": f"matrix-{tier}",
        "username": f"matrix-{tier}",
        "tier": tier,
        "status": "active",
        "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
        "corporate_number": ACCOUNT_CORPORATE_NUMBER,
        "prime_username": "matrix-prime" if tier == "member" else None,
        "provisional_rps": rps if tier_def.get("rp_scoped") else [],
    }
    derived = {"full_name", "account_type", "delegation"}
    for scope in registry["scopes"].values():
        for claim in scope["claims"].values():
            attribute = claim["attribute"]
            if attribute in derived or attribute in account:
                continue
            if attribute == "branch" and tier != "member":
                continue
            value = SAMPLE_VALUES.get(attribute, f"sample {attribute}")
            account[attribute] = [value] if claim.get("multivalued") else value
    return account


def base_input(
    registry: dict[str, Any], rp: str, account: dict[str, Any], loa: int, now: dt.datetime
) -> Json:
    return {
        "rp": {"client_id": rp},
        "account": account,
        "authn": {"loa": loa},
        "now": now_rfc3339(now),
        "decision_id": str(uuid.uuid4()),
        "scopes": [],
        "delegation": None,
        "grantor": None,
        "licences": None,
    }


# --- the matrix ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessCell:
    """The lowest acr at which OPA allows the tier at the RP, or why it refuses at the highest level."""

    allowed_acr: str | None
    reasons: tuple[str, ...]

    def text(self) -> str:
        return f"yes, {self.allowed_acr}" if self.allowed_acr else "no: " + ", ".join(self.reasons)


@dataclass(frozen=True)
class ClaimsRow:
    tier: str
    scope_set: str
    requested: tuple[str, ...]
    released: tuple[str, ...]
    verified: tuple[str, ...]
    withheld: tuple[tuple[str, str, str], ...]
    """(claim, scope, reason)"""


@dataclass(frozen=True)
class DelegationRow:
    rp: str
    procedure: str
    licence: str | None
    allowed: bool
    reasons: tuple[str, ...]
    claim_procedures: tuple[str, ...]
    claim_licences: tuple[str, ...]


@dataclass
class Matrix:
    policy_digest: str
    registry_digest: str
    columns: list[str]
    """Tier columns; an RP-scoped tier appears twice: `<tier> (RP named)` and `<tier> (not named)`."""
    rps: dict[str, dict[str, Any]]
    access: dict[str, dict[str, AccessCell]] = field(default_factory=dict)
    claims: dict[str, list[ClaimsRow]] = field(default_factory=dict)
    delegations: list[DelegationRow] = field(default_factory=list)


def _codes(decision: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({str(r.get("code")) for r in decision.get("reasons", [])}))


def build(opa: Opa, now: dt.datetime | None = None) -> Matrix:
    """Ask OPA every question the report shows."""
    now = now or dt.datetime.now(dt.UTC)
    registry = opa.registry()
    canonical = json.dumps(registry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    acr_loa: dict[str, int] = registry["acr_loa"]
    by_level = sorted(acr_loa.items(), key=lambda item: item[1])
    top_loa = by_level[-1][1]
    all_scopes = sorted(registry["scopes"])
    variants: list[tuple[str, str, bool]] = []  # (column, tier, RP named on it)
    for tier, tier_def in registry["tiers"].items():
        if tier_def.get("rp_scoped"):
            variants += [(f"{tier} (RP named)", tier, True), (f"{tier} (not named)", tier, False)]
        else:
            variants.append((tier, tier, False))
    matrix = Matrix(
        policy_digest=opa.policy_digest(),
        registry_digest=hashlib.sha256(canonical.encode()).hexdigest(),
        columns=[column for column, _, _ in variants],
        rps=dict(sorted(registry["rps"].items())),
    )
    for rp_id, rp in matrix.rps.items():
        row: dict[str, AccessCell] = {}
        for column, tier, named in variants:
            account = synthetic_account(registry, tier, now, [rp_id] if named else ["some-other-rp"])
            cell = None
            last: dict[str, Any] = {}
            for acr, loa in by_level:
                decision = opa.access(base_input(registry, rp_id, account, loa, now))
                if decision.get("allow") is True:
                    cell = AccessCell(acr, ())
                    break
                last = decision
            row[column] = cell or AccessCell(None, _codes(last))
        matrix.access[rp_id] = row

        rows: list[ClaimsRow] = []
        for column, tier, named in variants:
            if row[column].allowed_acr is None or (registry["tiers"][tier].get("rp_scoped") and not named):
                continue
            account = synthetic_account(registry, tier, now, [rp_id])
            for scope_set, scopes in (
                ("registered", ["openid", *rp["scopes"]]),
                ("every scope", ["openid", *all_scopes]),
            ):
                policy_input = base_input(registry, rp_id, account, top_loa, now)
                policy_input["scopes"] = scopes
                decision = opa.release(policy_input)
                claims: dict[str, Any] = decision.get("claims", {})
                verified = claims.get("verified_claims", {}).get("claims", {})
                rows.append(
                    ClaimsRow(
                        tier=tier,
                        scope_set=scope_set,
                        requested=tuple(scopes),
                        released=tuple(sorted(c for c in claims if c != "verified_claims")),
                        verified=tuple(sorted(verified)),
                        withheld=tuple(
                            sorted(
                                (w["claim"], w["scope"], w["reason"]) for w in decision.get("withheld", [])
                            )
                        ),
                    )
                )
        matrix.claims[rp_id] = rows
        matrix.delegations += _delegation_rows(opa, registry, rp_id, rp, now, top_loa)
    return matrix


def _delegation_rows(
    opa: Opa, registry: dict[str, Any], rp_id: str, rp: dict[str, Any], now: dt.datetime, loa: int
) -> list[DelegationRow]:
    """A Prime of another firm signs in under a valid delegation for each procedure, with each licence."""
    rows = []
    delegate_tier = next(
        (t for t in ("prime", "member") if t in rp["accepted_tiers"]), rp["accepted_tiers"][0]
    )
    account = synthetic_account(registry, delegate_tier, now, [rp_id])
    account["username"] = "matrix-delegate"
    grantor = {
        "username": "matrix-principal",
        "tier": "prime",
        "corporate_number": PRINCIPAL_CORPORATE_NUMBER,
        "status": "active",
        "valid_until": (now + dt.timedelta(days=365)).date().isoformat(),
        "corporate_name": "Principal K.K.",
    }
    for proc_id, proc in sorted(rp["procedures"].items()):
        for licence in [None, *proc["licences_accepted"]]:
            policy_input = base_input(registry, rp_id, account, loa, now)
            policy_input["scopes"] = ["openid", *rp["scopes"]]
            policy_input["delegation"] = {
                "id": str(uuid.uuid4()),
                "principal_corporate_number": PRINCIPAL_CORPORATE_NUMBER,
                "granted_by": "matrix-principal",
                "delegate_username": "matrix-delegate",
                "rp": rp_id,
                "procedures": [proc_id],
                "not_before": now_rfc3339(now - dt.timedelta(days=1)),
                "not_after": now_rfc3339(now + dt.timedelta(days=30)),
                "revoked": False,
            }
            policy_input["grantor"] = grantor
            policy_input["licences"] = (
                []
                if licence is None
                else [
                    {
                        "kind": licence,
                        "number": "123456",
                        "holder_username": "matrix-delegate",
                        "not_after": None,
                        "revoked": False,
                    }
                ]
            )
            access = opa.access(policy_input)
            release = opa.release(policy_input)
            claim = release.get("claims", {}).get("delegation") or {}
            procs = claim.get("procedures", [])
            rows.append(
                DelegationRow(
                    rp=rp_id,
                    procedure=proc_id,
                    licence=licence,
                    allowed=access.get("allow") is True,
                    reasons=tuple(sorted(str(r.get("message")) for r in access.get("reasons", []))),
                    claim_procedures=tuple(p["id"] for p in procs),
                    claim_licences=tuple(f"{lic['kind']}" for p in procs for lic in p.get("licences", [])),
                )
            )
    return rows


# --- rendering -------------------------------------------------------------------------------------

WITHHELD_MEANING = {
    "scope_not_registered": "the RP did not register the claim's scope (purpose limitation)",
    "unverified_tier": "corporate claim of a self-asserted tier",
}


def _list(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items) if items else "-"


def _withheld(row: ClaimsRow) -> list[str]:
    return [f"{claim} ({scope}): {reason}" for claim, scope, reason in row.withheld]


def _sections(matrix: Matrix) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table; both renderers print the same cells."""
    sections: list[tuple[str, list[str], list[list[str]]]] = []
    sections.append(
        (
            "Access: which tier may sign in where (lowest acr allowed, or the refusal codes)",
            ["RP", "min_acr", *matrix.columns],
            [
                [rp_id, str(rp["min_acr"]), *(matrix.access[rp_id][c].text() for c in matrix.columns)]
                for rp_id, rp in matrix.rps.items()
            ],
        )
    )
    for rp_id, rp in matrix.rps.items():
        sections.append(
            (
                f"Claims at {rp_id} ({rp['name']}; registered scopes: {_list(rp['scopes'])}"
                f"{'; pairwise sub' if rp.get('pairwise_sub') else ''})",
                [
                    "tier",
                    "scopes requested",
                    "claims released",
                    "inside verified_claims",
                    "withheld (scope): reason",
                ],
                [
                    [
                        row.tier,
                        f"{row.scope_set}: {' '.join(row.requested)}",
                        _list(row.released),
                        _list(row.verified),
                        "; ".join(_withheld(row)) or "-",
                    ]
                    for row in matrix.claims[rp_id]
                ]
                or [["(no tier is allowed)", "-", "-", "-", "-"]],
            )
        )
    if matrix.delegations:
        sections.append(
            (
                "Delegation: a delegate of another firm under a valid delegation from an active Prime",
                [
                    "RP",
                    "procedure",
                    "delegate's licence",
                    "access",
                    "delegation claim: procedures (licences)",
                ],
                [
                    [
                        row.rp,
                        row.procedure,
                        row.licence or "none",
                        "allowed" if row.allowed else "refused: " + "; ".join(row.reasons),
                        f"{_list(row.claim_procedures)} ({_list(row.claim_licences)})"
                        if row.claim_procedures
                        else "-",
                    ]
                    for row in matrix.delegations
                ],
            )
        )
    return sections


INTRO = (
    "Generated by `bizid policy matrix` from the decisions OPA returned (`bizid.access`, `bizid.release`) "
    "for synthetic accounts: every cell is an answer of the deployed policy, not a description of it. "
    "Each tier's account is active, valid for a year and has a value for every attribute a claim reads; "
    "a provisional Prime is tried with the RP named on it and without. Claims rows are asked at the "
    "highest level of authentication; `acr`, `amr` and `sub` are set by Keycloak and not shown. "
    "Do not edit: regenerate."
)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(matrix: Matrix) -> str:
    lines = [
        "# Policy matrix: tiers, relying parties and released claims",
        "",
        INTRO,
        "",
        f"- policies (sha256 of the served `bizid.*` modules): `{matrix.policy_digest}`",
        f"- registry (sha256 of `data.bizid.registry`): `{matrix.registry_digest}`",
        "",
    ]
    for title, header, rows in _sections(matrix):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Withheld reasons", ""]
    lines += [f"- `{code}`: {meaning}" for code, meaning in WITHHELD_MEANING.items()]
    return "\n".join(lines) + "\n"


def render_html(matrix: Matrix) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>bizid policy matrix</title>',
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left}"
        "th{background:#eee}.no{background:#fdd}.yes{background:#dfd}</style></head><body>",
        "<h1>Policy matrix: tiers, relying parties and released claims</h1>",
        f"<p>{esc(INTRO)}</p>",
        "<ul>",
        "<li>policies (sha256 of the served <code>bizid.*</code> modules): "
        f"<code>{matrix.policy_digest}</code></li>",
        "<li>registry (sha256 of <code>data.bizid.registry</code>): "
        f"<code>{matrix.registry_digest}</code></li>",
        "</ul>",
    ]
    for title, header, rows in _sections(matrix):
        parts.append(
            f"<h2>{esc(title)}</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
        )
        for row in rows:
            cells = []
            for cell in row:
                css = ' class="yes"' if cell.startswith(("yes", "allowed")) else ""
                css = ' class="no"' if cell.startswith(("no:", "refused")) else css
                cells.append(f"<td{css}>{esc(cell)}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Withheld reasons</h2><ul>")
    parts += [f"<li><code>{esc(code)}</code>: {esc(text)}</li>" for code, text in WITHHELD_MEANING.items()]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def write(matrix: Matrix, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in (("md", render_markdown(matrix)), ("html", render_html(matrix))):
        path = out / f"{REPORT_NAME}.{suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def generate(
    out: Path = DEFAULT_OUT, opa_url: str | None = None, definitions: Path | None = None
) -> list[Path]:
    """Build the matrix from the platform's OPA, another OPA, or a private one on `definitions`."""
    if definitions is not None:
        with private_opa(definitions) as url:
            return write(build(Opa(url)), out)
    return write(build(Opa(opa_url or settings.load().opa_url)), out)


# --- CLI -------------------------------------------------------------------------------------------


def _matrix_cmd(args: argparse.Namespace) -> int:
    try:
        written = generate(args.out, args.opa_url, args.definitions)
    except MatrixError as exc:
        raise ValueError(str(exc)) from None
    except OSError as exc:
        raise ValueError(f"--out {args.out}: cannot write the report: {exc.strerror or exc}") from None
    for path in written:
        print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="reports generated from the policies")
    p_sub = policy.add_subparsers(dest="policy_command", required=True)
    matrix_p = p_sub.add_parser("matrix", help="tier x RP access and released claims, asked of OPA")
    matrix_p.add_argument(
        "--out", type=arguments.output_dir, default=DEFAULT_OUT, help="output folder (default docs/reports)"
    )
    source = matrix_p.add_mutually_exclusive_group()
    source.add_argument(
        "--opa-url", type=arguments.http_url, help="ask this OPA server (default: the platform's)"
    )
    source.add_argument(
        "--definitions",
        type=arguments.existing_dir,
        help="start a private OPA on policies/bizid and the registry generated from this definitions folder",
    )
    matrix_p.set_defaults(func=_matrix_cmd)
