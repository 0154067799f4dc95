-- The simulated exchange's own books. They are the venue's state, not Weaver's: the pipeline reads them
-- only through the ExchangeAdapter interface, exactly as it reads Alpaca.

CREATE TABLE sim_accounts (
  account      text        PRIMARY KEY,
  currency     text        NOT NULL DEFAULT 'USD',
  cash         numeric     NOT NULL,
  initial_cash numeric     NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sim_orders (
  id               bigserial   PRIMARY KEY,
  account          text        NOT NULL REFERENCES sim_accounts(account) ON DELETE CASCADE,
  client_order_id  text        NOT NULL,
  symbol           text        NOT NULL,
  side             text        NOT NULL CHECK (side IN ('buy', 'sell')),
  type             text        NOT NULL CHECK (type IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
  time_in_force    text        NOT NULL CHECK (time_in_force IN ('day', 'gtc', 'ioc', 'fok')),
  qty              numeric     CHECK (qty > 0),
  notional         numeric     CHECK (notional > 0),
  limit_price      numeric     CHECK (limit_price > 0),
  stop_price       numeric     CHECK (stop_price > 0),
  trail_percent    numeric     CHECK (trail_percent > 0),
  status           text        NOT NULL,
  filled_qty       numeric     NOT NULL DEFAULT 0,
  filled_notional  numeric     NOT NULL DEFAULT 0,
  fee              numeric     NOT NULL DEFAULT 0,
  -- Matching reads bars of this timeframe newer than after_ts that were still open at submitted_at.
  match_timeframe  text        NOT NULL,
  after_ts         timestamptz NOT NULL,
  -- Stop and trailing-stop state carried between bars.
  stop_triggered   boolean     NOT NULL DEFAULT false,
  trail_extreme    double precision,
  -- Last bar this order was matched against, so each bar is used once.
  matched_through  timestamptz,
  expires_at       timestamptz,
  reason           text,
  submitted_at     timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  filled_at        timestamptz,
  CHECK ((qty IS NULL) <> (notional IS NULL)),
  UNIQUE (account, client_order_id)
);
CREATE INDEX sim_orders_open_idx ON sim_orders (account, id) WHERE status IN ('new', 'partially_filled');

CREATE TABLE sim_positions (
  account         text    NOT NULL REFERENCES sim_accounts(account) ON DELETE CASCADE,
  symbol          text    NOT NULL,
  qty             numeric NOT NULL,
  avg_entry_price numeric NOT NULL,
  PRIMARY KEY (account, symbol)
);

CREATE TABLE sim_fills (
  id       bigserial   PRIMARY KEY,
  order_id bigint      NOT NULL REFERENCES sim_orders(id) ON DELETE CASCADE,
  qty      numeric     NOT NULL CHECK (qty > 0),
  price    numeric     NOT NULL CHECK (price > 0),
  fee      numeric     NOT NULL DEFAULT 0,
  bar_ts   timestamptz NOT NULL,
  at       timestamptz NOT NULL
);
CREATE INDEX sim_fills_order_idx ON sim_fills (order_id, id);
