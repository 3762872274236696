"""Shared pieces of the EKS operations the emulator adds: the request context handlers receive, pagination,
parameter checks, identifiers and the TagResource family for the ARNs the emulator owns.

This module must not hold resources; eks_addons.py and pod_identity.py do.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import time
from dataclasses import dataclass, field

from .awserrors import EksError

ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role/(.+)$")


@dataclass
class EksRequest:
    """What an EKS handler gets: the caller's account and region, path labels, query and JSON body."""

    account: str
    region: str
    labels: dict
    query: dict  # name -> list of values
    body: dict = field(default_factory=dict)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def qlist(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


def now() -> float:
    return time.time()


def new_uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def association_id() -> str:
    """`a-` and 17 lowercase letters and digits, as EKS association ids look."""
    alphabet = string.ascii_lowercase + string.digits
    return "a-" + "".join(random.choice(alphabet) for _ in range(17))


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def parse_max_results(req: EksRequest, default: int = 100, maximum: int = 100) -> int:
    raw = req.q("maxResults")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EksError("InvalidParameterException", f"maxResults must be an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise EksError("InvalidParameterException", f"maxResults must be between 1 and {maximum}")
    return value


def paginate(items: list, req: EksRequest, default: int = 100, maximum: int = 100) -> tuple[list, str | None]:
    """One page of `items` for maxResults/nextToken; the token is an opaque encoding of the next offset."""
    limit = parse_max_results(req, default, maximum)
    start = 0
    token = req.q("nextToken")
    if token:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
        except (ValueError, KeyError, TypeError):
            raise EksError("InvalidParameterException", "The nextToken provided is not valid.") from None
        if start < 0 or start > len(items):
            raise EksError("InvalidParameterException", "The nextToken provided is not valid.")
    page = items[start : start + limit]
    nxt = None
    if start + limit < len(items):
        nxt = base64.urlsafe_b64encode(json.dumps({"offset": start + limit}).encode()).decode()
    return page, nxt


def require_string(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise EksError("InvalidParameterException", f"{name} is required and must be a non-empty string")
    return value


def optional_string(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise EksError("InvalidParameterException", f"{name} must be a string")
    return value


def check_tags(tags) -> dict:
    """EKS tag rules: at most 50, keys 1-128 and values up to 256 characters, no `aws:` prefix."""
    if tags is None:
        return {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise EksError("InvalidParameterException", "tags must be a map of strings")
    if len(tags) > 50:
        raise EksError("InvalidParameterException", "A resource can have at most 50 tags")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise EksError("InvalidParameterException", f"Invalid tag: {key}")
        if key.lower().startswith("aws:"):
            raise EksError("InvalidParameterException", "Tag keys starting with 'aws:' are reserved")
    return dict(tags)


class TaggableRegistry:
    """TagResource / UntagResource / ListTagsForResource for ARNs owned by the emulator (add-ons and
    associations). moto handles cluster ARNs. Those three operations model BadRequestException and
    NotFoundException, not the ResourceNotFoundException of the other operations."""

    def __init__(self) -> None:
        self._lookups = []  # callables arn -> object with a `tags` dict, or None

    def add_lookup(self, lookup) -> None:
        self._lookups.append(lookup)

    def owns(self, arn: str) -> bool:
        return ":addon/" in arn or ":podidentityassociation/" in arn

    def _find(self, arn: str):
        for lookup in self._lookups:
            obj = lookup(arn)
            if obj is not None:
                return obj
        raise EksError("NotFoundException", f"Resource not found: {arn}")

    def tag_resource(self, req: EksRequest) -> tuple[int, dict]:
        obj = self._find(req.labels["resourceArn"])
        tags = req.body.get("tags")
        if not isinstance(tags, dict) or not tags:
            raise EksError("BadRequestException", "tags must be a non-empty map")
        try:
            merged = check_tags({**obj.tags, **tags})
        except EksError as e:
            raise EksError("BadRequestException", e.message) from None
        obj.tags = merged
        return 200, {}

    def untag_resource(self, req: EksRequest) -> tuple[int, dict]:
        obj = self._find(req.labels["resourceArn"])
        keys = req.qlist("tagKeys")
        if not keys:
            raise EksError("BadRequestException", "tagKeys is required")
        obj.tags = {k: v for k, v in obj.tags.items() if k not in keys}
        return 200, {}

    def list_tags(self, req: EksRequest) -> tuple[int, dict]:
        obj = self._find(req.labels["resourceArn"])
        return 200, {"tags": dict(obj.tags)}
