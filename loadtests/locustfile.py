"""Locust scenario: accounts drawn at random from the seeded population sign in through the real browser
flow and use their session (loadtests/journey.py). Run it with one of the shapes in loadtests/shapes/
(which import this module), or plainly with -u/-t for a quick look; docs/load.md has the commands.

Each step is a named request in Locust's statistics (`authorize`, `login`, `otp`, `token`, `userinfo`,
`refresh`, `sso:authorize`, `sso:token`, `logout`); the whole sign-in (authorize to tokens) is one more
entry, `FLOW sign-in`. With --samples-dir every request and sign-in is also written, one line each, to a
CSV per process, which the benchmark (loadtests/bench.py) analyses second by second.

Safety: the target must be a loopback address, users and duration are bounded (MAX_USERS, MAX_SECONDS).
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TextIO, cast

import gevent.ssl
from locust import User, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests.bare_http import BareSession
from loadtests.journey import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    AccountPicker,
    Journey,
    NotLoopback,
    assert_loopback,
    rp_clients,
)
from loadtests.lean_http import LeanSession
from loadtests.pacing import PoissonPacing
from loadtests.phases import MAX_SECONDS, MAX_USERS, PER_USER_RATE
from realm import loader
from scripts import settings

CFG = settings.load()


def _options(parser: Any) -> None:
    group = parser.add_argument_group("bizid")
    group.add_argument("--population", type=int, default=10_000, help="accounts to draw from (seeded)")
    group.add_argument("--population-start", type=int, default=0, help="first account index")
    group.add_argument(
        "--bizid-workers",
        type=int,
        default=1,
        help="distributed mode: number of workers (partitions accounts)",
    )
    group.add_argument("--per-user-rate", type=float, default=PER_USER_RATE, help="visits/s per user")
    group.add_argument("--hold-fraction", type=float, default=0.0, help="visits that keep their session open")
    group.add_argument("--signin-only", action="store_true", help="stop each visit after the sign-in")
    group.add_argument("--samples-dir", default="", help="write every request and sign-in to CSV files here")
    group.add_argument("--base-rate", type=float, default=2.0, help="shapes: baseline visits/s")
    group.add_argument("--step-rate", type=float, default=2.0, help="step shape: visits/s added per step")
    group.add_argument("--step-seconds", type=float, default=60.0, help="shapes: seconds per step")
    group.add_argument("--steps", type=int, default=10, help="step shape: number of steps")
    group.add_argument("--shape-seconds", type=float, default=600.0, help="steady/soak shape: duration")


class SampleLog:
    """Per-process CSV of every request: unix time (end), name, type, ms, outcome, detail."""

    def __init__(self, directory: str) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = Path(directory) / f"samples-{os.getpid()}.csv"
        self.file: TextIO = self.path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(["t", "name", "type", "ms", "outcome", "detail"])
        self.held_path = Path(directory) / f"held-{os.getpid()}.jsonl"
        self.held: TextIO = self.held_path.open("w")

    def request(
        self, request_type: str, name: str, response_time: float, exception: BaseException | None, status: int
    ) -> None:
        outcome = "ok"
        detail = ""
        if exception is not None:
            kind = type(exception).__name__
            outcome = {"Shed": "shed", "TimedOut": "timeout"}.get(kind, "error")
            if status == 503:
                outcome = "shed"
            elif status == 0 and outcome == "error":
                outcome = "timeout" if "timed out" in str(exception).lower() else "error"
            detail = f"{kind}: {str(exception)[:200]}"
        self.writer.writerow(
            [f"{time.time():.3f}", name, request_type, f"{response_time:.1f}", outcome, detail]
        )

    def hold(self, index: int, client_id: str, refresh_token: str) -> None:
        self.held.write(
            json.dumps({"index": index, "client_id": client_id, "refresh_token": refresh_token}) + "\n"
        )

    def started(self, t: float) -> None:
        (self.path.parent / "started").write_text(f"{t:.3f}\n")

    def close(self) -> None:
        self.file.close()
        self.held.close()


LOG: SampleLog | None = None


def _init(environment: Environment, **_: Any) -> None:
    global LOG
    options = environment.parsed_options
    host = environment.host or CFG.keycloak_url
    try:
        assert_loopback(host)
    except NotLoopback as exc:
        raise SystemExit(f"bizid: {exc}") from None
    if options is not None:
        if getattr(options, "num_users", None) and options.num_users > MAX_USERS:
            raise SystemExit(f"bizid: at most {MAX_USERS} users (asked {options.num_users})")
        run_time = getattr(options, "run_time", None)
        if (
            environment.shape_class is None
            and not run_time
            and not isinstance(
                environment.runner, MasterRunner | WorkerRunner
            )  # a worker: its master bounds it
        ):
            raise SystemExit("bizid: give --run-time (or use a shape): load tests must stop by themselves")
        if run_time and run_time > MAX_SECONDS:
            raise SystemExit(f"bizid: --run-time at most {MAX_SECONDS} s")
        if not options.per_user_rate > 0:
            raise SystemExit(f"bizid: --per-user-rate must be positive (got {options.per_user_rate})")
        if options.samples_dir and not isinstance(environment.runner, MasterRunner):
            LOG = SampleLog(options.samples_dir)


def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None = None,
    response: Any = None,
    **_: Any,
) -> None:
    if LOG is not None:
        status = int(getattr(response, "status_code", 0) or 0) if response is not None else 0
        LOG.request(request_type, name, response_time, exception, status)


def _test_start(environment: Environment, **_: Any) -> None:
    """Record when the shape's clock starts, so the benchmark cuts phases at the right seconds."""
    if LOG is not None:
        LOG.started(time.time())


