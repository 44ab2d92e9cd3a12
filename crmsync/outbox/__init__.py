"""The outbox: every decided action is stored with an idempotency key before anything is sent."""
