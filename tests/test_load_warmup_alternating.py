"""The baseline's warm-up (loadtests/warmup.py, `warm_up_alternating`): the realms warm one JVM in turn,
chunk by chunk, until every realm has settled or reached its cap. The scheduling is pure logic around
`run_chunk`, so `run_chunk` is replaced by a script of CPU figures here; the real sign-ins are covered by
tests/test_load_baseline_e2e.py."""

from __future__ import annotations

from typing import Any

import pytest

from loadtests import warmup


def _scripted(monkeypatch: pytest.MonkeyPatch, figures: dict[str, list[float]]) -> list[str]:
    """run_chunk returns the next figure of the realm whose target it gets; the order of calls is kept."""
    calls: list[str] = []
    remaining = {realm: list(values) for realm, values in figures.items()}

    def run_chunk(cfg: Any, picker: Any, visits: int, threads: int, cpu: Any, target: Any) -> warmup.Chunk:
        realm = "bizid" if target is None else str(target)
        calls.append(realm)
        return warmup.Chunk(visits, 0, 1.0, remaining[realm].pop(0))

    monkeypatch.setattr(warmup, "run_chunk", run_chunk)
    monkeypatch.setattr(warmup, "process_groups", lambda cfg: {})
    monkeypatch.setattr(warmup, "CpuSampler", lambda groups: None)
    return calls


def _warm(max_chunks: int) -> dict[str, list[warmup.Chunk]]:
    targets: Any = {"bizid": None, "stock": "stock"}  # the scripted run_chunk only tells them apart
    cfg: Any = None
    return warmup.warm_up_alternating(
        cfg, 0, 100, targets, max_chunks=max_chunks, chunk_visits=10, log=lambda realm, message: None
    )


def test_realms_alternate_until_both_have_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    # bizid settles with its 4th chunk (100 -> 95), stock only with its 5th (90 -> 88).
    calls = _scripted(monkeypatch, {"bizid": [200, 130, 100, 95, 94], "stock": [150, 120, 100, 90, 88]})
    chunks = _warm(max_chunks=8)
    # In turn, and the settled realm keeps warming while the other has not settled.
    assert calls == ["bizid", "stock"] * 5
    assert [c.keycloak_ms for c in chunks["stock"]] == [150, 120, 100, 90, 88]
    assert warmup.settled(chunks["bizid"]) and warmup.settled(chunks["stock"])


def test_each_realm_stops_at_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch, {"bizid": [200, 100, 200, 100], "stock": [100, 99, 98, 97]})
    chunks = _warm(max_chunks=3)
    assert calls == ["bizid", "stock"] * 3
    assert len(chunks["bizid"]) == 3 and not warmup.settled(chunks["bizid"])


def test_no_chunks_when_the_cap_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch, {"bizid": [], "stock": []})
    chunks = _warm(max_chunks=0)
    assert calls == [] and chunks == {"bizid": [], "stock": []}


def test_not_settled_while_the_jit_compilers_take_a_tenth_or_more() -> None:
    # Two chunks within 4 % of each other, but C2 still took 25 % of Keycloak's CPU in the last one: the
    # young JVM of the 2026-12-01 baseline. Settled only once the compilers' share is below 10 %.
    young = [warmup.Chunk(300, 0, 25.0, 144.0, jit_ms=40.0), warmup.Chunk(300, 0, 25.0, 138.0, jit_ms=35.0)]
    warm = [warmup.Chunk(300, 0, 25.0, 60.0, jit_ms=7.0), warmup.Chunk(300, 0, 25.0, 58.0, jit_ms=5.0)]
    unmeasured = [warmup.Chunk(300, 0, 25.0, 144.0), warmup.Chunk(300, 0, 25.0, 138.0)]
    assert not warmup.settled(young)
    assert warmup.settled(warm)
    assert warmup.settled(unmeasured)  # without a thread split only the change between chunks counts
