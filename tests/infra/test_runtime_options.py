"""Issue 11 §2: one artefact per runtime part, the same locally and on AWS.

The ECS task definition is built under Pulumi mocks (the committed stacks) and compared with what the local
platform runs: Keycloak's options (tuning and 503 shedding, database pool, cache stack, logging) come from
realm/keycloak_options.py on both sides, the OPA sidecar runs the local platform's `opa run` command on the
image's signed bundle, and the versions pinned in realm/platform.py are the images' and the stacks'.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.components import keycloak_service
from policies import bundle as opa_bundle
from policies import opa_server
from realm import keycloak_options
from realm.platform import OPA_VERSION, POSTGRES_MAJOR, REPO_ROOT
from scripts import install, services
from scripts.settings import Paths, Ports, Settings
from tests.infra.conftest import graph_of, keycloak_tasks

STACKS = ("dev", "staging", "prod")
IMAGES = REPO_ROOT / "infra" / "images"

LOCAL_ONLY = {
    "KC_HTTP_HOST",  # binds loopback; the task listens on its ENI, reached only from the ALB's security group
    "KC_HTTPS_CERTIFICATE_FILE",  # local CA's certificate; the image carries its own keystore
    "KC_HTTPS_CERTIFICATE_KEY_FILE",
}
AWS_ONLY = {"BIZID_REALM", "BIZID_REGION", "BIZID_REGION_ROLE"}
"""Options one side sets and the other has no use for; anything else must be set on both sides."""
SITE_DEPENDENT = {
    "KC_HTTP_POOL_MAX_THREADS",
    "KC_HTTP_MAX_QUEUED_REQUESTS",
    "JAVA_OPTS_KC_HEAP",
    "KC_CACHE",
    "KC_CACHE_STACK",
    "KC_PROXY_HEADERS",
    "KC_LOG_CONSOLE_OUTPUT",
    *keycloak_options.AUDIT_EVENT_LEVELS,
}
"""Values `keycloak_options.Site` decides (each with its reason there)."""


def _local_settings(tmp_path: Path) -> Settings:
    cfg = Settings(ports=Ports(), paths=Paths(state=tmp_path / "state", cache=tmp_path / "cache"))
    cfg.paths.secrets.mkdir(parents=True)
    for name in (
        "db-password",
        "admin-password",
        opa_server.DECIDE_TOKEN_SECRET,
        opa_server.READ_TOKEN_SECRET,
    ):
        (cfg.paths.secrets / name).write_text(f"{name}-0123456789abcdef\n")
    return cfg


def _tasks(stack: str) -> list[tuple[Any, dict[str, Any], dict[str, Any]]]:
    found = []
    for task in keycloak_tasks(graph_of(stack)):
        keycloak, sidecar = json.loads(task.inputs["containerDefinitions"])
        found.append((task, keycloak, sidecar))
    assert found, f"{stack}: no task definition"
    return found


def _names(container: dict[str, Any]) -> dict[str, str]:
    env = {e["name"]: e["value"] for e in container["environment"]}
    env.update({s["name"]: "<secret>" for s in container.get("secrets", [])})
    return env


# --- Keycloak ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_task_and_the_local_keycloak_set_the_same_options(stack: str, tmp_path: Path) -> None:
    local = _local_keycloak_env(tmp_path)
    for task, keycloak, _ in _tasks(stack):
        aws = _names(keycloak)
        site = keycloak_options.ecs(int(task.inputs["cpu"]))
        # addresses, ports and secrets: the same options on both sides, each with its own value
        local_addresses = set(local) - LOCAL_ONLY - set(keycloak_options.server_env(keycloak_options.LOCAL))
        assert local_addresses == set(aws) - AWS_ONLY - set(keycloak_options.server_env(site)), task.name
        # every other option has one source
        assert {k: aws[k] for k in keycloak_options.server_env(site)} == keycloak_options.server_env(site)
        shared = set(keycloak_options.server_env(keycloak_options.LOCAL)) - SITE_DEPENDENT
        assert {k: aws[k] for k in shared} == {k: local[k] for k in shared}, task.name


def _local_keycloak_env(tmp_path: Path) -> dict[str, str]:
    """What the local platform starts Keycloak with, without the caller's environment it passes through."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", {})
        return services.keycloak_env(_local_settings(tmp_path))


@pytest.mark.parametrize("stack", STACKS)
def test_the_task_sheds_load_like_the_local_keycloak(stack: str, tmp_path: Path) -> None:
    """The tuned worker threads and 503 queue, per core, and the database pool reach the ECS task."""
    local = _local_keycloak_env(tmp_path)
    for task, keycloak, _ in _tasks(stack):
        aws = _names(keycloak)
        cores = int(task.inputs["cpu"]) // 1024
        for option in ("KC_HTTP_POOL_MAX_THREADS", "KC_HTTP_MAX_QUEUED_REQUESTS"):
            assert int(aws[option]) * keycloak_options.LOCAL.cores == int(local[option]) * cores, option
        assert int(aws["KC_HTTP_MAX_QUEUED_REQUESTS"]) == 2 * int(aws["KC_HTTP_POOL_MAX_THREADS"])
        for option in keycloak_options.DB_POOL:
            assert aws[option] == local[option]
    assert local["KC_HTTP_POOL_MAX_THREADS"] == "8" and local["KC_HTTP_MAX_QUEUED_REQUESTS"] == "16"


