-- Weaver core schema. Money and quantities are numeric (decimal, exact); bar prices are float8 because
-- bars are observations that feed float math (indicators, the backtester), never balances.

CREATE TABLE bars (
  symbol     text             NOT NULL,
  timeframe  text             NOT NULL,
  ts         timestamptz      NOT NULL,
  open       double precision NOT NULL,
  high       double precision NOT NULL,
  low        double precision NOT NULL,
  close      double precision NOT NULL,
  volume     double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (symbol, timeframe, ts),
  -- NaN compares greater than every number in Postgres, so BETWEEN also rejects it.
  CHECK (low > 0 AND high < 'Infinity' AND open BETWEEN low AND high AND close BETWEEN low AND high AND volume >= 0)
);

CREATE TABLE strategies (
  id          bigserial PRIMARY KEY,
  name        text        NOT NULL UNIQUE,
  module      text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  params      jsonb       NOT NULL DEFAULT '{}',
  enabled     boolean     NOT NULL DEFAULT false,
  symbols     text[]      NOT NULL,
  timeframe   text        NOT NULL,
  exchange    text,
  sizing      jsonb       NOT NULL DEFAULT '{"type":"fixed_qty","qty":"1"}',
  exits       jsonb       NOT NULL DEFAULT '{}',
  allow_short boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where generate-signals stopped, per strategy and symbol, so a catch-up evaluates each bar once.
CREATE TABLE strategy_cursors (
  strategy_id   bigint      NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
  symbol        text        NOT NULL,
  last_bar_time timestamptz NOT NULL,
  PRIMARY KEY (strategy_id, symbol)
);

CREATE TABLE signals (
  id            bigserial PRIMARY KEY,
  strategy      text             NOT NULL,
  symbol        text             NOT NULL,
  timeframe     text             NOT NULL,
  bar_time      timestamptz      NOT NULL,
  side          text             NOT NULL CHECK (side IN ('buy', 'sell')),
  price         double precision NOT NULL,
  reason        text,
  status        text             NOT NULL DEFAULT 'new',
  status_reason text,
  created_at    timestamptz      NOT NULL DEFAULT now(),
  UNIQUE (strategy, symbol, timeframe, bar_time)
);
CREATE INDEX signals_status_idx ON signals (status, created_at) WHERE status = 'new';
CREATE INDEX signals_strategy_idx ON signals (strategy, id DESC);

CREATE TABLE orders (
  id                bigserial PRIMARY KEY,
  client_order_id   text        NOT NULL UNIQUE,
  exchange          text        NOT NULL,
  exchange_order_id text,
  strategy          text        NOT NULL,
  signal_id         bigint REFERENCES signals(id),
  symbol            text        NOT NULL,
  side              text        NOT NULL CHECK (side IN ('buy', 'sell')),
  type              text        NOT NULL,
  time_in_force     text        NOT NULL,
  qty               numeric CHECK (qty > 0),
  notional          numeric CHECK (notional > 0),
  limit_price       numeric,
  stop_price        numeric,
  trail_percent     numeric,
  status            text        NOT NULL,
  filled_qty        numeric     NOT NULL DEFAULT 0,
  filled_avg_price  numeric,
  error_code        text,
  error_message     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  submitted_at      timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_open_idx ON orders (status)
  WHERE status NOT IN ('filled', 'canceled', 'expired', 'replaced', 'rejected', 'failed');
CREATE INDEX orders_keyset_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_strategy_idx ON orders (strategy, id DESC);
CREATE INDEX orders_symbol_idx ON orders (symbol, id DESC);
CREATE UNIQUE INDEX orders_signal_side_idx ON orders (signal_id) WHERE signal_id IS NOT NULL;

CREATE TABLE order_status_history (
  id       bigserial PRIMARY KEY,
  order_id bigint      NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  status   text        NOT NULL,
  at       timestamptz NOT NULL DEFAULT now(),
  detail   jsonb
);
CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, id);

CREATE TABLE fills (
  id               bigserial PRIMARY KEY,
  order_id         bigint      NOT NULL REFERENCES orders(id),
  exchange_fill_id text        NOT NULL,
  symbol           text        NOT NULL,
  side             text        NOT NULL,
  qty              numeric     NOT NULL CHECK (qty > 0),
  price            numeric     NOT NULL CHECK (price > 0),
  fee              numeric     NOT NULL DEFAULT 0,
  filled_at        timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, exchange_fill_id)
);

