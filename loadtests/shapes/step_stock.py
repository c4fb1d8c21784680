"""The step ramp against the stock baseline realm (loadtests/stock_realm.py): the same users, pacing and
visit as loadtests/shapes/step.py, signing in to `bench-stock` instead of `bizid`.

Run by `bizid load baseline`, which creates the realm first (and removes it afterwards).
"""

from __future__ import annotations

from loadtests import locustfile, stock_realm
from loadtests.shapes.step import StepShape


class StockSignInUser(locustfile.SignInUser):
    """SignInUser whose journey signs in to the stock realm, with its clients and user ids."""

    def on_start(self) -> None:
        super().on_start()
        target = stock_realm.journey_target(locustfile.CFG)
        self.journey.clients = target.clients
        self.journey.pairwise = set()
        self.journey.profile = target.profile


__all__ = ["StepShape", "StockSignInUser"]
