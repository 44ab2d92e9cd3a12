"""CRM adapters behind one port (``ports.py``): Salesforce, HubSpot and the in-process sandbox.

Modules::

    ports.py       the seam: CrmPort, Page, Watermark, Skip, Outcome(Status), Budget, PullObject
    config.py      ConnectionSettings (pydantic; secrets inline, *_file or *_env), load_connection(s)
    factory.py     connect(settings, clock=, fields=, ledger=, sleep=) -> adapter; pull_until(now)
    salesforce.py  SalesforceCrm (simple-salesforce on a timeout Session; sf_auth.py logs in: jwt,
                   client_credentials, password (SOAP, deprecated), session)
    hubspot.py     HubSpotCrm (hs_client.py: API objects built once; hs_writes.py: batches, 207s, ledger)
    sandbox.py     InProcessCrm: the port straight over a sandbox Org, no HTTP (benchmarks, demo)
    mapping.py     PURE: vendor payloads -> Lead/Owner/Activity or Skip; FieldMap; key helpers
    writes.py      PURE: Action -> SfWrite / HsWrite
    translate.py   vendor exceptions -> crmsync errors; per-record codes -> Outcome
    retry.py       the one tenacity policy (injectable sleep)
    budget.py      ApiBudget: quota headers, priority reserve, burst/search throttle
    ledger.py      ActivityLedger protocol (the store implements it) + InMemoryLedger
    doctor.py      checks and setup behind ``crmsync doctor`` / ``crmsync setup``

How the sync stage uses an adapter (one connection)::

    crm = connect(settings, clock=clock, fields=policy.fields.as_mapping(), ledger=store_ledger)
    until = pull_until(clock.now())                    # windows close 5 minutes before the run
    for page in crm.pull_leads(store.watermark(conn, PullObject.LEADS), until):
        with store.transaction():                      # rows and watermark commit together
            store.upsert_leads(page.records); store.count_skips(page.skipped)
            if page.watermark is not None:             # None: nothing to advance yet (keep the old one)
                store.set_watermark(conn, PullObject.LEADS, page.watermark)
    # pull_activities(watermark, until) likewise; pull_owners() has no watermark (owners are few).

Watermarks are the adapter's own: store ``instant`` and ``last_id`` as given and hand them back unchanged
(HubSpot encodes its window end in ``last_id``). Re-pulling a window is harmless: rows are upserts.

How the dispatcher uses it::

    if not crm.allow(priority):  ...stop leasing this priority (budget reserve reached)...
    owners = crm.current_owners([a.lead.lead_id for a in batch])     # one read; absent = lead gone
    outcomes = crm.apply(batch)      # len(batch) <= crm.batch_size(batch[0]); one Outcome each, in order
    # DONE / RETRY (retry_after may be set) / DEAD (CRM's code + message) / SKIPPED (deleted, converted)

``apply`` never raises for a failed call: a whole-call failure becomes that outcome for every action (e.g.
RETRY with code ``REQUEST_LIMIT_EXCEEDED`` or ``BUDGET_RESERVE``). The ``pull_*`` methods and
``current_owners`` raise only :mod:`crmsync.errors` classes: ``AuthError``/``FatalError`` (stop the
connection), ``RetriableError`` incl. ``RateLimitedError``/``BudgetExhaustedError`` (end the cycle, try later).
Tasks and logged activities are idempotent (Salesforce upsert on ``Crmsync_External_Id__c``; HubSpot ledger
plus reconciliation by the unique ``crmsync_external_id`` property), so the outbox may resend them freely.
"""