def test_the_cache_stack_is_the_sites_own() -> None:
    assert keycloak_options.server_env(keycloak_options.LOCAL)["KC_CACHE"] == "local"
    for stack in STACKS:
        for _, keycloak, _ in _tasks(stack):
            env = _names(keycloak)
            assert (env["KC_CACHE"], env["KC_CACHE_STACK"]) == ("ispn", "jdbc-ping")


def test_build_options_are_the_images(tmp_path: Path) -> None:
    """`kc.sh build` locally and the image's builder stage use the same build-time options."""
    dockerfile = (IMAGES / "keycloak" / "Dockerfile").read_text(encoding="utf-8")
    builder = dockerfile.split("FROM ", 2)[1]
    env_block = re.search(r"^ENV ((?:.*\\\n)*.*)$", builder, re.MULTILINE)
    assert env_block is not None, "the builder stage has no ENV"
    image_env = dict(re.findall(r"(KC_[A-Z_]+)=(\S+)", env_block.group(1)))
    assert image_env == keycloak_options.BUILD_OPTIONS
    assert list(services.KEYCLOAK_BUILD_OPTIONS) == [
        "--db=postgres",
        "--health-enabled=true",
        "--metrics-enabled=true",
    ]
    local = _local_keycloak_env(tmp_path)
    assert {k: local[k] for k in keycloak_options.BUILD_OPTIONS} == keycloak_options.BUILD_OPTIONS


# --- OPA -----------------------------------------------------------------------------------------------


def test_the_sidecar_runs_the_local_command_on_the_images_bundle(tmp_path: Path) -> None:
    cfg = _local_settings(tmp_path)
    local, _ = services._opa_command(cfg, cfg.paths.opa)
    expected = keycloak_service.sidecar_command()
    placeholders = {
        f"--addr=127.0.0.1:{cfg.ports.opa}": "ADDRESS",
        "--addr=127.0.0.1:8181": "ADDRESS",
        str(cfg.paths.opa_bundle): "BUNDLE",
        str(keycloak_service.OPA_IMAGE_BUNDLE): "BUNDLE",
        f"--verification-key={cfg.paths.opa_verification_key}": "KEY",
        f"--verification-key={keycloak_service.OPA_IMAGE_VERIFICATION_KEY}": "KEY",
    }
    assert [placeholders.get(a, a) for a in local[1:]] == [placeholders.get(a, a) for a in expected]
    for stack in STACKS:
        for task, _, sidecar in _tasks(stack):
            assert sidecar["command"] == expected, task.name
    assert {"--authentication=token", "--authorization=basic", "--signing-alg=ES256"} <= set(expected)


def test_the_sidecar_runs_with_the_go_runtime_settings_of_every_bizid_opa() -> None:
    """GOGC/GOMEMLIMIT cut the collections behind the decision p99 (docs/tuning.md); the sidecar on AWS must
    run with what the local platform's OPA runs with."""
    assert opa_server.RUNTIME_ENV
    for stack in STACKS:
        for task, _, sidecar in _tasks(stack):
            env = {e["name"]: e["value"] for e in sidecar.get("environment", [])}
            assert env == opa_server.RUNTIME_ENV, task.name


def test_the_opa_image_serves_what_bundle_build_writes() -> None:
    dockerfile = (IMAGES / "opa" / "Dockerfile").read_text(encoding="utf-8")
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == keycloak_service.sidecar_command()
    copies = re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE)
    assert len(copies) == 1
    *sources, destination = copies[0].split()
    built = opa_bundle.IMAGE_BUILD_DIR.relative_to(REPO_ROOT)
    assert sources == [str(built / opa_bundle.BUNDLE_FILE), str(built / opa_bundle.VERIFICATION_KEY_FILE)]
    assert destination == f"{keycloak_service.OPA_IMAGE_BUNDLE.parent}/"
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert not [line for line in instructions if ".bizid" in line]  # never a developer's local state
    ignore = (IMAGES / "opa" / "Dockerfile.dockerignore").read_text(encoding="utf-8").split("\n")
    admitted = [line[1:] for line in ignore if line.startswith("!")]
    assert admitted == sources


# --- versions --------------------------------------------------------------------------------------------


def test_the_opa_image_is_the_pinned_opa() -> None:
    dockerfile = (IMAGES / "opa" / "Dockerfile").read_text(encoding="utf-8")
    arg = re.search(r"^ARG OPA_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert arg is not None
    assert f"v{arg.group(1)}" == OPA_VERSION


@pytest.mark.parametrize("stack", STACKS)
def test_aurora_runs_the_postgresql_major_tested_locally(stack: str) -> None:
    document = yaml.safe_load((REPO_ROOT / "infra" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    assert str(document["config"]["bizid:database"]["engineVersion"]).split(".")[0] == POSTGRES_MAJOR
    families = {
        str(g.inputs.get("family"))
        for g in graph_of(stack).resources
        if g.type.startswith("aws:rds/") and "ParameterGroup" in g.type
    }
    assert families == {f"aurora-postgresql{POSTGRES_MAJOR}"}, families


def test_the_local_cluster_is_the_pinned_postgresql_major() -> None:
    pg_bin = install.postgres_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL is not installed here yet (`make install`)")
    assert pg_bin.parent.name == POSTGRES_MAJOR
