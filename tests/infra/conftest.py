"""Fixtures: each stack's resource graph (built once per session under mocks) and the OPA binary."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from infra.config import STACKS
from infra.graph import Graph, Resource, stack_graph

TOKYO, OSAKA = "ap-northeast-1", "ap-northeast-3"

_graphs: dict[str, Graph] = {}


def graph_of(stack: str) -> Graph:
    """Building a stack takes seconds; the unmutated graphs are shared by every test that only reads them."""
    if stack not in _graphs:
        # The committed stacks build their images at deploy time, through the docker-build provider's SDK.
        if importlib.util.find_spec("pulumi_docker_build") is None:
            pytest.fail("pulumi-docker-build is not installed: it is a project dependency (pyproject.toml)")
        _graphs[stack] = stack_graph(stack)
    return _graphs[stack]


@pytest.fixture(params=STACKS)
def graph(request: pytest.FixtureRequest) -> Graph:
    return graph_of(str(request.param))


@pytest.fixture(scope="session")
def opa() -> Path:
    """The OPA the platform uses (installed by `make`), else one on PATH."""
    from scripts import settings

    pinned = settings.load().paths.opa
    if pinned.is_file():
        return pinned
    found = shutil.which("opa")
    if found is None:
        pytest.fail(f"OPA not found at {pinned} nor on PATH; run `make` to install it")
    return Path(found)


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_aws defines its deprecated S3 *V2 classes at import time; that noise is not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")


def keycloak_tasks(graph: Graph) -> list[Resource]:
    """The Keycloak task definitions (family bizid-<env>-keycloak: Keycloak and its OPA sidecar); the stack's
    other tasks (the reminders job) have their own tests."""
    return [
        t
        for t in graph.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if str(t.inputs.get("family", "")).endswith("-keycloak")
    ]
