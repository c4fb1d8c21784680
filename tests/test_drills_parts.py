"""The drill's parts against the real single-site platform (Keycloak, OPA, PostgreSQL): the recorder's
sign-ins through the browser flow, the RPO inventory of Keycloak's tables, and the account writer.
The drills themselves (two sites) are in tests/test_drills.py."""

from __future__ import annotations

import time

from realm.models import Definitions, Tier
from realm.oidc.browser_flow import Client
from realm.platform import DB_NAME, DB_USER
from scripts.drills import engine, inventory
from scripts.drills.inventory import Database, Writer
from scripts.drills.recorder import LoadSpec, Recorder
from scripts.settings import LOOPBACK, Settings
from tests.conftest import MakeAccount


def _db(cfg: Settings) -> Database:
    return Database(LOOPBACK, cfg.ports.postgres, DB_NAME, DB_USER, cfg.secret("db-password"))


def _client(definitions: Definitions) -> Client:
    return Client(engine.LOAD_RP, str(definitions.rp(engine.LOAD_RP).redirect_uris[0]))


def test_the_recorder_records_good_and_failed_sign_ins_with_reasons(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    good = make_account(Tier.ENTRY)
    spec = LoadSpec(
        issuer=platform.issuer,
        client=_client(definitions),
        accounts=[(good.username, good.password), (good.username, "not-the-password-1A!")],
        ca_cert=str(platform.paths.ca_cert),
        workers=1,
        pause=0,
        max_signins=4,
        max_seconds=60,
    )
    recorder = Recorder(spec).start()
    deadline = time.monotonic() + 60
    while recorder.running and time.monotonic() < deadline:
        time.sleep(0.2)
    signins = recorder.stop()
    assert len(signins) == 4
    assert [s.ok for s in signins] == [True, False, True, False]
    assert all(s.start <= s.end for s in signins)
    assert all(s.error for s in signins if not s.ok), "a failed sign-in must say why"


def test_the_inventory_lists_exactly_the_accounts_and_credentials_a_site_lacks(
    platform: Settings, make_account: MakeAccount
) -> None:
    before = inventory.snapshot("tokyo", _db(platform))
    made = make_account(Tier.ENTRY)
    after = inventory.snapshot("tokyo", _db(platform))
    assert not before.in_recovery and before.lsn != after.lsn
    loss = inventory.compare(after, before)
    assert loss.missing["accounts"] == [made.username]
    assert [k.split()[:2] for k in loss.missing["credentials"]] == [[made.username, "password"]]
    assert inventory.compare(before, after).none


def test_every_write_the_writer_saw_acknowledged_is_committed(platform: Settings) -> None:
    create = engine._make_creator(platform, platform.keycloak_url)
    prefix = f"drill-t{int(time.time())}"
    writer = Writer(create, prefix=prefix, pause=0, max_writes=3, max_seconds=60).start()
    deadline = time.monotonic() + 60
    while len(writer.writes) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    writes = writer.stop()
    acked = writer.acknowledged()
    assert len(writes) == 3 and len(acked) == 3, writes
    snap = inventory.snapshot("tokyo", _db(platform))
    assert inventory.compare(snap, snap, acked).none
    assert acked <= snap.keys["accounts"]
