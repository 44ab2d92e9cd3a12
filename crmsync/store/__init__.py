"""The store: SQLAlchemy models, engines, transactions, repositories and migrations (SQLite, PostgreSQL)."""
