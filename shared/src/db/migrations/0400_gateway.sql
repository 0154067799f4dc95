-- Gateway: what the API's lists and the event stream need from the core tables.

-- Without NATS the event stream resumes from the audit log. Ids are taken when a row is inserted but
-- become visible when its transaction commits, so a reader walking `id > last` could step past a row
-- that commits later with a lower id. The stream walks (txid, id) instead and only past transactions
-- older than every one still running (pg_snapshot_xmin): once there, nothing can appear behind it.
ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_commit_order_idx ON events (txid, id);

-- Newest-first keyset pages of the API (GET /api/signals, /api/system/runs).
CREATE INDEX signals_keyset_idx ON signals (created_at DESC, id DESC);
CREATE INDEX function_runs_keyset_idx ON function_runs (started_at DESC, id DESC);
