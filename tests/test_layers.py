"""The layout's rules: dependencies flow one way, and facts kept in more than one file agree.

The libraries (`realm/`, `policies/`, `infra/`) never import the CLI and local platform (`scripts/`)
or the load tests (`loadtests/`); `loadtests/` is a client of the libraries and may use `scripts/`
only for the local platform's settings. Imports are read with `ast`, including those inside functions.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from loadtests import journey, population
from realm import admin_paths, build, loader, opa_data
from realm.models import Tier
from realm.platform import EXTENSION_DIR, KEYCLOAK_VERSION, LOOPBACK, POLICY_DIR, REALM, REPO_ROOT
from scripts import settings
from scripts.settings import Ports

LIBRARIES = ("realm", "policies", "infra")
FORBIDDEN = {
    "realm": ("scripts", "loadtests", "tests", "policies", "infra"),
    "policies": ("scripts", "loadtests", "tests", "infra"),
    "infra": ("scripts", "loadtests", "tests"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an `import` or `from … import` in the file names (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "extensions" not in p.parts)


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_do_not_import_upward(library: str) -> None:
    offending = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in python_files(library)
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[library]
    ]
    assert offending == [], "\n".join(offending)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from scripts.settings import load\n    import loadtests.cli\n")
    assert imported_modules(source) == [(2, "scripts.settings"), (3, "loadtests.cli")]


def test_the_tree_has_libraries_to_check() -> None:
    for library in LIBRARIES:
        assert python_files(library), library


# --- facts with more than one copy: the copies agree ---------------------------------------------------


def test_keycloak_version_is_one_pin() -> None:
    pom = (EXTENSION_DIR / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<keycloak\.version>([^<]+)</keycloak\.version>", pom)
    assert match is not None, "realm/extensions/pom.xml has no <keycloak.version>"
    dockerfile = (REPO_ROOT / "infra" / "images" / "keycloak" / "Dockerfile").read_text(encoding="utf-8")
    arg = re.search(r"^ARG KEYCLOAK_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert arg is not None, "infra/images/keycloak/Dockerfile has no ARG KEYCLOAK_VERSION"
    assert {"pom.xml": match.group(1), "Dockerfile": arg.group(1)} == {
        "pom.xml": KEYCLOAK_VERSION,
        "Dockerfile": KEYCLOAK_VERSION,
    }


def test_realm_name_is_one_fact() -> None:
    assert loader.load().realm.name == REALM
    for stack in sorted((REPO_ROOT / "infra").glob("Pulumi.*.yaml")):
        document = yaml.safe_load(stack.read_text(encoding="utf-8"))
        config = document["config"]
        assert config["bizid:keycloak"]["realm"] == REALM, stack.name
        assert f"/realms/{REALM}/" in config["bizid:dns"]["healthCheckPath"], stack.name


def test_java_opa_default_is_the_local_platform_opa() -> None:
    """The extension's fallback OPA URL is the local platform's (unshifted) OPA port."""
    source = (
        EXTENSION_DIR / "src" / "main" / "java" / "org" / "bizid" / "keycloak" / "opa" / "OpaClient.java"
    ).read_text(encoding="utf-8")
    match = re.search(r'DEFAULT_URL = "([^"]+)"', source)
    assert match is not None
    assert match.group(1) == f"http://{LOOPBACK}:{Ports().opa}"


def test_load_scenario_rps_accept_their_tiers() -> None:
    """The load journey's RPs per tier are registered for that tier, and its expected acr comes from
    the definitions (tier and RP minimum)."""
    defs = loader.load()
    for tier, first in journey.FIRST_RP.items():
        assert journey.expected_acr(tier, first, defs) == defs.tier(tier).min_acr
        second = journey.SECOND_RP[tier]
        if second is not None:
            journey.expected_acr(tier, second, defs)
    with pytest.raises(ValueError, match="not registered for tier entry"):
        journey.expected_acr(Tier.ENTRY, "jgrants", defs)


def test_totp_parameters_come_from_the_realm_otp_policy() -> None:
    otp = loader.load().realm.otp
    assert (
        otp.digits,
        otp.period_seconds,
        otp.algorithm,
    ) == (population.TOTP_DIGITS, population.TOTP_PERIOD, population.TOTP_ALGORITHM)


def test_derived_claims_are_one_list() -> None:
    """The claim sources build.py accepts as computed are the ones release.rego computes."""
    opa = str(settings.load().paths.opa)
    command = [opa, "eval", "--format", "json", "--ignore", "*_test.rego", "-d", str(POLICY_DIR)]
    result = subprocess.run(
        [*command, "data.bizid.release._derived_attributes"], capture_output=True, text=True, check=True
    )
    value = json.loads(result.stdout)["result"][0]["expressions"][0]["value"]
    assert set(value) == set(build.DERIVED_CLAIM_ATTRIBUTES)


def test_admin_paths_table_fills_every_pattern() -> None:
    """Every Admin API path comes from realm.admin_paths; its placeholders are all ones `path` fills
    (a python-keycloak upgrade that renames one fails here, not at a live apply)."""
    patterns = {
        name: value for name, value in vars(admin_paths).items() if name.isupper() and isinstance(value, str)
    }
    assert len(patterns) > 20
    known = set(admin_paths._PLACEHOLDERS.values())
    for name, pattern in patterns.items():
        assert set(re.findall(r"{([^}]+)}", pattern)) <= known, name
    filled = admin_paths.path(admin_paths.FLOW_EXECUTIONS, realm="bizid", flow_alias="bizid browser")
    assert filled == "/admin/realms/bizid/authentication/flows/bizid%20browser/executions"
    with pytest.raises(KeyError):
        admin_paths.path(admin_paths.CLIENT, realm="bizid")


def test_libraries_build_admin_paths_from_the_table() -> None:
    inline = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in python_files("realm") + python_files("loadtests")
        if path.name != "admin_paths.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""["']/?admin/(realms|serverinfo)""", line)
    ]
    assert inline == [], inline


def test_scope_classes_are_published_from_the_definitions() -> None:
    """release.rego's corporate and verified scopes come from scopes.yaml through the OPA data."""
    defs, profile = build.load()
    scopes = opa_data.document(defs, profile)["scopes"]
    assert (
        {n for n, s in scopes.items() if s["describes_company"]}
        == {s.name for s in defs.scopes if s.describes_company}
        == {"corporate"}
    )
    assert {n for n, s in scopes.items() if s["verified"]} == {s.name for s in defs.scopes if s.verified}
