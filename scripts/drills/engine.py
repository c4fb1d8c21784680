"""Run one drill: its steps in order, under the recorder's sign-in load and the account writer, with the
failover record sampled throughout; then the figures (RTO, RPO, failed sign-ins) and the properties.

Everything is bounded: the load and the writer stop at their own limits even if a step hangs, every wait
has a timeout, and `finally` stops every thread this module started.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from realm import accounts, loader
from realm.admin import admin_client
from realm.models import Tier
from realm.oidc.browser_flow import BrowserFlow, Client
from scripts.drills import ops, recorder, steps
from scripts.drills.inventory import Writer
from scripts.drills.recorder import LoadSpec, Recorder, SignIn, outage
from scripts.drills.result import DrillResult, RecordSample, StepRun
from scripts.settings import Settings

LOAD_RP = "seminar"
"""The RP of the drill's sign-ins: it accepts Entry accounts with a password alone, so the load exercises the
whole browser flow, OPA and the session writes without TOTP bookkeeping."""


@dataclass(frozen=True)
class Options:
    before: float = 15.0
    """Seconds of load before the failure is injected."""
    after: float = 15.0
    """Seconds of load after the last step."""
    workers: int = 2
    pause: float = 0.3
    write_pause: float = 0.5
    accounts: int = 6
    held: int = 4
    """Sessions signed in before the failure and checked after it (refresh through the record)."""
    watch: float = 20.0
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        for name in ("before", "after", "watch"):
            value = getattr(self, name)
            if not 0 <= value <= 300:
                raise ValueError(f"--{name} {value}: seconds between 0 and 300")
        if not 1 <= self.accounts <= 50:
            raise ValueError(f"--accounts {self.accounts}: between 1 and 50")
        if not 0 <= self.held <= 20:
            raise ValueError(f"--held {self.held}: between 0 and 20")
        if not 1 <= self.workers <= 8:
            raise ValueError(f"--workers {self.workers}: between 1 and 8")
        if not 60 <= self.max_seconds <= 900:
            raise ValueError(f"--max-seconds {self.max_seconds}: between 60 and 900")


def validate(name: str) -> tuple[steps.Step, ...]:
    """The drill's steps, every operation checked, before anything starts."""
    found = steps.drill(name)
    for step in found:
        if step.op is not None:
            ops.validate(step.op)
    return found


# --- held sessions ----------------------------------------------------------------------------------


@dataclass
class Held:
    """A user agent signed in before the failure: its cookies (SSO) and its latest refresh token."""

    username: str
    password: str
    flow: BrowserFlow
    refresh_token: str
    node: str = ""


def _hold(issuer: str, ca: str, client: Client, username: str, password: str) -> Held:
    flow = recorder.NodeFlow(requests.Session(), issuer, ca)
    result = flow.login(client, username, password)
    if result.tokens is None:
        raise RuntimeError(
            f"could not sign in {username} to hold a session: {result.error} {result.page_errors}"
        )
    return Held(username, password, flow, result.tokens["refresh_token"], f"{flow.site} {flow.node}".strip())


def _refresh_at(held: Held, client: Client, base_url: str | None = None) -> str:
    """Refresh the held session (at one node directly when `base_url` is given); "" or the error.

    As an RP's client would, it tries again once when the request cannot have reached Keycloak (connection
    refused, or a 502/503 from the LB or Keycloak's load shedding) — a node that just died or a cluster that
    is rebalancing is not a lost session. A refusal (400 `invalid_grant`) or a timeout is never retried: with
    rotation on, a retried token that Keycloak already used would be refused for the wrong reason."""
    url = held.flow.endpoints["token"]
    if base_url is not None:
        url = base_url + url[url.index("/realms/") :]
    for attempt in range(2):
        try:
            response = held.flow.session.post(
                url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": held.refresh_token,
                    "client_id": client.client_id,
                },
                verify=held.flow.verify,
                timeout=(3, 30),
            )
        except requests.ConnectionError as exc:
            if attempt == 0:
                time.sleep(1)
                continue
            return f"{type(exc).__name__}"
        except requests.RequestException as exc:
            return f"{type(exc).__name__}"
        if response.status_code in (502, 503) and attempt == 0:
            time.sleep(1)
            continue
        break
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.text[:120]}"
    held.refresh_token = response.json().get("refresh_token", held.refresh_token)
    return ""


