"""The tap's catalog, discovered once for the runs instead of before each of them.

Before every ``meltano run``, Meltano starts ``tap-wave --discover`` (a whole tap process, about a
second) and applies the project's select/metadata/schema rules to its output; it cannot cache that
itself here (the tap is installed editable, and the runs' settings change with their businesses).
tap-wave's catalog depends only on its code and the project's rules, so the relay asks Meltano for
it once, ``meltano --environment <env> invoke --dump=catalog tap-wave`` (discovery with the rules
applied, no stream filter), keeps it beside the store, and hands it to its runs as
``TAP_WAVE__CATALOG`` (Meltano's ``catalog`` extra). Meltano still applies each run's stream
filter (``TAP_WAVE__SELECT_FILTER``) to it, so a run selects exactly what it selected before.

It is used only while what it was built from is unchanged: the project's ``meltano.yml`` and the
tap's installation (``.meltano/extractors/tap-wave``); a relay restart builds it anew (the way to
pick up tap-wave's code changed in place in an editable install). A run that finds it stale or
missing discovers as Meltano always does, and the catalog is rebuilt right after that run, still
under the run lock (the build writes Meltano's run directory of the tap too). A failed build is
logged and leaves no catalog (runs discover) until the next fingerprint change or ten minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from webhook_relay.runlogs import last_line

log = logging.getLogger("webhook_relay.catalog_cache")

EXTRACTOR = "tap-wave"
CATALOG_ENV = "TAP_WAVE__CATALOG"
RUN_ONLY_ENV = ("TAP_WAVE__SELECT_FILTER", CATALOG_ENV)  # never part of the build
BUILD_TIMEOUT_SECONDS = 300.0
RETRY_FAILED_BUILD_SECONDS = 600.0


class CatalogCache:
    """``<db dir>/tap-wave.catalog.json`` and the fingerprint it was built for."""

    def __init__(self, directory: Path, project: Path, meltano_bin: str, environment: str):
        self.path = directory / f"{EXTRACTOR}.catalog.json"
        self._key_path = directory / f"{EXTRACTOR}.catalog.key"
        self.project = project
        self.meltano_bin = meltano_bin
        self.environment = environment
        self._failed: tuple[str, float] | None = None  # (fingerprint, when) of a failed build
        self._built_this_start = False

    def fingerprint(self) -> str:
        """What the catalog depends on, as (path, size, mtime) of meltano.yml and the tap's
        installation directory; changes when either is edited or reinstalled."""
        parts = []
        for path in (
            self.project / "meltano.yml",
            self.project / ".meltano" / "extractors" / EXTRACTOR,
        ):
            try:
                stat = path.stat()
                parts.append([str(path), stat.st_size, stat.st_mtime_ns])
            except OSError:
                parts.append([str(path), None, None])
        return json.dumps(parts)

    def current(self) -> Path | None:
        """The catalog for a run starting now, or None (then the run discovers)."""
        if not self._built_this_start:
            return None
        try:
            built_for = self._key_path.read_text()
        except OSError:
            return None
        return self.path if built_for == self.fingerprint() and self.path.is_file() else None

    def needs_build(self) -> bool:
        if self.current() is not None:
            return False
        if self._failed is None:
            return True
        fingerprint, when = self._failed
        return (
            fingerprint != self.fingerprint()
            or time.monotonic() - when > RETRY_FAILED_BUILD_SECONDS
        )

    async def build(self, base_env: Mapping[str, str]) -> bool:
        """Build it (the caller holds the run lock); True when it is ready."""
        return await asyncio.to_thread(self._build, dict(base_env))

    def _build(self, env: dict[str, str]) -> bool:
        for name in RUN_ONLY_ENV:
            env.pop(name, None)
        fingerprint = self.fingerprint()
        argv = [
            self.meltano_bin,
            "--environment",
            self.environment,
            "invoke",
            "--dump=catalog",
            EXTRACTOR,
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                cwd=self.project,
                env=env,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
            catalog = json.loads(done.stdout) if done.returncode == 0 else None
            problem = (
                f"exit {done.returncode}: {last_line(done.stderr.decode(errors='replace'))}"
                if catalog is None
                else None
            )
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            catalog, problem = None, str(exc)
        if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
            self._discard()
            self._failed = (fingerprint, time.monotonic())
            log.warning(
                "could not build the %s catalog for the runs (%s); runs discover it themselves",
                EXTRACTOR,
                problem or "not a catalog",
            )
            return False
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial = self.path.with_suffix(".json.partial")
            partial.write_bytes(done.stdout)
            os.replace(partial, self.path)
            self._key_path.write_text(fingerprint)
        except OSError as exc:
            self._discard()
            self._failed = (fingerprint, time.monotonic())
            log.warning(
                "could not keep the %s catalog for the runs (%s); runs discover it themselves",
                EXTRACTOR,
                exc,
            )
            return False
        self._failed, self._built_this_start = None, True
        log.info(
            "built the %s catalog for the runs in %.1f s (%d streams): %s",
            EXTRACTOR,
            time.monotonic() - started,
            len(catalog["streams"]),
            self.path,
        )
        return True

    def _discard(self) -> None:
        for path in (self._key_path, self.path):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
