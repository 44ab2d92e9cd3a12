"""Reports for sales and marketing leaders (DESIGN §3.8).

``compute`` turns plain facts read from the store into figures (pure); ``load`` reads those facts for a period
(shell); ``render_*`` turn a :class:`~crmsync.reports.compute.Report` into a terminal table, CSV, JSON or one
self-contained HTML page; ``weekly`` writes the weekly HTML page the daemon and the demo publish.
"""
