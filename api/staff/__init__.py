"""The staff side's domain logic: audit log, handoff queue, live catalogue and uploads,
review queue (sync functions over the app database and the index store)."""
