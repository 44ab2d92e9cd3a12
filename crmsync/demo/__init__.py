"""`crmsync demo`: the sandbox team without and with crmsync, side by side (see runner.py)."""
