"""How the process is set up for a long run: the target's memory stays bounded by the batch
size, and Python's garbage collector does not rescan what lives as long as the run.

- `lean_arrow`: Arrow without pandas and on the system allocator (memory).
- `relaxed_gc`: objects alive before the records (the imported libraries) frozen out of the
  cyclic garbage collector and young-generation collections made rarer (CPU: the records a batch
  buffers would otherwise make every collection rescan them, which cost as much as decoding);
  `settle` freezes what a new sink set up, which lives as long as the run too.

The target enters both around its whole run (`TargetDatabricksUpsert.listen`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence

import pyarrow as pa

GC_FIRST_GENERATION = 20_000
"""Allocations between two young-generation collections while listening (Python's default: 700)."""


class _PandasAbsent(importlib.abc.MetaPathFinder):
    """Import hook making `import pandas` fail while pyarrow first looks for it."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
        /,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"{fullname} is not used here", name=fullname)
        return None


@contextlib.contextmanager
def lean_arrow() -> Iterator[None]:
    """Arrow set up for a long run whose memory must stay bounded by the batch size.

    - `pa.array()` must not import pandas (about 1 s and 40 MB): pyarrow checks whether a Python
      input is a pandas object by importing pandas the first time it converts one, and this
      target never passes pandas objects. The first conversion is made here while `import pandas`
      fails, so pyarrow notes pandas as absent; pandas itself stays importable, and pyarrow still
      imports it if asked for pandas output (`to_pandas`).
    - Arrow buffers come from the system allocator, which hands freed batches back to the memory
      the other libraries use; pyarrow's default (mimalloc) keeps them, about 20 MB more at peak.

    Enter it from the main thread before other threads convert anything.
    """
    if "pandas" not in sys.modules:
        hook = _PandasAbsent()
        sys.meta_path.insert(0, hook)
        try:
            pa.array([0])
        finally:
            sys.meta_path.remove(hook)
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def relaxed_gc() -> Iterator[None]:
    """Objects alive before the records (the imported libraries) are frozen out of the cyclic
    garbage collector, and young-generation collections run less often."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_FIRST_GENERATION), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def settle() -> None:
    """Freeze what exists now out of the cyclic collector: called once a new sink is set up (what
    it imported and built lives as long as the run)."""
    gc.freeze()