def _sso(held: Held, client: Client) -> str:
    """Sign in again with the session's cookies only (no password): "" when SSO gave tokens."""
    try:
        result = held.flow.login(client, held.username, "")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:120]
    return "" if result.tokens is not None else f"asked to sign in again ({result.error or 'login form'})"


# --- the run ----------------------------------------------------------------------------------------


class Sampler:
    """Samples the record and each site's writability every half second into the result."""

    def __init__(self, ctx: ops.Context) -> None:
        self.ctx = ctx
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="drill-record", daemon=True)

    def sample(self) -> RecordSample:
        api = ops.sites_api()
        writable: dict[str, bool | None] = {}
        for site in steps.SITES:
            try:
                with self.ctx.database(site).connect(timeout=1) as conn:
                    row = conn.execute(
                        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"
                    ).fetchone()
                writable[site] = bool(row[0]) if row else None
            except Exception:
                writable[site] = None  # down: not writable either
        points = api.record_points_to(self.ctx.settings)
        record = RecordSample(time.time(), points, writable)
        self.ctx.result.record.append(record)
        return record

    def _run(self) -> None:
        deadline = time.monotonic() + self.ctx.result.figures.get("_max_seconds", 900)
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            try:
                self.sample()
            except Exception as exc:  # a sample that could not be taken is a gap, noted
                self.ctx.result.notes.append(f"record sample failed: {type(exc).__name__}: {exc}"[:200])
            self.stop_event.wait(0.5)

    def start(self) -> Sampler:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)


def _make_creator(settings: Settings, record_url: str) -> Callable[[str], None]:
    """Creates one Entry account through the record (re-logging in after a failure: the site may have
    changed under it)."""
    defs = loader.load()
    target = dataclasses.replace(settings.target(), keycloak_url=record_url)
    state: dict[str, Any] = {}

    def create(username: str) -> None:
        if "admin" not in state:
            state["admin"] = admin_client(target)
        spec = accounts.AccountSpec(
            tier=Tier.ENTRY,
            username=username,
            email=f"{username}@drill.bizid.test",
            first_name="Drill",
            last_name="Account",
        )
        try:
            accounts.create(spec, defs, state["admin"])
        except Exception:
            state.pop("admin", None)
            raise

    return create


def _load_accounts(settings: Settings, record_url: str, run: str, n: int) -> list[tuple[str, str]]:
    defs = loader.load()
    admin = admin_client(dataclasses.replace(settings.target(), keycloak_url=record_url))
    made = []
    for k in range(n):
        username = f"drill-{run}-load-{k}"
        spec = accounts.AccountSpec(
            tier=Tier.ENTRY, username=username, email=f"{username}@drill.bizid.test", first_name="Drill",
            last_name="Load",
        )  # fmt: skip
        created = accounts.create(spec, defs, admin)
        made.append((created.username, created.password))
    return made


