"""Names the command line offers as choices before it loads anything heavy: the workbench
roles (kept by :mod:`letters.ledger.users`) and the rule tables' names (read by
:mod:`letters.rules.tables`). Plain data, importable in a millisecond."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    """What a person may do in the workbench."""

    AUTHOR = "author"  # submits versions of templates and rule tables
    REVIEWER = "reviewer"  # approves or rejects other people's versions
    ADMIN = "admin"  # reviews, and creates users


TableName = Literal["inkassosats", "interest_rate", "collection_fee_scale"]
TABLE_NAMES: tuple[TableName, ...] = ("inkassosats", "interest_rate", "collection_fee_scale")
