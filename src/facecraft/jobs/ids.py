"""Job ids: 128 random bits, checked against a strict pattern before they get anywhere near a path.

The original used 8 hex characters (32 bits) and joined whatever the client sent onto the output
directory; `DELETE /jobs/..` removed the application. Here an id that does not match `JOB_ID` is
rejected as "not found" before any file-system call, so no client string ever becomes a path.
"""

from __future__ import annotations

import re
import secrets

JOB_ID = re.compile(r"[0-9a-f]{32}")
ITEM_INDEX = re.compile(r"(0|[1-9][0-9]{0,3})")  # batch items: 0..9999, no leading zeros, no signs


def new_job_id() -> str:
    return secrets.token_hex(16)


def is_job_id(text: str) -> bool:
    return JOB_ID.fullmatch(text) is not None


def parse_item(text: str) -> int | None:
    """The batch item index in `text`, or None when it is not a plain small number."""
    return int(text) if ITEM_INDEX.fullmatch(text) else None
