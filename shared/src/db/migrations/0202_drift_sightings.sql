-- What sync-orders' last comparison of the books with the venue found, per (exchange, kind, symbol) that
-- differed. A difference is recorded in exchange_drift (and announced) only when the next run finds the
-- same difference again: a fill the venue made a moment ago and Weaver books a moment later differs for
-- one comparison at most, a real difference stays. Each comparison replaces the rows of its exchange.
CREATE TABLE exchange_drift_sightings (
  exchange   text        NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('position', 'cash')),
  symbol     text        NOT NULL,
  expected   numeric     NOT NULL,
  actual     numeric     NOT NULL,
  difference numeric     NOT NULL,
  seen_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, kind, symbol)
);