def _quit(environment: Environment, **_: Any) -> None:
    if LOG is not None:
        LOG.close()


def _listen(hook: Any, listener: Callable[..., None]) -> None:
    hook.add_listener(listener)  # Locust's EventHook is untyped


_listen(events.init_command_line_parser, _options)
_listen(events.init, _init)
_listen(events.request, _on_request)
_listen(events.test_start, _test_start)
_listen(events.quitting, _quit)


def platform_tls_context(**_: Any) -> gevent.ssl.SSLContext:
    """TLS as a browser checks it: the local platform's CA only (not the public roots), hostname checked."""
    return gevent.ssl.create_default_context(cafile=str(CFG.paths.ca_cert))


def platform_session(request_event: Any) -> BareSession:
    """One simulated browser's HTTP client: keep-alive TLS to the platform (its CA, hostname checked), the
    journey's timeouts, a browser's cookie jar, a Locust request event per request, a strict HTTP/1.1
    reader (bare_http.py, http11.py)."""
    return BareSession(
        CFG.keycloak_url,
        request_event,
        ssl_context_factory=platform_tls_context,
        connection_timeout=CONNECT_TIMEOUT,
        network_timeout=READ_TIMEOUT,
    )


def lean_session(request_event: Any) -> LeanSession:
    """The client before BareSession (geventhttpclient's HTTPClient, lean_http.py), with the same TLS,
    timeouts and jar: kept for the paired cost comparison (loadtests/generator_cost.py --paired)."""
    return LeanSession(
        CFG.keycloak_url,
        request_event,
        ssl_context_factory=platform_tls_context,
        connection_timeout=CONNECT_TIMEOUT,
        network_timeout=READ_TIMEOUT,
    )


class SignInUser(User):
    """A person at a deadline: opens an RP, signs in (TOTP if the tier needs it), uses the session.

    Its HTTP client is `BareSession` (a keep-alive TLS socket and a strict HTTP/1.1 reader of its own):
    the same requests, pages, cookies, TLS checks and token checks (loadtests/journey.py) at a fraction of
    the generator's CPU per sign-in (docs/load.md "Generator cost"), so Locust on the platform's own cores
    takes less from Keycloak. It was a LeanSession (geventhttpclient), a FastHttpUser, and before that an
    HttpUser (requests)."""

    host = CFG.keycloak_url
    _clients: ClassVar[dict[str, Any]] = {}
    _pairwise: ClassVar[set[str]] = set()
    _picker: ClassVar[AccountPicker | None] = None

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.client = platform_session(environment.events.request)

    def on_stop(self) -> None:
        client = getattr(self, "client", None)
        if isinstance(client, BareSession | LeanSession):
            client.close()

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert_loopback(self.host or CFG.keycloak_url)
        if not SignInUser._clients:
            defs = loader.load()
            SignInUser._clients = rp_clients(CFG, defs)
            SignInUser._pairwise = {rp.client_id for rp in defs.rps if rp.pairwise_sub}
        runner = self.environment.runner
        worker = max(0, int(getattr(runner, "worker_index", 0) or 0))
        stride = max(1, options.bizid_workers if options else 1)
        if SignInUser._picker is None:  # one per process: a TOTP code must not repeat across its users
            SignInUser._picker = AccountPicker(
                size=options.population if options else 10_000,
                start=options.population_start if options else 0,
                stride=stride,
                offset=worker % stride,
            )
        self.picker = SignInUser._picker
        self.hold_fraction = options.hold_fraction if options else 0.0
        self.full = not (options.signin_only if options else False)
        rate = options.per_user_rate if options else PER_USER_RATE
        self._pacing = PoissonPacing(rate)
        # Locust runs a new user's first task at once; a shape that adds 40 users in one tick would send 40
        # sign-ins in the same instant. The first visit waits one gap too, like every later one.
        time.sleep(self._pacing())
        self.journey = Journey(
            cast(Any, self.client), CFG, SignInUser._clients, SignInUser._pairwise, report=self._report
        )

    def wait_time(self) -> float:
        """Poisson arrivals at the per-user rate (loadtests/pacing.py says why not constant throughput)."""
        return self._pacing()

    def _report(self, name: str, ms: float, exc: BaseException | None) -> None:
        self.environment.events.request.fire(
            request_type="FLOW",
            name=name,
            response_time=ms,
            response_length=0,
            exception=exc,
            context={},
        )

    @task
    def visit(self) -> None:
        index = self.picker.draw()
        hold = self.hold_fraction > 0 and random.random() < self.hold_fraction
        try:
            visit = self.journey.visit(index, hold=hold, full=self.full)
        except Exception:
            return  # already reported: the failing step by Locust's session, the sign-in by `journey`
        if visit.held and LOG is not None:
            LOG.hold(index, *visit.held)
