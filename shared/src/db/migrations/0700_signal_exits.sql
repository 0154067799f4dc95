-- A strategy's exits (stop-loss, take-profit, trailing stop) act in live trading too: generate-signals
-- checks each new bar against the open position's levels and stores an exit signal, which place-order
-- turns into an order that only closes the position. The column says which exit it was.
ALTER TABLE signals
  ADD COLUMN exit_rule text CHECK (exit_rule IN ('stop_loss', 'take_profit', 'trailing_stop'));
