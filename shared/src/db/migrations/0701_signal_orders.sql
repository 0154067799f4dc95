-- A strategy may ask for a limit, stop or stop-limit order instead of a market one (its order() hint).
-- The backtester has always honoured it; live trading now does too: generate-signals stores the hint with
-- the signal and place-order sends that order. NULL means a market order.
ALTER TABLE signals ADD COLUMN order_hint jsonb;
