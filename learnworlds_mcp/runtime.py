"""What every call of one server run shares besides its arguments (kept apart from the executor, whose
imports a server needs only once the first call comes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .policy import Policy

if TYPE_CHECKING:
    from .client import LearnWorldsClient
    from .store import QueryTool

DEFAULT_MAX_RESULT_BYTES = 80_000  # about 20,000 tokens


@dataclass
class Runtime:
    """Everything a call needs besides its arguments, shared by all calls of one server run."""

    client: LearnWorldsClient
    policy: Policy = field(default_factory=Policy)
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    keep_empty: bool = False
    store: QueryTool | None = None  # the SQL query tool, when the selection has tables
