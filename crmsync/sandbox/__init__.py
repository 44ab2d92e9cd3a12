"""Local Salesforce and HubSpot API servers over a simulated sales org, with fault injection and accounting.

See DESIGN §7. The pieces: :mod:`.org` (record store), :mod:`.schema` (fields and wire values),
:mod:`.server` (HTTP plumbing), :mod:`.faults` (seeded fault plans), :mod:`.stats` (request accounting).
"""
