"""Key rotation for every group: each group's data key re-wrapped with the newest KEK."""

from __future__ import annotations

from groups.services.confidential import group_key_rewrap
from society.models import PeerGroup

from .fanout import FanoutResult, for_each_group, ready_groups


def group_keys_rewrap() -> tuple[FanoutResult, list[str]]:
    """Re-wrap every ready group's data key with the first key of HORIZONTAL_KEYS.

    Returns the fan-out result and the slugs whose key changed; a group that fails is
    reported and left as it was (run again: groups already re-wrapped are skipped).
    """
    changed: list[str] = []

    def rewrap(group: PeerGroup) -> None:
        if group_key_rewrap():
            changed.append(group.slug)

    return for_each_group(ready_groups(), rewrap, what="Key re-wrap"), changed
