"""The seeded sales-floor simulation: determinism, personalities, reaction to reassignment, capture output."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from crmsync.domain.model import Vendor
from crmsync.sandbox.people import BIG_COMPANY, SENIOR, TITLES
from crmsync.sandbox.simulation import Simulation, SimulationConfig
from crmsync.sandbox.world import Personality

SMALL = SimulationConfig(leads=1500, reps=5, seed=3, history_days=60)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return Simulation(SMALL)


def _leads(sim: Simulation) -> list[dict[str, object]]:
    return sim.orgs[Vendor.SALESFORCE].rows("Lead")


def test_same_seed_same_org_and_history() -> None:
    """Two simulations with one seed produce identical leads, activities and tallies; another seed differs."""
    one, two = Simulation(SMALL), Simulation(SMALL)
    assert _leads(one) == _leads(two)
    assert one.orgs[Vendor.SALESFORCE].rows("Task") == two.orgs[Vendor.SALESFORCE].rows("Task")
    assert one.tally(Vendor.HUBSPOT) == two.tally(Vendor.HUBSPOT)
    other = Simulation(SimulationConfig(leads=1500, reps=5, seed=4, history_days=60))
    assert [r["Email"] for r in _leads(other)] != [r["Email"] for r in _leads(one)]


def test_exact_lead_count_spread_over_history(sim: Simulation) -> None:
    """Exactly `leads` leads exist at `now`, created across the history window, none in the future."""
    leads = _leads(sim)
    assert len(leads) == 1500
    created = sorted(r["CreatedDate"] for r in leads)  # type: ignore[type-var]
    assert sim.now == SMALL.now
    assert created[0] < SMALL.now - timedelta(days=50)
    assert created[-1] <= SMALL.now


def test_both_vendors_see_the_same_floor(sim: Simulation) -> None:
    """The HubSpot portal holds the same people and the same amount of work as the Salesforce org."""
    sf, hs = sim.orgs[Vendor.SALESFORCE], sim.orgs[Vendor.HUBSPOT]
    assert [r["Email"] for r in sf.rows("Lead")] == [r["email"] for r in hs.rows("contacts")]
    assert sim.tally(Vendor.SALESFORCE) == sim.tally(Vendor.HUBSPOT)
    assert sf.count("Event") == hs.count("meetings")
    assert sf.count("Task", include_deleted=True) == hs.count("calls") + hs.count("emails")


def test_personalities_behave(sim: Simulation) -> None:
    """A rep on leave touches nothing; a cherry-picker touches only big companies and senior titles."""
    kinds = sim.personalities
    assert kinds == {"rep1": Personality.DILIGENT, "rep2": Personality.CHERRY_PICKER, "rep3": Personality.OVERLOADED,
                     "rep4": Personality.DILIGENT, "rep5": Personality.ON_LEAVE,
                     "former1": Personality.DEPARTED}  # fmt: skip
    by_rep = sim.tally(Vendor.SALESFORCE).by_rep
    assert "rep5" not in by_rep
    assert by_rep["rep1"]["touches"] > by_rep["rep3"]["touches"]
    org, ids = sim.orgs[Vendor.SALESFORCE], sim.rep_ids(Vendor.SALESFORCE)
    seniority = dict(TITLES)
    picked = {str(t["WhoId"]) for t in org.rows("Task") if t["OwnerId"] == ids["rep2"]}
    assert picked
    for lead_id in picked:
        lead = org.get("Lead", lead_id)
        assert lead is not None
        assert int(lead["NumberOfEmployees"]) >= BIG_COMPANY or seniority[str(lead["Title"])] >= SENIOR


def test_departed_rep_is_deactivated_and_keeps_leads(sim: Simulation) -> None:
    """The former rep is inactive (HubSpot: archived owner), out of the round robin, still owning open leads."""
    sf, hs = sim.orgs[Vendor.SALESFORCE], sim.orgs[Vendor.HUBSPOT]
    former = sim.rep_ids(Vendor.SALESFORCE)["former1"]
    assert sf.value("User", former, "IsActive") is False
    assert hs.is_deleted("owners", sim.rep_ids(Vendor.HUBSPOT)["former1"])
    assert "former1" not in sim.rep_ids(Vendor.SALESFORCE, active_only=True)
    owned = [sf.get("Lead", rid) for rid in sf.find("Lead", "OwnerId", former)]
    halfway = SMALL.now - timedelta(days=SMALL.history_days / 2)
    assert owned
    assert all(lead is not None and lead["CreatedDate"] < halfway for lead in owned)
    assert any(lead is not None and lead["Status"] == "Open - Not Contacted" for lead in owned) or any(
        lead is not None and str(lead["Status"]).startswith("Working") for lead in owned
    )
    late = [t for t in sf.rows("Task") if t["OwnerId"] == former and t["CreatedDate"] >= halfway]
    assert late == []


def test_timely_work_makes_more_pipeline(sim: Simulation) -> None:
    """Diligent reps turn their leads into more replies and conversions than the overloaded rep."""
    by_rep = sim.tally(Vendor.SALESFORCE).by_rep
    diligent = by_rep["rep1"].get("replies", 0) + by_rep["rep4"].get("replies", 0)
    assert diligent / 2 > by_rep["rep3"].get("replies", 0)
    assert by_rep["rep1"].get("conversions", 0) + by_rep["rep4"].get("conversions", 0) > by_rep["rep3"].get(
        "conversions", 0
    )


def test_reassigned_lead_is_worked_by_its_new_owner() -> None:
    """A lead moved off the rep on leave through the org is touched by its new owner within a working day."""
    sim = Simulation(SMALL)
    org, ids = sim.orgs[Vendor.SALESFORCE], sim.rep_ids(Vendor.SALESFORCE)
    stuck = next(r["Id"] for r in org.rows("Lead") if r["OwnerId"] == ids["rep5"])
    assert org.find("Task", "WhoId", stuck) == []
    org.update("Lead", str(stuck), {"OwnerId": ids["rep1"]})
    sim.advance(timedelta(days=1))
    assert org.value("Lead", str(stuck), "Status") == "Working - Contacted"
    tasks = [org.get("Task", t) for t in org.find("Task", "WhoId", stuck)]
    assert {t["OwnerId"] for t in tasks if t} <= {ids["rep1"]}


def test_advance_adds_inflow_and_moves_clock(sim: Simulation) -> None:
    """Advancing a business day adds leads and moves the clock; advancing to the past changes nothing."""
    before = sim.orgs[Vendor.SALESFORCE].count("Lead")
    now = sim.advance(timedelta(days=1))
    assert now == SMALL.now + timedelta(days=1)
    assert sim.orgs[Vendor.SALESFORCE].count("Lead") > before
    assert sim.advance_to(now - timedelta(hours=5)) == now


def test_mail_and_meetings_written_for_capture(tmp_path: Path) -> None:
    """Reps' sent mail lands in Maildir .Sent with the logged Task's external id as Message-ID; meetings in ICS."""
    config = SimulationConfig(leads=200, reps=3, seed=5, history_days=20, maildir=tmp_path / "mail",
                              ics_dir=tmp_path / "ics", vendors=(Vendor.SALESFORCE,))  # fmt: skip
    sim = Simulation(config)
    org = sim.orgs[Vendor.SALESFORCE]
    rep = sim.worlds[Vendor.SALESFORCE].reps[0][0]
    sent = mailbox.Maildir(tmp_path / "mail" / rep.email / "Maildir", create=False).get_folder("Sent")
    ids = {m["Message-ID"] for m in sent}
    assert ids
    logged = {t["Crmsync_External_Id__c"] for t in org.rows("Task") if t["TaskSubtype"] == "Email"}
    assert ids & logged
    assert ids - logged  # some emails were never logged in the CRM: capture has work to do
    cal = Calendar.from_ical((tmp_path / "ics" / f"{rep.email}.ics").read_bytes())
    uids = {str(e["UID"]) for e in cal.walk("VEVENT")}
    rep1 = sim.rep_ids(Vendor.SALESFORCE)["rep1"]
    events = {str(e["Crmsync_External_Id__c"]).strip("<>") for e in org.rows("Event") if e["OwnerId"] == rep1}
    assert uids == events


def test_bad_config_is_refused() -> None:
    """A naive `now` or zero reps is refused."""
    with pytest.raises(ValueError, match="aware"):
        Simulation(SimulationConfig(reps=0))
    with pytest.raises(ValueError, match="aware"):
        Simulation(SimulationConfig(now=datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)))
