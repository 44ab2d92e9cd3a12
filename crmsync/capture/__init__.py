"""Activity capture: read reps' mailboxes and calendars, match what is found to leads, hand touches on.

Pipeline: ``imap`` / ``calendar`` (the shell: IMAP and CalDAV/ICS readers, with ``cursors`` saying how far
each source was read) → ``mail`` / ``ical`` (parsing bytes into ``model`` values) → ``matching`` (pure:
participants → leads and reps, skip rules, de-duplication) → ``service`` (one pass: match, store, then move
the cursor). ``settings`` describes the sources. Nothing here logs an address, a subject or a body.
"""