CREATE TABLE trades (
  id             bigserial PRIMARY KEY,
  fill_id        bigint      NOT NULL UNIQUE REFERENCES fills(id),
  order_id       bigint      NOT NULL REFERENCES orders(id),
  strategy       text        NOT NULL,
  symbol         text        NOT NULL,
  side           text        NOT NULL,
  qty            numeric     NOT NULL,
  price          numeric     NOT NULL,
  fee            numeric     NOT NULL DEFAULT 0,
  realized_pnl   numeric     NOT NULL DEFAULT 0,
  position_after numeric     NOT NULL,
  executed_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trades_keyset_idx ON trades (executed_at DESC, id DESC);
CREATE INDEX trades_strategy_idx ON trades (strategy, executed_at DESC, id DESC);
CREATE INDEX trades_symbol_idx ON trades (symbol, executed_at DESC, id DESC);

-- One row per book (strategy instance or "manual") and symbol; qty is signed.
CREATE TABLE positions (
  strategy     text        NOT NULL,
  symbol       text        NOT NULL,
  qty          numeric     NOT NULL DEFAULT 0,
  avg_price    numeric     NOT NULL DEFAULT 0,
  realized_pnl numeric     NOT NULL DEFAULT 0,
  opened_at    timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (strategy, symbol)
);

CREATE TABLE account_snapshots (
  id            bigserial PRIMARY KEY,
  exchange      text        NOT NULL,
  account_id    text,
  currency      text        NOT NULL DEFAULT 'USD',
  cash          numeric     NOT NULL,
  equity        numeric     NOT NULL,
  buying_power  numeric     NOT NULL,
  day_pnl       numeric,
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_snapshots_at_idx ON account_snapshots (exchange, at DESC);

CREATE TABLE backtests (
  id          bigserial PRIMARY KEY,
  sweep_id    bigint,
  name        text,
  status      text        NOT NULL DEFAULT 'queued',
  config      jsonb       NOT NULL,
  metrics     jsonb,
  error       text,
  progress    real        NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz
);
CREATE INDEX backtests_keyset_idx ON backtests (created_at DESC, id DESC);

CREATE TABLE backtest_trades (
  backtest_id bigint           NOT NULL REFERENCES backtests(id) ON DELETE CASCADE,
  seq         integer          NOT NULL,
  symbol      text             NOT NULL,
  side        text             NOT NULL,
  qty         double precision NOT NULL,
  entry_time  timestamptz      NOT NULL,
  entry_price double precision NOT NULL,
  exit_time   timestamptz,
  exit_price  double precision,
  pnl         double precision,
  fees        double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (backtest_id, seq)
);

-- Equity and drawdown series stored as arrays: one row per backtest, read whole for charts.
CREATE TABLE backtest_series (
  backtest_id bigint   PRIMARY KEY REFERENCES backtests(id) ON DELETE CASCADE,
  times       bigint[]            NOT NULL,
  equity      double precision[]  NOT NULL,
  drawdown    double precision[]  NOT NULL
);

CREATE TABLE function_runs (
  id             bigserial PRIMARY KEY,
  function_name  text        NOT NULL,
  correlation_id text,
  trigger        text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  outcome        text        NOT NULL DEFAULT 'running',
  status_code    integer,
  error          text
);
CREATE INDEX function_runs_name_idx ON function_runs (function_name, started_at DESC);

-- Audit log: every event published, in order, with its payload.
CREATE TABLE events (
  id             bigserial PRIMARY KEY,
  event_id       text        NOT NULL UNIQUE,
  type           text        NOT NULL,
  correlation_id text        NOT NULL,
  occurred_at    timestamptz NOT NULL,
  payload        jsonb       NOT NULL
);
CREATE INDEX events_type_idx ON events (type, id DESC);

CREATE TABLE trading_halts (
  id         bigserial PRIMARY KEY,
  scope      text        NOT NULL,
  reason     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  until      timestamptz,
  cleared_at timestamptz
);
CREATE INDEX trading_halts_active_idx ON trading_halts (scope) WHERE cleared_at IS NULL;

-- Small runtime settings the API can change (risk limits, ...), one JSON document per key.
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
