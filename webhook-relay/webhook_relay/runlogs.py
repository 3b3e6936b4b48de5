"""Run logs: where each run's output goes, a one-line summary of a failure, and redaction.

Each run writes ``<db dir>/run-logs/<run id>.log`` (0600, in a 0700 directory); the newest 200
are kept. A failed run gets a one-line summary (the last line that names an error) for the store,
``/healthz``'s neighbours and the status page; a quarantined event keeps its run's log tail in
the store, so pruning never loses it. Whatever is shown outside the store passes through
``Redactor``: the values of every secret-looking setting the runs can see are replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

KEEP_RUN_LOGS = 200
LOG_TAIL_BYTES = 32 * 1024
SUMMARY_CHARS = 300
REDACTED = "[redacted]"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(
    r"error|exception|failed|refused|denied|not found|could not", re.IGNORECASE
)
# Lines that say a run failed without saying why (Meltano's wrap-up after a plugin failed, the
# SDK's notice before the plugin's own message, rich's traceback boxes).
_GENERIC = re.compile(
    r"block (run completed|failed)|run invocation could not be completed|extractor failed"
    r"|loader failed|exception not rethrown|an unhandled error occurred|the above exception"
    r"|^traceback|^[\s^~]*$|exited with code|^[\u2500-\u257f]",
    re.IGNORECASE,
)
# Meltano's prefix on a plugin's line: "2026-12-07T07:55:29.833114Z [error    ] tap-wave  "
_MELTANO_PREFIX = re.compile(r"^\S+Z \[[a-z]+\s*\]\s+")
_ID_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.:]{6,}")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|PRIVATE|(^|_)KEY($|_)", re.IGNORECASE)
_MIN_SECRET_LENGTH = 6


def run_log_path(run_log_dir: Path, run_id: str) -> Path | None:
    """The log file of ``run_id``, or None when it is not a run id (never a path outside)."""
    try:
        canonical = str(uuid.UUID(run_id))
    except ValueError:
        return None
    return run_log_dir / f"{canonical}.log" if canonical == run_id else None


def open_run_log(run_log_dir: Path, run_id: str) -> io.BufferedWriter:
    """A new run's log file, private to the relay's user."""
    run_log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = run_log_dir / f"{run_id}.log"
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def prune_run_logs(run_log_dir: Path, keep: int = KEEP_RUN_LOGS) -> None:
    logs = sorted(run_log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[:-keep] if keep else logs:
        with contextlib.suppress(OSError):
            old.unlink()


def log_tail(path: Path | None, limit: int = LOG_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a log, as text ('' when there is none)."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(size - limit, 0))
            data = log.read()
    except OSError:
        return ""
    return _ANSI.sub("", data.decode("utf-8", errors="replace"))


def error_lines(tail: str) -> list[str]:
    """The lines of a run's output that say what went wrong (Meltano's prefix removed)."""
    lines = (_MELTANO_PREFIX.sub("", line).strip() for line in tail.splitlines())
    return [
        line for line in lines if line and _ERROR_LINE.search(line) and not _GENERIC.search(line)
    ]


def failure_summary(exit_code: int | None, tail: str) -> str:
    """One line saying how a run failed: its exit code and the last line naming an error."""
    head = "could not start or timed out" if exit_code is None else f"exit code {exit_code}"
    lines = error_lines(tail) or [line.strip() for line in tail.splitlines() if line.strip()]
    detail = lines[-1] if lines else ""
    summary = f"{head}: {detail}" if detail else head
    return summary[:SUMMARY_CHARS]


def last_line(output: str) -> str:
    """The last non-blank line of a helper process's output (at most ``SUMMARY_CHARS`` of its
    end), or ``no output``: what a log message says about why that process failed."""
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][-SUMMARY_CHARS:] if lines else "no output"


def named_ids(tail: str) -> set[str]:
    """Id-like words on the error lines of a run's output (to find which event it names)."""
    return {token.rstrip(".:") for line in error_lines(tail) for token in _ID_TOKEN.findall(line)}


class Redactor:
    """Replaces the values of secret-looking settings in text shown outside the store."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], extra: Iterable[str] = (), dotenv: Path | None = None
    ) -> Redactor:
        """Secrets of the relay's environment (the runs inherit it), of a Meltano project's
        ``.env`` (which its runs read) and ``extra`` (the webhook secrets)."""
        values = [v for k, v in environ.items() if _SECRET_NAME.search(k)]
        if dotenv is not None and dotenv.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                for line in dotenv.read_text().splitlines():
                    name, sep, value = line.strip().removeprefix("export ").partition("=")
                    if sep and _SECRET_NAME.search(name):
                        values.append(value.strip().strip("'\""))
        return cls([*values, *extra])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text
