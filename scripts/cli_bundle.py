"""`bizid bundle build`: the one OPA bundle (library: `policies.bundle`), for the image and the platform.

    bizid bundle build [--definitions DIR] [--signing-key PEM] [--output-dir DIR]

writes `<output-dir>/bizid-opa-bundle.tar.gz` (signed, optimized, revision = commit + inputs digest) and
its verification key `<output-dir>/bizid-opa-bundle.pub.pem`; the default output folder `build/opa/` is
what infra/images/opa/Dockerfile copies. Without `--signing-key` the local key is used (generated under
.bizid/secrets on first use); for AWS pass the release key taken from Secrets Manager (docs/infra.md).
The local platform's OPA serves a bundle built the same way from the same inputs (`bizid up`,
`bizid realm apply`), so both report the same revision.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from policies import bundle as opa_bundle
from realm.loader import DEFINITIONS_DIR
from scripts import arguments, install, settings


def _signing_key(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{path}: no such file")
    try:
        opa_bundle.public_key_pem(path)
    except opa_bundle.BundleError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--signing-key ")) from None
    return path


def _build(args: argparse.Namespace) -> int:
    cfg = settings.load()
    opa_bundle.registry_document(args.definitions)  # the definitions are valid before anything is written
    key = args.signing_key or opa_bundle.ensure_signing_key(cfg.paths.opa_signing_key)
    opa = install.ensure_opa(cfg)
    out = args.output_dir
    try:
        built = opa_bundle.build(opa, out / opa_bundle.BUNDLE_FILE, key, definitions=args.definitions)
    except opa_bundle.BundleError as exc:
        raise ValueError(str(exc)) from None
    public = opa_bundle.write_verification_key(key, out / opa_bundle.VERIFICATION_KEY_FILE)
    print(f"bundle        {built.path}")
    print(f"revision      {built.revision}")
    print(f"verification  {public}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bundle_p = subparsers.add_parser("bundle", help="the signed OPA bundle (policies + registry)")
    sub = bundle_p.add_subparsers(dest="bundle_command", required=True)
    p = sub.add_parser("build", help="build and sign the OPA bundle (for the image and the platform)")
    p.add_argument(
        "--definitions",
        type=arguments.existing_dir,
        default=DEFINITIONS_DIR,
        help=f"definitions directory (default: {DEFINITIONS_DIR})",
    )
    p.add_argument(
        "--signing-key",
        type=_signing_key,
        default=None,
        help="ES256 (P-256) private key, PEM (default: the local key under .bizid/secrets)",
    )
    p.add_argument(
        "--output-dir",
        type=arguments.output_dir,
        default=opa_bundle.IMAGE_BUILD_DIR,
        help=f"where the bundle and its public key go (default: {opa_bundle.IMAGE_BUILD_DIR})",
    )
    p.set_defaults(func=_build)
