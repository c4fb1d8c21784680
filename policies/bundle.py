"""The one OPA bundle: every bizid OPA server (the local platform, the private ones of the tests and the
policy matrix, the ECS sidecar's image) serves this artefact and nothing else.

`build` stages the bundle's inputs and runs `opa build` on them:

- `policies/bizid` and `policies/system` (without `_test.rego` and test fixtures), under the roots
  `bizid`, `system/authz` and `system/log`;
- `data.bizid.registry`, generated from the realm definitions (`realm.opa_data`), so the registry the
  policies decide with is the one the Keycloak clients are built from;
- `--optimize` (`OPTIMIZE`; measured in docs/bench/policy.md, decisions unchanged: the policy tests run
  against the optimized bundle through `private_opa`);
- `--revision`: the git commit and a digest of the inputs (`Bundle.revision`), which the running OPA
  reports (`GET /v1/data/system/bundles`, `bizid status`);
- `--signing-key` (ES256): OPA is started with `--verification-key` and refuses an unsigned or tampered
  bundle. The signing key is generated under `.bizid` locally (never in git); on AWS it is the release
  key held in Secrets Manager (docs/infra.md).

Roots and data written at run time: nothing is written into OPA while it runs. Delegations and licences
are Keycloak user attributes that reach OPA inside each request's `input` (realm/delegation_store.py,
the extension's DelegationInput), and `system.authz` refuses every write. So the bundle owns all of
`bizid` and the two system packages; only OPA's own `data.system.bundles` (the manifests, where the
revision is read) stays outside the roots.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from policies.opa_client import OpaError
from realm import build as realm_build
from realm import opa_data
from realm.platform import DEFINITIONS_DIR, POLICY_DIR, REPO_ROOT, SYSTEM_POLICY_DIR

ROOTS = ("bizid", "system/authz", "system/log")
"""The bundle's manifest roots: every document it owns. `data.system.bundles` (OPA's own) is outside."""
SIGNING_ALG = "ES256"
OPTIMIZE = 0
"""`opa build -O=1`: partial evaluation of the annotated entrypoints (access, release, delegation,
system.authz, system.log) against the registry baked into the same bundle."""
BUNDLE_FILE = "bizid-opa-bundle.tar.gz"
VERIFICATION_KEY_FILE = "bizid-opa-bundle.pub.pem"
"""File names of the bundle and its public key wherever they are written (.bizid/opa, build/opa)."""
IMAGE_BUILD_DIR = REPO_ROOT / "build" / "opa"
"""Where `bizid bundle build` leaves the bundle and its public key for the OPA image (ignored by git)."""


class BundleError(OpaError):
    """The bundle cannot be built, or a file given as its key or bundle is not one."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    revision: str
    """`<commit>-<inputs digest>`: the commit of the checkout (12 hex, `+dirty` when policies/ or the
    definitions have uncommitted changes) and 16 hex of the digest of everything in the bundle."""


# --- keys --------------------------------------------------------------------------------------------


def generate_signing_key(path: Path) -> Path:
    """A new P-256 private key (PKCS#8 PEM, mode 0600) at `path`; an existing file is an error."""
    if path.exists():
        raise BundleError(f"{path}: a signing key already exists (refusing to overwrite it)")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.touch(mode=0o600)
    partial.chmod(0o600)
    partial.write_bytes(pem)
    partial.replace(path)
    return path


def ensure_signing_key(path: Path) -> Path:
    return path if path.exists() else generate_signing_key(path)


