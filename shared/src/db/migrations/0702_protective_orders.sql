-- Resting protective orders: a position's stop-loss / trailing stop (and, where the venue has
-- one-cancels-other orders, its take-profit) rest at the venue as one order per book and symbol,
-- replaced as the trailing level moves (pipeline/protect.ts).
ALTER TABLE orders
  ADD COLUMN order_class text NOT NULL DEFAULT 'simple' CHECK (order_class IN ('simple', 'oco')),
  ADD COLUMN protective boolean NOT NULL DEFAULT false,
  -- Which exit a protective order's stop stands for (stop_loss or trailing_stop): what the parity report
  -- and the trade log name when it fills.
  ADD COLUMN stop_rule text CHECK (stop_rule IN ('stop_loss', 'trailing_stop'));

-- At most one live protective order per book and symbol: two would sell the same shares twice.
CREATE UNIQUE INDEX orders_one_protective_idx ON orders (strategy, symbol)
  WHERE protective AND status NOT IN ('filled', 'canceled', 'expired', 'replaced', 'rejected', 'failed');

-- The simulated venue's one-cancels-other exits: one row whose limit_price is the take-profit and
-- stop_price the stop (matching/matching.ts decides which trades first on a bar).
ALTER TABLE sim_orders
  ADD COLUMN order_class text NOT NULL DEFAULT 'simple' CHECK (order_class IN ('simple', 'oco'));
