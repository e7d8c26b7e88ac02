"""``StrEnum`` on every Python the plugin supports (``enum.StrEnum`` arrived in 3.11).

States (a clip's media status, a run's event kinds, a take's keep state) are enums whose
members *are* their strings: ``MediaStatus.FOUND == "found"``, ``f"{kind}"`` and
``json.dumps`` give the plain value, so JSON, logs and tests see what they always saw.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - exercised on Python 3.10 only

    class StrEnum(str, Enum):
        """A str whose value is the member's string (``str()`` and ``format()`` give the value)."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


__all__ = ["StrEnum"]
