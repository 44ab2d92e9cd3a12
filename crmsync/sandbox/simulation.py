"""A seeded, deterministic simulation of a sales org, written into sandbox CRM orgs over simulated time.

::

    sim = Simulation(SimulationConfig(leads=10_000, reps=8, seed=1))   # builds a year of history
    sim.orgs[Vendor.SALESFORCE], sim.orgs[Vendor.HUBSPOT]               # the orgs the servers serve
    sim.clock.now()                                                     # config.now (Mon 2026-03-02 14:00 UTC)
    sim.advance(timedelta(hours=4))                                     # inflow + rep work, hour by hour
    sim.tally(Vendor.SALESFORCE)                                        # touches, replies, conversions by rep

Construction creates the reps (personalities rotate diligent, cherry-picker, overloaded, diligent, on leave,
…) and a holding queue, then simulates ``history_days`` hour by hour so that exactly ``leads`` leads exist at
``now``, with the activities the reps would have logged. After that :meth:`Simulation.advance` moves the
clock (the same :class:`~crmsync.clock.FakeClock` the orgs and servers stamp with), adding
``daily_inflow`` leads per business day. Inflow is weighted to 13:00–23:00 UTC on weekdays; every lead is
assigned round robin over all reps (the org's assignment rule, which does not know who is on leave).
People and assignment come from one seeded stream shared by every vendor; each vendor's :class:`World`
has its own seeded stream for behaviour, so the orgs stay alike until an outside client changes one.
With ``maildir``/``ics_dir`` the reps' mail and meetings of the first vendor are also written for capture.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crmsync.clock import FakeClock
from crmsync.domain.model import Vendor
from crmsync.sandbox.capture_out import CaptureSink
from crmsync.sandbox.mapping import writer_for
from crmsync.sandbox.org import HUBSPOT_RULES, SALESFORCE_RULES, Org
from crmsync.sandbox.people import attractive, make_former_reps, make_person, make_reps
from crmsync.sandbox.schema import SF_LEAD_STATUSES, hubspot_schemas, salesforce_schemas
from crmsync.sandbox.world import HOUR, Personality, Tally, World

DEFAULT_NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ROTATION = (Personality.DILIGENT, Personality.CHERRY_PICKER, Personality.OVERLOADED, Personality.DILIGENT,
            Personality.ON_LEAVE, Personality.DILIGENT, Personality.CHERRY_PICKER, Personality.OVERLOADED)  # fmt: skip
WEEKDAY_PEAK = range(13, 23)
PEAK, OFF_PEAK, WEEKEND = 1.0, 0.1, 0.05
DAY_WEIGHT = PEAK * len(WEEKDAY_PEAK) + OFF_PEAK * (24 - len(WEEKDAY_PEAK))


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. ``daily_inflow`` None means ``leads / 250`` (at least 5) new leads per business day.

    ``departed_reps`` extra reps (former1…) work diligently for the first half of history, then leave: they
    are deactivated in the CRM (HubSpot: owner archived), drop out of the round robin, and keep owning the
    leads they had — orphans a real org accumulates.
    """

    leads: int = 1_000
    reps: int = 8
    seed: int = 1
    now: datetime = DEFAULT_NOW
    history_days: int = 365
    daily_inflow: int | None = None
    vendors: tuple[Vendor, ...] = (Vendor.SALESFORCE, Vendor.HUBSPOT)
    maildir: Path | None = None
    ics_dir: Path | None = None
    hs_custom_properties: bool = True
    personalities: tuple[Personality, ...] = ROTATION
    departed_reps: int = 1


def make_org(vendor: Vendor, clock: FakeClock, *, hs_custom_properties: bool = True) -> Org:
    """An empty org of ``vendor`` on ``clock``."""
    if vendor is Vendor.SALESFORCE:
        org = Org(SALESFORCE_RULES, salesforce_schemas(), clock)
        for order, status in enumerate(SF_LEAD_STATUSES, start=1):
            row = {"ApiName": status, "MasterLabel": status, "IsConverted": status == "Closed - Converted",
                   "IsDefault": order == 1, "SortOrder": order}  # fmt: skip
            org.create("LeadStatus", row)
        return org
    return Org(HUBSPOT_RULES, hubspot_schemas(custom_properties=hs_custom_properties), clock)


def _hour_weight(start: datetime) -> float:
    if start.weekday() >= 5:
        return WEEKEND
    return PEAK if start.hour in WEEKDAY_PEAK else OFF_PEAK


