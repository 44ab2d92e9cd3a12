"""The long-running shell: scheduler, leader lease, health and metrics."""