def public_key_pem(signing_key: Path) -> bytes:
    """The verification key (public half, PEM) of an ES256 signing key file."""
    try:
        key = serialization.load_pem_private_key(signing_key.read_bytes(), password=None)
    except OSError as exc:
        raise BundleError(f"--signing-key {signing_key}: cannot be read ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise BundleError(f"--signing-key {signing_key}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BundleError(f"--signing-key {signing_key}: not a P-256 (ES256) key")
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_verification_key(signing_key: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(public_key_pem(signing_key))
    return path


# --- inputs --------------------------------------------------------------------------------------------


def _policy_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.rego")
        if not p.name.endswith("_test.rego") and "fixtures" not in p.relative_to(root).parts
    )


def registry_document(definitions: Path = DEFINITIONS_DIR) -> dict[str, Any]:
    defs, profile = realm_build.load(definitions)
    return opa_data.document(defs, profile)


def stage(directory: Path, registry: dict[str, Any]) -> str:
    """Lay the bundle's inputs out under `directory` (bundle root layout, `.manifest` with the roots);
    return the sha256 of all of them."""
    digest = hashlib.sha256()
    for source_root, prefix in ((POLICY_DIR, "bizid"), (SYSTEM_POLICY_DIR, "system")):
        for source in _policy_files(source_root):
            relative = Path(prefix) / source.relative_to(source_root)
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            content = source.read_bytes()
            target.write_bytes(content)
            digest.update(f"{relative}\0{len(content)}\0".encode())
            digest.update(content)
    data = json.dumps(registry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    data_file = directory.joinpath(*opa_data.DATA_PATH, "data.json")
    data_file.parent.mkdir(parents=True, exist_ok=True)
    data_file.write_bytes(data)
    digest.update(b"data\0" + data)
    manifest = {"roots": list(ROOTS), "rego_version": 1}
    (directory / ".manifest").write_text(json.dumps(manifest), encoding="utf-8")
    digest.update(json.dumps({"manifest": manifest, "optimize": OPTIMIZE, "alg": SIGNING_ALG}).encode())
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def commit_label() -> str:
    """12 hex of HEAD, `+dirty` when policies/ or realm/definitions/ differ from it; `nogit` outside git."""
    head = _git("rev-parse", "HEAD")
    if not head:
        return "nogit"
    dirty = _git("status", "--porcelain", "--", "policies/bizid", "policies/system", "realm/definitions")
    return head[:12] + ("+dirty" if dirty else "")


def revision_for(inputs_digest: str, commit: str | None = None) -> str:
    return f"{commit or commit_label()}-{inputs_digest[:16]}"


def opa_version(opa: Path) -> str:
    result = subprocess.run([str(opa), "version"], capture_output=True, text=True, check=False)
    return result.stdout.splitlines()[0] if result.returncode == 0 and result.stdout else "unknown"


# --- build -------------------------------------------------------------------------------------------


def expected_revision(opa: Path, registry: dict[str, Any], commit: str | None = None) -> str:
    """The revision `build` would give these inputs (without building): lets a caller keep a current
    bundle instead of rebuilding it."""
    with tempfile.TemporaryDirectory(prefix="bizid-bundle-") as tmp:
        digest = stage(Path(tmp), registry)
    return revision_for(_with_opa(digest, opa), commit)


def _with_opa(digest: str, opa: Path) -> str:
    # The optimizer's output depends on OPA's version: a new OPA is a new bundle.
    return hashlib.sha256(f"{digest}\0{opa_version(opa)}".encode()).hexdigest()


def build(
    opa: Path,
    output: Path,
    signing_key: Path,
    *,
    definitions: Path = DEFINITIONS_DIR,
    registry: dict[str, Any] | None = None,
    optimize: int = OPTIMIZE,
    commit: str | None = None,
) -> Bundle:
    """`opa build` the policies and the registry (generated from `definitions`, or the given document) into
    a signed bundle at `output` (written whole, then renamed: a reader never sees half a bundle)."""
    document = registry_document(definitions) if registry is None else registry
    public_key_pem(signing_key)  # a bad key is named before anything is built
    with tempfile.TemporaryDirectory(prefix="bizid-bundle-") as tmp:
        root = Path(tmp) / "bundle"
        revision = revision_for(_with_opa(stage(root, document), opa), commit)
        partial = Path(tmp) / BUNDLE_FILE
        command = [
            str(opa),
            "build",
            "--bundle",
            ".",  # run inside the staged root: module ids are bundle paths (/bizid/...), not temp paths
            "--output",
            str(partial),
            "--revision",
            revision,
            "--signing-key",
            str(signing_key),
            "--signing-alg",
            SIGNING_ALG,
        ]
        if optimize:
            command.append(f"--optimize={optimize}")
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root)
        if result.returncode != 0:
            raise BundleError(f"opa build failed: {(result.stderr or result.stdout).strip()[-2000:]}")
        output.parent.mkdir(parents=True, exist_ok=True)
        staged = output.with_name(output.name + ".tmp")
        shutil.copyfile(partial, staged)
        staged.replace(output)
    return Bundle(path=output, revision=revision)


def manifest(bundle: Path) -> dict[str, Any]:
    """The `.manifest` of a built bundle file (revision, roots)."""
    try:
        with tarfile.open(bundle, "r:gz") as archive:
            for member in archive.getmembers():
                if member.name.lstrip("/") == ".manifest":
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        loaded: dict[str, Any] = json.loads(extracted.read())
                        return loaded
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise BundleError(f"{bundle}: not a readable OPA bundle ({exc})") from None
    raise BundleError(f"{bundle}: an OPA bundle without .manifest")


def revision_of(bundle: Path) -> str | None:
    """The revision of a bundle file, or None when there is no readable bundle there."""
    try:
        value = manifest(bundle).get("revision")
    except BundleError:
        return None
    return value if isinstance(value, str) else None


def served_revisions(bundles: Any) -> list[str]:
    """The revisions in a `GET /v1/data/system/bundles` result ({name: {manifest: {revision}}})."""
    if not isinstance(bundles, dict):
        return []
    found = []
    for entry in bundles.values():
        revision = (entry or {}).get("manifest", {}).get("revision") if isinstance(entry, dict) else None
        if isinstance(revision, str):
            found.append(revision)
    return found
