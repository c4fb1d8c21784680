"""The operator policy `bizid-<env>-operator` grants the shared review queue (realm/review_queue_s3.py): in
each region's audit archive, list under `review/` only, get and put objects under it, nothing else (no delete,
no other prefix), with the bucket's key usable through S3; the prefix is the one the queue writes to."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import STACKS
from realm import review_queue_s3
from tests.infra.conftest import graph_of


def _statements(stack: str) -> list[dict[str, Any]]:
    graph = graph_of(stack)
    (policy,) = [
        p for p in graph.of_type("aws:iam/policy:Policy") if p.inputs.get("name") == f"bizid-{stack}-operator"
    ]
    document = policy.inputs["policy"]
    return list((json.loads(document) if isinstance(document, str) else document)["Statement"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stack", STACKS)
def test_each_audit_archive_grants_the_review_prefix(stack: str) -> None:
    graph = graph_of(stack)
    archives = [b for b in graph.of_type("aws:s3/bucket:Bucket") if b.inputs.get("objectLockEnabled")]
    assert archives
    statements = _statements(stack)
    prefix = review_queue_s3.REVIEW_PREFIX
    for bucket in archives:
        arn = bucket.state["arn"]
        listing = [
            st
            for st in statements
            if _list(st["Action"]) == ["s3:ListBucket"]
            and _list(st["Resource"]) == [arn]
            and st.get("Condition") == {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}
        ]
        assert len(listing) == 1, f"{arn}: no ListBucket limited to {prefix}"
        objects = [st for st in statements if _list(st["Resource"]) == [f"{arn}/{prefix}*"]]
        assert len(objects) == 1, f"{arn}: no statement on {prefix}* objects"
        assert sorted(_list(objects[0]["Action"])) == ["s3:GetObject", "s3:PutObject"]
        assert "Condition" not in objects[0]
        # Its own statements, not a widened trail statement.
        assert listing[0]["Sid"] != objects[0]["Sid"]
        assert all("operator-trail" not in str(st["Resource"]) for st in listing + objects)
    # Never a delete, a retention change or a bypass, on any resource.
    actions = {a for st in statements for a in _list(st["Action"])}
    assert not {a for a in actions if "Delete" in a or "Retention" in a or "Bypass" in a or a == "s3:*"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_review_objects_can_use_the_bucket_key_through_s3_only(stack: str) -> None:
    """SSE-KMS: a PutObject/GetObject under review/ needs the region's stack key, through S3 only."""
    statements = _statements(stack)
    kms = [st for st in statements if "kms:GenerateDataKey" in _list(st["Action"])]
    assert kms
    for st in kms:
        (service,) = st["Condition"]["StringEquals"]["kms:ViaService"].split(".")[:1]
        assert service == "s3"
    objects = [st for st in statements if any(str(r).endswith("/review/*") for r in _list(st["Resource"]))]
    assert len(objects) == len(kms)
