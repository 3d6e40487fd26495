"""``reconcile status``: where the nightly job stands, as one JSON-ready document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from jobs.plan import plan_catch_up
from jobs.trigger import nightly_trigger
from reconcile import views
from reconcile.clock import local_date
from reconcile.db.locks import (
    NIGHTLY_LOCK_NAME,
    Holder,
    current_holder,
    holder_alive,
)
from reconcile.settings import Settings

_LAST_RUN_KEYS = (
    "id", "trigger", "status", "window", "started_at", "finished_at", "error",
)  # fmt: skip


def _holder(holder: Holder | None) -> dict[str, Any] | None:
    if holder is None:
        return None
    return {
        "run_id": holder.run_id,
        "host": holder.host,
        "pid": holder.pid,
        "since": holder.since.isoformat(),
        "alive": holder_alive(holder),
    }


def _range(first: dt.date, last: dt.date) -> dict[str, Any]:
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": (last - first).days + 1,
    }


def status_report(
    *, conn: Connection, settings: Settings, now: dt.datetime
) -> dict[str, Any]:
    """The last successful day, what is still due, the next fire time, the locks,
    the last run, the skipped ranges not run since, and refunds/recoupments due
    soon."""
    today = local_date(now, settings.practice.time_zone)
    last = views.last_successful_day(conn)
    plan = plan_catch_up(
        last_successful=last,
        today=today,
        max_catch_up_days=settings.schedule.max_catch_up_days,
    )
    trigger = nightly_trigger(settings)
    fire = trigger.get_next_fire_time(None, now)
    pending: dict[str, Any] | None = None
    if plan.days:
        pending = _range(plan.days[0], plan.days[-1])
        pending["will_skip"] = _range(*plan.skipped) if plan.skipped else None
    run = views.last_run(conn)
    last_run: dict[str, Any] | None = None
    if run is not None:
        last_run = {key: run[key] for key in _LAST_RUN_KEYS}
        if run["error"]:
            # The record keeps the whole error (``reconcile runs show``); status shows
            # its first line, without a database error's SQL and parameters.
            last_run["error"] = run["error"].strip().splitlines()[0]
    skips = views.unrun_skips(conn)
    return {
        "today": today.isoformat(),
        "last_successful_day": last.isoformat() if last else None,
        "pending": pending,
        "next_run": fire.astimezone(trigger.zone).isoformat(),
        "schedule": {
            "time": settings.schedule.time,
            "time_zone": trigger.zone.key,
        },
        "lock": _holder(current_holder(conn)),
        "nightly_pass": _holder(current_holder(conn, name=NIGHTLY_LOCK_NAME)),
        "last_run": last_run,
        # Every range skipped and not run since, oldest first; "skipped" is the
        # most recent of them (or None), as before there could be several.
        "skipped_ranges": skips,
        "skipped": skips[-1] if skips else None,
        **views.due_soon(conn, today=today),
    }
