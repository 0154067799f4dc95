-- Exchanges and market data.

-- Which stretches of a series were downloaded from which venue, as bar start times [start_ts, end_ts]:
-- every bar the venue has in a covered stretch is stored, and a stretch without bars (a quiet market,
-- a holiday) is known to be empty rather than missing. A download resumes at the first uncovered
-- instant, so an interrupted run continues where it stopped and nothing is fetched twice.
CREATE TABLE bar_coverage (
  exchange   text        NOT NULL,
  symbol     text        NOT NULL,
  timeframe  text        NOT NULL,
  start_ts   timestamptz NOT NULL,
  end_ts     timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_ts >= start_ts)
);
CREATE INDEX bar_coverage_series_idx ON bar_coverage (exchange, symbol, timeframe, start_ts);

-- Differences between Weaver's books and what the exchange reports (the exchange is the truth). One
-- open row per (exchange, kind, symbol) while the difference lasts; resolved_at is set when it is gone.
-- kind 'position': symbol is the instrument; kind 'cash': symbol is the account currency.
CREATE TABLE exchange_drift (
  id           bigserial PRIMARY KEY,
  exchange     text        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('position', 'cash')),
  symbol       text        NOT NULL,
  expected     numeric     NOT NULL,
  actual       numeric     NOT NULL,
  difference   numeric     NOT NULL,
  detected_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE UNIQUE INDEX exchange_drift_open_idx ON exchange_drift (exchange, kind, symbol) WHERE resolved_at IS NULL;
CREATE INDEX exchange_drift_keyset_idx ON exchange_drift (detected_at DESC, id DESC);