def run(settings: Settings, name: str, options: Options, command: str) -> DrillResult:
    drill_steps = validate(name)
    api = ops.sites_api()
    topology = api.Topology.from_settings(settings)
    result = DrillResult(name=name, started=time.time(), command=command)
    result.figures["_max_seconds"] = options.max_seconds
    ctx = ops.Context(settings, result, watch_seconds=options.watch)
    ca = str(settings.paths.ca_cert)
    client = Client(LOAD_RP, str(settings.definitions().rp(LOAD_RP).redirect_uris[0]))
    run_id = uuid.uuid4().hex[:6]
    sampler = Sampler(ctx)
    ctx.sample = sampler.sample
    first = ops.wait_record(ctx, "tokyo")  # precondition: the topology is up, Tokyo serves
    load_accounts = _load_accounts(settings, topology.record_url, run_id, options.accounts)
    spec = LoadSpec(
        issuer=topology.issuer,
        client=client,
        accounts=load_accounts,
        ca_cert=ca,
        workers=options.workers,
        pause=options.pause,
        max_seconds=options.max_seconds,
    )
    ctx.recorder = Recorder(spec)
    ctx.writer = Writer(
        _make_creator(settings, topology.record_url),
        prefix=f"drill-{run_id}-w",
        pause=options.write_pause,
        max_seconds=options.max_seconds,
    )
    held: list[Held] = []
    try:
        sampler.start()
        ctx.recorder.start()
        ctx.writer.start()
        for username, password in load_accounts[: options.held]:
            for attempt in range(3):  # a busy machine may time one out: the session is what matters
                try:
                    held.append(_hold(topology.issuer, ca, client, username, password))
                    break
                except Exception as exc:
                    result.notes.append(f"holding a session for {username} (try {attempt + 1}): {exc}"[:200])
        _sessions_before(result, topology, held, client)
        for n, step in enumerate(drill_steps):
            assert step.op is not None or step.runbook, step
            if step.op is None:
                result.steps.append(
                    StepRun(step.title, "AWS only, not rehearsed", time.time(), time.time(), True)
                )
                continue
            record = StepRun(step.title, step.op.command, time.time())
            result.steps.append(record)
            try:
                record.detail = first if n == 0 else ops.run(ctx, step.op)
            except Exception as exc:
                record.ok, record.detail = False, f"{type(exc).__name__}: {exc}"[:300]
                break
            finally:
                record.end = time.time()
            if n == 0:
                time.sleep(options.before)
        time.sleep(options.after)
        _sessions_after(result, topology, held, client, name)
    finally:
        ctx.recorder.stop()
        ctx.writer.stop()
        sampler.stop()
        for h in held:
            h.flow.session.close()
    result.signins = _attribute(ctx.recorder.snapshot(), result.record)
    result.writes = list(ctx.writer.writes)
    result.finished = time.time()
    result.figures.pop("_max_seconds", None)
    _figures(result, ctx)
    _checks(result, ctx)
    return result


def _attribute(signins: list[SignIn], samples: list[RecordSample]) -> list[SignIn]:
    """Fill in the site of sign-ins whose responses did not name it: where the record pointed when they
    started (the record is the only address the load uses)."""
    out = []
    for s in signins:
        if not s.site:
            before = [r for r in samples if r.t <= s.start]
            site = before[-1].points_to if before else None
            s = dataclasses.replace(s, site=site or "")
        out.append(s)
    return out


def _sessions_before(result: DrillResult, topology: Any, held: list[Held], client: Client) -> None:
    """Both nodes of Tokyo see one session: each held session refreshes at node 1 and at node 2 directly."""
    tokyo = topology.site("tokyo")
    failures = []
    for h in held:
        for node in tokyo.nodes:
            error = _refresh_at(h, client, node.url)
            if error:
                failures.append(f"{h.username} at {node.name}: {error}")
    served = ", ".join(sorted({h.node for h in held if h.node})) or "not reported by the LB"
    result.figures["held sessions signed in at"] = served
    result.check(
        "both Tokyo nodes see every session (refresh at each node directly)",
        bool(held) and not failures,
        "; ".join(failures[:5]) or f"{len(held)} sessions x {len(tokyo.nodes)} nodes",
    )


def _sessions_after(result: DrillResult, topology: Any, held: list[Held], client: Client, name: str) -> None:
    refresh_errors = {h.username: _refresh_at(h, client) for h in held}
    sso_errors = {h.username: _sso(h, client) for h in held}
    refreshed = [u for u, e in refresh_errors.items() if not e]
    sso = [u for u, e in sso_errors.items() if not e]
    problems = [f"refresh {u}: {e}" for u, e in refresh_errors.items() if e]
    problems += [f"SSO {u}: {e}" for u, e in sso_errors.items() if e]
    where = {"unplanned": "Osaka", "failback": "Osaka", "node-loss": "the surviving node"}.get(name, "Tokyo")
    result.figures["held sessions refreshed after"] = f"{len(refreshed)} of {len(held)}"
    result.figures["held sessions kept SSO after"] = f"{len(sso)} of {len(held)}"
    if problems:
        result.findings.append("held sessions after the failure: " + "; ".join(problems)[:600])
    if name == "node-loss":
        result.check(
            "users signed in before the node loss stay signed in (refresh and SSO through the record)",
            len(refreshed) == len(held) and len(sso) == len(held),
            f"refresh {len(refreshed)}/{len(held)}, SSO {len(sso)}/{len(held)}",
        )
    else:
        result.findings.append(
            f"Sessions issued before the failure, used in {where}: {len(refreshed)} of {len(held)} refresh"
            f" tokens worked and {len(sso)} of {len(held)} browser sessions signed in again without a"
            " password. Keycloak 26 keeps user sessions in the database (persistent user sessions), which"
            " replicates with everything else, and the token signing keys are realm data in the same"
            " database, so a session whose rows reached the standby before the failure is valid at the"
            " other site."
        )


