"""Initial pull of an org (100,000 leads with their activities by default): records per second and peak RSS.

The sandbox runs in a child process (its org is not crmsync's memory); this process pulls everything through
the real HTTP adapter, streaming page by page and keeping only counts, as the sync stage does when it commits
each page. Salesforce gives the headline figures; HubSpot (list endpoint for contacts, search for activities)
is measured too, with the burst throttle lifted so the figure is crmsync's cost, not HubSpot's 190 calls/10 s.

Usage: ``.venv/bin/python bench/initial_sync.py [--leads N] [--activities-per-lead K] [--skip-hubspot]``.
Last line: ``{"leads", "records_per_s", "peak_rss_mb", ...}``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crmsync.clock import SystemClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.domain import Vendor

HS_TOKEN = "pat-na1-bench-initial-sync"  # noqa: S105 - the sandbox's fake token


def _serve(vendor: str, leads: int, per_lead: int, folder: str, queue: Any, stop: Any) -> None:
    """Child: seed the org, serve it, report (url, ca, secret), wait for ``stop``."""
    from api_calls import log_call, seed

    from crmsync.sandbox.hubspot import HubSpotLimits, HubSpotSandbox
    from crmsync.sandbox.salesforce import SalesforceSandbox

    clock = SystemClock()
    kind = Vendor(vendor)
    org, users, ids = seed(kind, leads, clock)  # type: ignore[arg-type]
    now = clock.now()
    for n in range(leads * per_lead):
        log_call(org, kind, ids[n % leads], users[n % len(users)], now)
    if kind is Vendor.SALESFORCE:
        sf = SalesforceSandbox(org, clock=clock, tls_dir=Path(folder) / "certs", daily_quota=10**9)
        sf.start()
        queue.put((sf.url, str(sf.ca_path), sf.auth.consumer_key, sf.auth.consumer_secret))
        stop.wait()
        sf.stop()
        return
    hs = HubSpotSandbox(org, clock=clock, token=HS_TOKEN, limits=HubSpotLimits(enforce=False, daily=10**9))
    queue.put((hs.start(), "", "", ""))
    stop.wait()
    hs.stop()


def _settings(vendor: Vendor, served: tuple[str, str, str, str]) -> Any:
    url, ca, key, secret = served
    if vendor is Vendor.SALESFORCE:
        block = {"auth": "client_credentials", "login_url": url, "client_id": key, "client_secret": secret,
                 "ca_file": ca, "trust_env": False}  # fmt: skip
        return load_connection({"name": "bench", "vendor": "salesforce", "timeout_s": 300, "salesforce": block})
    return load_connection({"name": "bench", "vendor": "hubspot", "timeout_s": 300,
                            "budget": {"burst_max": 1_000_000, "search_per_s": 1000},
                            "hubspot": {"host": url, "token": HS_TOKEN}})  # fmt: skip


def pull(vendor: Vendor, leads: int, per_lead: int) -> dict[str, Any]:
    """Serve an org in a child process and time the initial pull of its leads and activities."""
    ctx = mp.get_context("fork")
    queue, stop = ctx.Queue(), ctx.Event()
    with tempfile.TemporaryDirectory() as folder:
        child = ctx.Process(target=_serve, args=(vendor.value, leads, per_lead, folder, queue, stop), daemon=True)
        child.start()
        try:
            served = queue.get(timeout=600)
            crm = connect(_settings(vendor, served))
            until = datetime.now(UTC) + timedelta(minutes=1)
            started = time.perf_counter()
            n_leads = sum(len(page.records) for page in crm.pull_leads(None, until))
            n_acts = sum(len(page.records) for page in crm.pull_activities(None, until))
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            child.join(30)
    return {"leads": n_leads, "activities": n_acts, "seconds": round(seconds, 2),
            "records_per_s": round((n_leads + n_acts) / seconds), "calls": crm.budget().calls_made}  # fmt: skip


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    """Measure Salesforce (headline) then HubSpot; the last line is the JSON summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities-per-lead", type=int, default=2)
    parser.add_argument("--skip-hubspot", action="store_true")
    args = parser.parse_args()
    sf = pull(Vendor.SALESFORCE, args.leads, args.activities_per_lead)
    sf_rss = peak_rss_mb()
    print(f"salesforce: {sf}, peak RSS {sf_rss} MB", file=sys.stderr)
    out: dict[str, Any] = {"leads": sf["leads"], "records_per_s": sf["records_per_s"], "peak_rss_mb": sf_rss,
                           "salesforce": sf}  # fmt: skip
    if not args.skip_hubspot:
        hs = pull(Vendor.HUBSPOT, args.leads, args.activities_per_lead)
        out["hubspot"] = hs
        out["peak_rss_mb_both"] = peak_rss_mb()
        print(f"hubspot: {hs}, peak RSS {out['peak_rss_mb_both']} MB", file=sys.stderr)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
