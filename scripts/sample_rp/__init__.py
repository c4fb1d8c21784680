"""A small relying party written the way an RP developer would write one: with Authlib, a real OpenID
Connect client library, and nothing of bizid's own OIDC code on the RP side (docs/rp-guide.md).

`client` is the RP (authorization code + PKCE S256, state, nonce, ID token validation against the JWKS,
userinfo); `config` says where the local platform's RP settings come from; `__main__` runs it.
"""
