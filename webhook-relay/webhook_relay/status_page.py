"""``GET /status``: one read-only HTML page for operators (no JavaScript).

Per business: the last event received, the last successful load and its lag, pending, failing
and quarantined events, the last error; then the quarantined events and the recent runs with
status, duration and a link to their log (``/status/runs/<run id>/log``, redacted). Built only
from views.py, which returns no event body; every value is HTML-escaped and every text that
came from a run passes through the redactor (no secret of the relay's or the runs' settings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from html import escape

from webhook_relay.views import BusinessStatus, QuarantinedEvent, RunStatus

REFRESH_SECONDS = 15

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #dde1e8;
         vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; overflow-wrap: anywhere; }
.status { display: inline-block; padding: .1rem .5rem; border-radius: .6rem; font-weight: 600; }
.ok, .succeeded { background: #dcf5e3; color: #145c2c; }
.degraded, .failed, .quarantined { background: #fde2e1; color: #8a1c14; }
.running, .interrupted, .failing { background: #fff1cc; color: #6b4d00; }
.muted { color: #6b7385; } .error { color: #8a1c14; max-width: 40rem; }
"""


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return '<span class="muted">never</span>'
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return (
        f'<time datetime="{escape(moment.isoformat())}">{stamp}</time>'
        f' <span class="muted">({_ago(now - moment)})</span>'
    )


def _ago(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _seconds(value: float | None) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"


def _log_link(run_id: str | None, label: str = "log") -> str:
    if not run_id:
        return ""
    return f'<a class="log" href="/status/runs/{escape(run_id)}/log">{escape(label)}</a>'


def _table(table_id: str, headers: Iterable[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p id="{table_id}" class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _business_row(b: BusinessStatus, now: datetime, redact: Callable[[str], str]) -> str:
    error = ""
    if b.last_error:
        resolved = (
            b.last_loaded_at is not None
            and b.last_error_at is not None
            and b.last_loaded_at > b.last_error_at
        )
        note = ' <span class="muted">(loaded since)</span>' if resolved else ""
        error = (
            f'<span class="error">{escape(redact(b.last_error))}</span>{note} '
            f"{_log_link(b.last_error_run)}"
        )
    pending = str(b.pending)
    if b.failing:
        pending += f' <span class="status failing">{b.failing} failing</span>'
    if b.oldest_pending_at is not None:
        pending += f'<br><span class="muted">oldest {_ago(now - b.oldest_pending_at)}</span>'
    quarantined = (
        f'<span class="status quarantined">{b.quarantined}</span>' if b.quarantined else "0"
    )
    return (
        f'<tr data-business="{escape(b.business_id)}">'
        f"<td><code>{escape(b.business_id)}</code></td>"
        f"<td>{_when(b.last_received_at, now)}</td>"
        f"<td>{_when(b.last_loaded_at, now)} {_log_link(b.last_loaded_run)}</td>"
        f'<td class="num">{_seconds(b.lag_seconds)}</td>'
        f'<td class="num pending">{pending}</td>'
        f'<td class="num quarantined-count">{quarantined}</td>'
        f"<td>{error}</td></tr>"
    )


def _quarantine_row(q: QuarantinedEvent, now: datetime, redact: Callable[[str], str]) -> str:
    return (
        f'<tr data-event="{escape(q.id)}"><td><code>{escape(q.id)}</code></td>'
        f"<td><code>{escape(q.business_id)}</code></td><td>{escape(q.type)}</td>"
        f"<td>{_when(q.received_at, now)}</td><td>{_when(q.quarantined_at, now)}</td>"
        f'<td class="num">{q.failures}</td>'
        f'<td class="error">{escape(redact(q.reason or ""))} {_log_link(q.run_id)}</td></tr>'
    )


def _run_row(r: RunStatus, now: datetime, redact: Callable[[str], str]) -> str:
    exit_code = "" if r.exit_code is None else str(r.exit_code)
    return (
        f'<tr data-run="{escape(r.run_id)}"><td>{_when(r.started_at, now)}</td>'
        f"<td>{escape(r.kind)}</td>"
        f'<td><span class="status {escape(r.status)}">{escape(r.status)}</span></td>'
        f'<td class="num duration">{_seconds(r.duration_seconds)}</td>'
        f'<td class="num">{r.event_count}</td><td class="num">{r.business_count}</td>'
        f'<td class="num">{exit_code}</td>'
        f'<td class="error">{escape(redact(r.error or ""))}</td>'
        f"<td>{_log_link(r.run_id)}</td></tr>"
    )


def render_status_page(
    health: dict[str, object],
    businesses: list[BusinessStatus],
    quarantined: list[QuarantinedEvent],
    runs: list[RunStatus],
    redact: Callable[[str], str],
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    overall = escape(str(health["status"]))
    summary = (
        f'<span id="overall" class="status {overall}">{overall}</span> '
        f'<span id="counts">{health["pending"]} pending ({health["failing"]} failing),'
        f" {health['quarantined']} quarantined</span>"
    )
    business_table = _table(
        "businesses",
        [
            "Business",
            "Last event received",
            "Last successful load",
            "Lag",
            "Pending",
            "Quarantined",
            "Last error",
        ],
        [_business_row(b, now, redact) for b in businesses],
        "No event received yet.",
    )
    quarantine_table = _table(
        "quarantined",
        ["Event", "Business", "Type", "Received", "Quarantined", "Failed runs", "Reason"],
        [_quarantine_row(q, now, redact) for q in quarantined],
        "No event is quarantined.",
    )
    runs_table = _table(
        "runs",
        ["Started", "Kind", "Status", "Duration", "Events", "Businesses", "Exit", "Error", ""],
        [_run_row(r, now, redact) for r in runs],
        "No run yet.",
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>webhook-relay status: {overall}</title><style>{_STYLE}</style></head>
<body>
<h1>webhook-relay</h1>
<p>{summary}<br><span class="muted">as of {now.strftime("%Y-%m-%d %H:%M:%SZ")};
refreshes every {REFRESH_SECONDS} s; read-only</span></p>
<h2>Businesses</h2>
{business_table}
<h2>Quarantined events</h2>
<p class="muted">Kept with their reason and run log. Re-queue one with
<code>webhook-relay events retry ID</code> once its cause is fixed.</p>
{quarantine_table}
<h2>Recent runs</h2>
{runs_table}
</body></html>
"""
