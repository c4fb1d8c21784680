"""The two-site topology on real PostgreSQL (primary + streaming standby), Keycloak nodes, OPA and HAProxy.

One topology (slot 1, its own ports and folders: never a developer's `bizid sites up` nor the single-site
platform) walks through the states the failover runbook goes through; the tests run in file order:
both Tokyo nodes serve one session, Osaka replicates what Tokyo committed, the record follows the writable
signal (never to a read-only site, never back to an old primary that was not rebuilt).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from realm import accounts, admin, site
from realm.accounts import AccountSpec, CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, Client, FlowError
from realm.platform import DB_NAME, REALM
from scripts import settings
from scripts.settings import Settings
from scripts.sites import lb, ops, pg
from scripts.sites.topology import SLOT_ENV, Topology
from tests.conftest import rp_client, run_cli

RP = "seminar"
"""A public RP that takes every tier with a password alone (rps/seminar.yaml)."""
ATTEMPTS = 240  # polls of 0.5 s while a replica, a check or a pool catches up: a bound, not a threshold


def poll(what: str, check: Any) -> Any:
    for _ in range(ATTEMPTS):
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what} never happened")


@pytest.fixture(scope="module")
def sites() -> Iterator[Settings]:
    """A fresh topology in slot 1, stopped and removed afterwards."""
    before = os.environ.get(SLOT_ENV)
    os.environ[SLOT_ENV] = "1"
    cfg = settings.load()
    try:
        ops.wipe(cfg)
        ops.up(cfg)
        yield cfg
    finally:
        ops.wipe(cfg)
        if before is None:
            os.environ.pop(SLOT_ENV, None)
        else:
            os.environ[SLOT_ENV] = before


@pytest.fixture(scope="module")
def topo(sites: Settings) -> Topology:
    return ops.topology(sites)


@pytest.fixture(scope="module")
def defs(sites: Settings) -> Definitions:
    return sites.definitions()


@pytest.fixture(scope="module")
def account(sites: Settings, topo: Topology, defs: Definitions) -> CreatedAccount:
    """An account committed in Tokyo through its LB (the Admin API, as an operator would)."""
    api = admin.admin_client(ops.site_target(sites, topo.site("tokyo")))
    name = f"site-{os.urandom(4).hex()}"
    spec = AccountSpec(
        tier=Tier.ENTRY, username=name, email=f"{name}@example.test", first_name="Site", last_name=name
    )
    return accounts.create(spec, defs, api)


def browser(sites: Settings, issuer: str) -> BrowserFlow:
    session = requests.Session()
    session.trust_env = False
    return BrowserFlow(session, issuer, verify=str(sites.paths.ca_cert))


def at_node(sites: Settings, topo: Topology, index: int) -> BrowserFlow:
    """Token requests straight to one Tokyo node (the issuer stays the record's name: KC_HOSTNAME)."""
    node = topo.site("tokyo").node(index)
    return browser(sites, f"{node.url}/realms/{REALM}")


def sign_in(sites: Settings, topo: Topology, defs: Definitions, account: CreatedAccount) -> dict[str, Any]:
    result = browser(sites, topo.issuer).login(client(sites, defs), account.username, account.password)
    assert result.tokens, f"sign-in through the record failed: {result}"
    return result.tokens


def client(sites: Settings, defs: Definitions) -> Client:
    return rp_client(sites, defs, RP)


def through_record(topo: Topology) -> requests.Response | None:
    """The writable signal asked through the record, as a client would; None when the record refuses."""
    try:
        return requests.get(topo.record_url + site.writable_path(REALM), verify=str(topo.ca_cert), timeout=10)
    except requests.RequestException:
        return None


# --- bad input: no topology needed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [["up", "--sites", "3"], ["up", "--sites", "1"], ["sites", "up", "--sites", "0"]]
)
def test_a_wrong_site_count_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert f"--sites {argv[-1]}" in err and "exactly 2 sites" in err


def test_a_site_count_that_is_no_number_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "up", "--sites", "two")
    assert code == 2
    assert "--sites" in err and "'two'" in err


def test_an_unknown_site_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "sites", "promote", "nagoya")
    assert code == 2
    assert "nagoya" in err


def test_failure_detection_ports_stay_out_of_the_ephemeral_range() -> None:
    """FD_SOCK2 listens at transport port + the fd offset; in Linux's ephemeral range (32768-60999) an
    outgoing connection can hold it first and the node then fails to start."""
    from scripts.sites.topology import FD_PORT_OFFSET

    topo = Topology.from_settings(settings.load())
    for node in (n for s in topo.sites for n in s.nodes):
        assert 60999 < node.jgroups_port + FD_PORT_OFFSET <= 65535


def test_an_offset_too_large_for_the_failure_detection_ports_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BIZID_PORT_OFFSET", "5000")
    with pytest.raises(ValueError, match="failure-detection"):
        Topology.from_settings(settings.load())


# --- the topology (marked `platform`: real servers, skipped by `make test-fast`) ---------------------


