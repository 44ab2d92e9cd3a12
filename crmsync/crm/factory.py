"""``connect(settings) -> CrmPort``: the one way the daemon, the sync stage and the CLI get an adapter.

Usage::

    from crmsync.crm.factory import connect
    crm = connect(settings, clock=SystemClock(), fields=policy.fields, ledger=store.activity_ledger(...))
    for page in crm.pull_leads(watermark, until=clock.now() - PULL_LAG):
        store.upsert(page.records); store.save_watermark(..., page.watermark)   # one transaction per page
    owners = crm.current_owners([a.lead.lead_id for a in batch])
    outcomes = crm.apply(batch)                                               # ≤ crm.batch_size(batch[0])
    crm.budget().used_fraction; crm.allow(priority)                            # the dispatcher's reserve check

The adapter built here shares one :class:`~crmsync.crm.budget.ApiBudget` (exposed as ``crm.api_budget``) and
one :class:`~crmsync.crm.retry.RetryPolicy` (``sleep`` injectable) per connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crmsync.clock import Clock, SystemClock
from crmsync.crm.budget import ApiBudget
from crmsync.crm.config import ConnectionSettings
from crmsync.crm.ledger import ActivityLedger, InMemoryLedger
from crmsync.crm.mapping import FieldMap
from crmsync.crm.retry import RetryPolicy
from crmsync.domain import Vendor

if TYPE_CHECKING:  # the SDKs are imported only when a connection is made
    from crmsync.crm.hubspot import HubSpotCrm
    from crmsync.crm.salesforce import SalesforceCrm

PULL_LAG = timedelta(minutes=5)
"""How long before the run a pull window closes, so rows of still-open transactions are not passed by."""


def pull_until(now: datetime, lag: timedelta = PULL_LAG) -> datetime:
    """The ``until`` to pass to the ``pull_*`` methods for a run starting at ``now``."""
    return now - lag


def build_retry(settings: ConnectionSettings, sleep: Callable[[float], None] | None = None) -> RetryPolicy:
    """The connection's retry policy from its settings (``sleep`` replaced in tests)."""
    r = settings.retry
    policy = RetryPolicy(
        max_attempts=r.max_attempts,
        initial=r.initial_s,
        max_wait=r.max_wait_s,
        jitter=r.jitter,
        max_retry_after=r.max_retry_after_s,
    )
    if sleep is not None:
        policy.sleep = sleep
    return policy


def build_budget(settings: ConnectionSettings, clock: Clock) -> ApiBudget:
    """The connection's API budget from its settings (search throttled on HubSpot only)."""
    b = settings.budget
    return ApiBudget(
        clock,
        stop_at=b.stop_at,
        burst_max=b.burst_max,
        burst_window_s=b.burst_window_s,
        search_per_s=b.search_per_s if settings.vendor is Vendor.HUBSPOT else None,
        exhausted_retry_after=b.exhausted_retry_after_s,
    )


def connect(
    settings: ConnectionSettings,
    *,
    clock: Clock | None = None,
    fields: Mapping[str, str] | None = None,
    ledger: ActivityLedger | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SalesforceCrm | HubSpotCrm:
    """An adapter for ``settings`` (no network traffic until the first call).

    ``fields`` are the policy's logical → CRM field names (over the connection's own ``fields``); ``ledger``
    is the store's activity ledger (HubSpot; an in-memory one otherwise, which only protects one process).
    """
    from crmsync.crm.hs_client import HubSpotApi
    from crmsync.crm.hubspot import HubSpotCrm
    from crmsync.crm.salesforce import SalesforceCrm

    clock = clock or SystemClock()
    field_map = FieldMap.for_vendor(settings.vendor, {**settings.fields, **(fields or {})})
    retry = build_retry(settings, sleep if sleep is not None else clock.sleep)
    budget = build_budget(settings, clock)
    if settings.vendor is Vendor.SALESFORCE:
        return SalesforceCrm(settings, clock=clock, fields=field_map, retry=retry, budget=budget)
    assert settings.hubspot is not None
    api = HubSpotApi(
        settings.hubspot,
        clock=clock,
        budget=budget,
        retry=retry,
        timeout=(settings.connect_timeout_s, settings.timeout_s),
    )
    return HubSpotCrm(
        settings, clock=clock, fields=field_map, api=api, budget=budget, ledger=ledger or InMemoryLedger()
    )