class Simulation:
    """The simulated org and its clock; thread-safe against the servers through each org's lock."""

    def __init__(self, config: SimulationConfig, *, clock: FakeClock | None = None) -> None:
        if config.now.tzinfo is None or config.leads < 0 or config.reps < 1:
            raise ValueError("a simulation needs an aware `now`, leads >= 0 and at least one rep")
        self.config = config
        origin = (config.now - timedelta(days=config.history_days)).replace(minute=0, second=0, microsecond=0)
        self.clock = clock or FakeClock(origin)
        self.clock.set(max(origin, self.clock.now()))
        self.origin = origin
        self.orgs: dict[Vendor, Org] = {
            v: make_org(v, self.clock, hs_custom_properties=config.hs_custom_properties) for v in config.vendors
        }
        self.sink = CaptureSink(config.maildir, config.ics_dir) if (config.maildir or config.ics_dir) else None
        reps = make_reps(config.reps) + make_former_reps(config.departed_reps)
        staffed = [(rep, config.personalities[i % len(config.personalities)]) for i, rep in enumerate(reps)]
        staffed[config.reps :] = [(rep, Personality.DEPARTED) for rep, _ in staffed[config.reps :]]
        self._active = list(range(len(reps)))
        self._departure = origin + (config.now - origin) / 2
        self.worlds: dict[Vendor, World] = {}
        for n, (vendor, org) in enumerate(self.orgs.items()):
            sink = self.sink if n == 0 else None
            self.worlds[vendor] = World(writer_for(org), staffed, seed=config.seed * 7919 + 17, sink=sink)
            self.worlds[vendor].setup(origin)
        self._zones = [ZoneInfo(rep.timezone) for rep in reps]
        self._people = random.Random(config.seed)
        self._next_hour = 0
        self._made = 0
        self._carry = 0.0
        self._rr = 0
        self._build_history()

    # -- public -------------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The simulated present."""
        return self.clock.now()

    @property
    def personalities(self) -> dict[str, Personality]:
        """Rep key → personality."""
        world = next(iter(self.worlds.values()))
        return {rep.key: kind for rep, kind in world.reps}

    def rep_ids(self, vendor: Vendor, *, active_only: bool = False) -> dict[str, str]:
        """Rep key → the rep's user/owner id in ``vendor``'s org (departed reps too, unless ``active_only``)."""
        world = self.worlds[vendor]
        return {
            rep.key: world.rep_ids[i] for i, (rep, _) in enumerate(world.reps) if not (active_only and i in world.gone)
        }

    def queue_id(self, vendor: Vendor) -> str:
        """The holding queue's id in ``vendor``'s org."""
        return self.worlds[vendor].queue_id

    def tally(self, vendor: Vendor) -> Tally:
        """What has happened so far in ``vendor``'s world."""
        return self.worlds[vendor].tally

    def advance(self, delta: timedelta) -> datetime:
        """Simulate ``delta`` more time (whole hours are simulated as they complete); return the new now."""
        return self.advance_to(self.clock.now() + delta)

    def advance_to(self, until: datetime) -> datetime:
        """Simulate up to ``until`` (never backwards) and leave the clock there."""
        rate = self._live_rate()
        while self.origin + (self._next_hour + 1) * HOUR <= until:
            start = self.origin + self._next_hour * HOUR
            self.clock.set(max(start, self.clock.now()))
            self._step(start, rate)
        self.clock.set(max(until, self.clock.now()))
        if self.sink is not None:
            self.sink.flush()
        return self.clock.now()

    # -- internals ----------------------------------------------------------------------------------------
    def _live_rate(self) -> float:
        daily = self.config.daily_inflow
        if daily is None:
            daily = max(5, self.config.leads // 250)
        return daily / DAY_WEIGHT

    def _build_history(self) -> None:
        hours = int((self.config.now - self.origin) / HOUR)
        total = sum(_hour_weight(self.origin + h * HOUR) for h in range(hours)) or 1.0
        rate = self.config.leads / total
        while self.origin + (self._next_hour + 1) * HOUR <= self.config.now:
            start = self.origin + self._next_hour * HOUR
            self.clock.set(max(start, self.clock.now()))
            self._step(start, rate, cap=self.config.leads)
        missing = self.config.leads - self._made
        if missing > 0:  # rounding left a few: they arrive in the last hour of history
            self._inflow(self.origin + (self._next_hour - 1) * HOUR, missing)
        self.clock.set(max(self.config.now, self.clock.now()))
        if self.sink is not None:
            self.sink.flush()

    def _step(self, start: datetime, rate: float, cap: int | None = None) -> None:
        if start >= self._departure and len(self._active) > self.config.reps:
            self._depart(start)
        self._carry += rate * _hour_weight(start)
        count = int(self._carry)
        self._carry -= count
        if cap is not None:
            count = min(count, cap - self._made)
        if count > 0:
            self._inflow(start, count)
        by_zone = {zone: _works(start, zone) for zone in set(self._zones)}
        working = [by_zone[zone] for zone in self._zones]
        for world in self.worlds.values():
            with world.writer.org.lock:
                world.step(self._next_hour, start, working)
        self._next_hour += 1

    def _depart(self, start: datetime) -> None:
        for rep in self._active[self.config.reps :]:
            for world in self.worlds.values():
                with world.writer.org.lock:
                    world.deactivate(rep, start)
        self._active = self._active[: self.config.reps]

    def _inflow(self, start: datetime, count: int) -> None:
        minutes = sorted(self._people.randrange(60) for _ in range(count))
        for minute in minutes:
            person = make_person(self._people, self._made)
            self._made += 1
            rep = self._active[self._rr % len(self._active)]
            self._rr += 1
            intent = 0.03 + 0.25 * person.score / 100
            at = start + timedelta(minutes=minute)
            for world in self.worlds.values():
                with world.writer.org.lock:
                    world.add_lead(person, rep, at, self._next_hour, intent, attractive(person))


def _works(start: datetime, zone: ZoneInfo) -> bool:
    local = start.astimezone(zone)
    return local.weekday() < 5 and 9 <= local.hour < 17