@pytest.mark.platform
def test_status_shows_both_sites_roles_lag_nodes_and_the_record(sites: Settings) -> None:
    state = ops.status(sites)
    tokyo, osaka = state.sites
    assert (tokyo.name, tokyo.role, osaka.name, osaka.role) == ("tokyo", "primary", "osaka", "standby")
    assert [n.ready for n in tokyo.nodes] == [True, True]
    assert [n.running for n in osaka.nodes] == [False, False]
    assert osaka.lag is not None and osaka.lag.bytes is not None and osaka.lag.seconds is not None
    assert (state.record_primary, state.record_points_to) == ("tokyo", "tokyo")
    lines = "\n".join(ops.describe(state))
    assert "tokyo  primary" in lines and "osaka  standby" in lines and "-> points to tokyo" in lines


@pytest.mark.platform
def test_both_tokyo_nodes_serve_one_session(
    sites: Settings, topo: Topology, defs: Definitions, account: CreatedAccount
) -> None:
    poll("both Tokyo nodes in the LB", lambda: lb.healthy_nodes(topo.site("tokyo")) == [1, 2])
    tokens = sign_in(sites, topo, defs, account)
    rp = client(sites, defs)
    # The session is one, whichever node is asked: each refreshes it...
    refreshed = at_node(sites, topo, 1).refresh(rp, tokens["refresh_token"])
    refreshed = at_node(sites, topo, 2).refresh(rp, refreshed["refresh_token"])
    assert at_node(sites, topo, 2).userinfo(refreshed["access_token"])["sub"] == account.user_id
    # ...and a logout at node 1 ends it at node 2, which had just used it (the cluster invalidates it there).
    at_node(sites, topo, 1).logout(rp, refreshed["refresh_token"])
    with pytest.raises(FlowError, match="refresh answered 400"):
        at_node(sites, topo, 2).refresh(rp, refreshed["refresh_token"])


@pytest.mark.platform
def test_the_standby_replicates_a_committed_account_and_takes_no_writes(
    topo: Topology, account: CreatedAccount
) -> None:
    tokyo, osaka = topo.site("tokyo"), topo.site("osaka")
    committed = pg.psql(tokyo, "SELECT pg_current_wal_lsn()")
    poll(
        "Osaka replaying up to Tokyo's LSN after the commit",
        lambda: pg.psql(osaka, f"SELECT pg_last_wal_replay_lsn() >= '{committed}'::pg_lsn") == "t",
    )
    query = f"SELECT count(*) FROM user_entity WHERE username = '{account.username}'"
    assert pg.psql(osaka, query, database=DB_NAME) == "1"
    with pytest.raises(Exception, match="read-only transaction"):
        pg.psql(osaka, "CREATE TABLE written_on_the_standby (x int)", database=DB_NAME)


@pytest.mark.platform
def test_osaka_runs_no_keycloak_until_promoted(sites: Settings) -> None:
    with pytest.raises(ValueError, match="read-only standby; promote it"):
        ops.start_keycloak(sites, "osaka", 1)
    assert ops.status(sites).sites[1].nodes[0].running is False


@pytest.mark.platform
def test_the_record_follows_the_writable_signal_and_never_flips_back_unfenced(
    sites: Settings, topo: Topology, defs: Definitions, account: CreatedAccount
) -> None:
    answer = through_record(topo)
    assert answer is not None and answer.headers.get("X-Bizid-Site") == "tokyo"
    assert site.WRITABLE_MARKER in answer.text

    # Tokyo's database is lost (SIGKILL; its nodes and LB stay): the record sends nowhere, since Osaka is
    # not promoted. (A read-only Tokyo via ALTER DATABASE would not do: the setting replicates to Osaka.)
    pg.kill(topo.site("tokyo"))
    poll("the record leaving Tokyo", lambda: ops.record_points_to(sites) is None)
    assert through_record(topo) is None
    assert ops.status(sites).sites[1].role == "standby"

    # Promote Osaka: the record prefers it, but sends nothing until its Keycloak is up and writable.
    ops.promote(sites, "osaka")
    assert lb.designation(topo) == lb.Designation(primary="osaka", secondary=None)
    assert ops.record_points_to(sites) is None
    ops.start_keycloak(sites, "osaka", 1)
    poll("the record pointing at Osaka", lambda: ops.record_points_to(sites) == "osaka")
    answer = through_record(topo)
    assert answer is not None and answer.headers.get("X-Bizid-Site") == "osaka"
    # The account committed in Tokyo signs in at Osaka through the same address.
    assert sign_in(sites, topo, defs, account)["access_token"]

    # The old Tokyo database comes back writable without fencing: its own signal says writable again...
    pg.start(topo.site("tokyo"))
    assert pg.in_recovery(topo.site("tokyo")) is False
    poll(
        "Tokyo's LB answering writable",
        lambda: (
            requests.get(topo.site("tokyo").writable_url, verify=str(topo.ca_cert), timeout=10).status_code
            == 200
        ),
    )
    # ...and the record still sends only to Osaka: Tokyo is no longer one of its sites.
    assert "tokyo" not in lb.server_states(topo.record_socket)
    assert ops.record_points_to(sites) == "osaka"
    answer = through_record(topo)
    assert answer is not None and answer.headers.get("X-Bizid-Site") == "osaka"

    # Even when Osaka then loses its Keycloak, the record does not fall back to the unfenced old primary.
    ops.kill_node(sites, "osaka", 1)
    poll("the record leaving Osaka", lambda: ops.record_points_to(sites) is None)
    assert through_record(topo) is None
