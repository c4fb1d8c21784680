"""An RP's registration on the local platform, in one place: issuer, client id, redirect URI, secret, CA.

The redirect URI is the first one the RP registered, as the local platform runs the definitions
(`Settings.definitions()`: the loopback redirect URIs on the platform's RP port, 18900 + BIZID_PORT_OFFSET;
callers pass those definitions). A confidential client's secret is the one `realm apply`
generated into .bizid/secrets/clients/<client_id>.
"""

from __future__ import annotations

from realm.models import Definitions
from scripts.sample_rp.client import RpConfig
from scripts.settings import Settings


def redirect_uri(defs: Definitions, client_id: str) -> str:
    return str(defs.rp(client_id).redirect_uris[0])


def rp_config(cfg: Settings, defs: Definitions, client_id: str) -> RpConfig:
    rp = defs.rp(client_id)
    secret = cfg.client_secret(client_id) if rp.client_type == "confidential" else None
    return RpConfig(
        issuer=cfg.issuer,
        client_id=client_id,
        redirect_uri=redirect_uri(defs, client_id),
        client_secret=secret,
        ca_cert=str(cfg.paths.ca_cert),
    )
