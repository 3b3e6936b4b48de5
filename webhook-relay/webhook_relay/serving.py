"""Serving HTTP without letting idle connections exhaust the relay's file descriptors.

uvicorn closes a keep-alive connection that stays idle after a response, but gives a new
connection unlimited time to send its request headers: ~1,000 clients that connect and say
nothing hold ~1,000 descriptors, and once the process runs out, accept() fails in a loop and
/healthz and signed webhooks time out. ``guarded_h11_protocol`` is uvicorn's h11 protocol with:

- a header timeout: a connection that has not sent complete request headers within
  ``header_timeout`` seconds of connecting (or of its previous response) is closed;
- a connection cap: when ``max_connections`` are open, a new connection closes the oldest one
  that has no request in progress (else the new one is refused), so clients that do send a
  request get served while idle ones wait their turn to be dropped.

The body is bounded in time by the endpoint itself (app.py answers 408 when it stalls).
``raise_descriptor_limit`` lifts the soft RLIMIT_NOFILE to the hard one at start-up, and
``Limits`` keeps the cap below what the process may open: asyncio accepts up to ``backlog``
connections per loop iteration before any of them reaches ``connection_made`` (where the cap is
applied), so a few backlogs' worth of descriptors stay free as well. Should the process run out
anyway, ``quiet_accept_errors`` reports it once a minute instead of once per failed accept
(CPython 3.11 logs each of up to ``backlog`` failures per iteration: a million lines in minutes).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

if sys.version_info >= (3, 12):
    from typing import override
else:  # pragma: no cover - depends on the interpreter
    from typing_extensions import override

from webhook_relay import defaults

log = logging.getLogger("webhook_relay.serving")

_RESERVED_DESCRIPTORS = 64  # the store and its WAL, run logs, the run lock, a run's pipes, ...
_MAX_BACKLOG = 128
_ACCEPTS_IN_FLIGHT = 4  # backlogs accepted before the first of them is closed (worst case)
_REPORT_EVERY_SECONDS = 60.0


def raise_descriptor_limit() -> int:
    """Lift the soft descriptor limit to the hard one; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


@dataclass(frozen=True)
class Limits:
    """The listen backlog and the connection cap that fit in ``descriptors`` open files."""

    backlog: int
    max_connections: int

    @classmethod
    def within(cls, requested_connections: int, descriptors: int) -> Limits:
        if descriptors == resource.RLIM_INFINITY:
            return cls(_MAX_BACKLOG, requested_connections)
        backlog = max(8, min(_MAX_BACKLOG, descriptors // 8))
        room = descriptors - _RESERVED_DESCRIPTORS - _ACCEPTS_IN_FLIGHT * backlog
        return cls(backlog, max(8, min(requested_connections, room)))


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Report running out of descriptors on accept at most once a minute (see above)."""
    state = {"count": 0, "reported": 0, "at": -_REPORT_EVERY_SECONDS}

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not str(context.get("message", "")).startswith("socket.accept() out of system"):
            loop.default_exception_handler(context)
            return
        state["count"] += 1
        if loop.time() - state["at"] >= _REPORT_EVERY_SECONDS:
            log.error(
                "cannot accept connections: %s (%d time(s) in the last minute); raise the"
                " open-files limit or lower --max-connections",
                context.get("exception"),
                state["count"] - state["reported"],
            )
            state["reported"], state["at"] = state["count"], loop.time()

    loop.set_exception_handler(handler)


class _DropCounter:
    """Counts dropped connections and logs them at most once a minute (never a flood)."""

    def __init__(self) -> None:
        self.counts = {"header_timeout": 0, "evicted": 0, "refused": 0}
        self.limits = ""
        self._reported: dict[str, int] = dict.fromkeys(self.counts, 0)
        self._last_report = 0.0

    def add(self, reason: str) -> None:
        self.counts[reason] += 1
        now = time.monotonic()
        if now - self._last_report >= _REPORT_EVERY_SECONDS:
            new = {
                k: v - self._reported[k] for k, v in self.counts.items() if v > self._reported[k]
            }
            self._reported = dict(self.counts)
            self._last_report = now
            log.warning(
                "closed connections that sent no request (%s): %s",
                self.limits,
                ", ".join(f"{k}={v}" for k, v in new.items()),
            )


DROPS = _DropCounter()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and a connection cap (module docstring)."""

    header_timeout = defaults.HEADER_TIMEOUT_SECONDS
    max_connections = defaults.MAX_CONNECTIONS

    @override
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._idle_since = 0.0

    @override
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # (ignore: as in uvicorn's own H11Protocol, which narrows asyncio's BaseTransport)
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self._make_room():
            DROPS.add("refused")
            transport.close()
            return
        self._arm_header_timer()

    def _busy(self) -> bool:
        """A request is in progress: its headers arrived and its response is not complete."""
        return self.cycle is not None and not self.cycle.response_complete

    def _make_room(self) -> bool:
        """Close the longest-idle other connection without a request in progress."""
        idle = [
            c for c in self.connections
            if c is not self and isinstance(c, GuardedH11Protocol) and not c._busy()
            and not c.transport.is_closing()
        ]  # fmt: skip
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c._idle_since)
        DROPS.add("evicted")
        oldest.transport.close()
        return True

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._idle_since = self.loop.time()
        self._header_timer = self.loop.call_later(
            self.header_timeout, self._header_timeout_expired, self.cycle
        )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout_expired(self, cycle_when_armed: object) -> None:
        self._header_timer = None
        # A new request started since the timer was armed: its headers arrived in time.
        if self.cycle is not cycle_when_armed or self.transport.is_closing():
            return
        if self._busy():
            return
        DROPS.add("header_timeout")
        self.transport.close()

    @override
    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers get the same time

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def guarded_h11_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """The protocol class for ``uvicorn.run(http=...)`` with these limits."""
    DROPS.limits = f"header timeout {header_timeout:g} s, at most {max_connections} connections"
    return type(
        "RelayH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": header_timeout, "max_connections": max_connections},
    )
