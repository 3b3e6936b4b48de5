"""`typing.override` (Python 3.12+), from typing_extensions before that."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 12):
    from typing import override
else:  # pragma: no cover - depends on the interpreter
    from typing_extensions import override

__all__ = ["override"]
