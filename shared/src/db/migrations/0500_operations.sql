-- Operations: counters that must survive the process that incremented them, and the notification log.

-- Functions run as separate, short-lived processes under faasd, so a count kept in memory (exchange
-- retries, errors) would vanish with each replica; increments land here and /metrics reads them.
CREATE TABLE metric_counters (
  name       text        NOT NULL,
  labels     jsonb       NOT NULL DEFAULT '{}',
  value      bigint      NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, labels)
);

-- One row per notification and channel. The dedupe key makes a redelivered event (or a second daily
-- summary for the same day) a no-op for the channels that already received it.
CREATE TABLE notifications (
  id          bigserial PRIMARY KEY,
  dedupe_key  text        NOT NULL,
  channel     text        NOT NULL,
  kind        text        NOT NULL,
  title       text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts    integer     NOT NULL DEFAULT 0,
  error       text,
  correlation_id text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  UNIQUE (dedupe_key, channel)
);
CREATE INDEX notifications_keyset_idx ON notifications (created_at DESC, id DESC);