def _figures(result: DrillResult, ctx: ops.Context) -> None:
    signins = result.signins
    result.figures["sign-ins"] = len(signins)
    result.figures["sign-ins failed"] = sum(1 for s in signins if not s.ok)
    events = _failures(result, ctx)
    for label, at, until in events:
        gap = outage(signins, at, until)
        result.figures[f"RTO {label} (s)"] = "-" if gap.rto is None else f"{gap.rto:.1f}"
        result.figures[f"sign-ins failed {label}"] = gap.failed
        if gap.errors:
            reasons = "; ".join(f"{n}x {e}" for e, n in sorted(gap.errors.items(), key=lambda x: -x[1])[:4])
            result.findings.append(f"failed sign-ins {label}: {reasons}")
    if ctx.lag_at_kill is not None:
        result.figures["replication lag at the kill (bytes)"] = ctx.lag_at_kill.bytes
        seconds = ctx.lag_at_kill.seconds
        result.figures["replication lag at the kill (s)"] = None if seconds is None else f"{seconds:.3f}"
    if ctx.kill_at is not None and ctx.losses:
        loss = list(ctx.losses.values())[-1]
        result.figures["RPO (transactions)"] = loss.transactions
        lost = [w for w in result.writes if w.ok and w.username in set(loss.acknowledged_missing)]
        result.figures["RPO (s): kill - oldest lost acknowledged commit"] = (
            f"{ctx.kill_at - min(w.end for w in lost):.2f}" if lost else "0"
        )


def _failures(result: DrillResult, ctx: ops.Context) -> list[tuple[str, float, float | None]]:
    """(label, when, until) of each disruption the drill caused."""
    if result.name == "switchover":
        out = result.step_start("Take Tokyo out of the record")
        back = result.step_start("Take Osaka out of the record")
        events: list[tuple[str, float, float | None]] = []
        if out is not None:
            events.append(("switchover", out, back))
        if back is not None:
            events.append(("switch back", back, None))
        return events
    if result.name == "node-loss" and ctx.node_killed_at is not None:
        replaced = next((s.end for s in result.steps if s.title.startswith("ECS replaces")), None)
        events = [("node loss", ctx.node_killed_at, replaced)]
        if replaced:
            events.append(("replacement node joins", replaced, None))
        return events
    return [] if ctx.kill_at is None else [("loss of Tokyo", ctx.kill_at, None)]


def _checks(result: DrillResult, ctx: ops.Context) -> None:
    bad = [s for s in result.record if s.points_to is not None and s.writable.get(s.points_to) is False]
    result.check(
        "the record never pointed at a site whose database is read-only",
        not bad,
        f"{len(result.record)} samples"
        if not bad
        else f"{len(bad)} samples, first at {bad[0].t - result.started:.1f} s",
    )
    if not ctx.losses:
        return
    site, loss = list(ctx.losses.items())[-1]
    if ctx.kill_at is None:
        result.check(
            f"no committed account lost (at {site})",
            loss.none,
            f"{loss.acknowledged} acknowledged writes checked"
            if loss.none
            else ", ".join(loss.acknowledged_missing),
        )
    else:
        listed = " ".join(result.findings)
        result.check(
            f"every committed account is at {site} or listed as lost",
            all(m in listed for m in loss.acknowledged_missing),
            f"{loss.acknowledged} acknowledged before the kill, {loss.transactions} lost",
        )
