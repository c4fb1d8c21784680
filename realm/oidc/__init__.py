"""An OIDC relying party's side of a sign-in, in plain HTTP (used by the load tests, the e2e tests and
the policy benchmark)."""
