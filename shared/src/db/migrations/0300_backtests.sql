-- Backtests and parameter sweeps (strategies & backtests area, 0300–0399).

CREATE TABLE backtest_sweeps (
  id               bigserial PRIMARY KEY,
  name             text,
  status           text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  request          jsonb       NOT NULL,
  objective        text        NOT NULL,
  total            integer     NOT NULL DEFAULT 0,
  done             integer     NOT NULL DEFAULT 0,
  failed           integer     NOT NULL DEFAULT 0,
  best_backtest_id bigint,
  -- Walk-forward / hold-out folds: windows, chosen parameters, in- and out-of-sample scores.
  folds            jsonb       NOT NULL DEFAULT '[]',
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE INDEX backtest_sweeps_keyset_idx ON backtest_sweeps (created_at DESC, id DESC);

ALTER TABLE backtests
  ADD CONSTRAINT backtests_sweep_fk FOREIGN KEY (sweep_id) REFERENCES backtest_sweeps(id) ON DELETE CASCADE,
  ADD COLUMN role text NOT NULL DEFAULT 'single' CHECK (role IN ('single', 'grid', 'in_sample', 'out_of_sample')),
  ADD COLUMN strategy text GENERATED ALWAYS AS (config->>'strategy') STORED,
  ADD CONSTRAINT backtests_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed'));
CREATE INDEX backtests_sweep_idx ON backtests (sweep_id, id) WHERE sweep_id IS NOT NULL;
CREATE INDEX backtests_strategy_idx ON backtests (strategy, created_at DESC, id DESC);

ALTER TABLE backtest_trades
  ADD COLUMN net_pnl     double precision,
  ADD COLUMN return_pct  double precision,
  ADD COLUMN exit_reason text,
  ADD COLUMN bars        integer NOT NULL DEFAULT 0;

ALTER TABLE backtest_series
  ADD COLUMN benchmark double precision[] NOT NULL DEFAULT '{}',
  -- Daily, weekly and monthly returns: [{ period, return }], a few thousand entries at most.
  ADD COLUMN returns   jsonb   NOT NULL DEFAULT '{"daily":[],"weekly":[],"monthly":[]}',
  ADD COLUMN sampled   boolean NOT NULL DEFAULT false;
