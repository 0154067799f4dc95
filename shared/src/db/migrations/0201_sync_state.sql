-- Cash reconciliation per venue. The first sync-orders run records the venue's cash less the cash flow
-- of every trade Weaver had booked there: the baseline. From then on the cash Weaver expects is the
-- baseline plus the flows of all trades booked at the venue, so a fill booked late still counts and
-- anything else (deposits, fees the venue does not report per order, a lost fill) shows as cash drift.
CREATE TABLE exchange_sync_state (
  exchange      text PRIMARY KEY,
  currency      text        NOT NULL,
  cash_baseline numeric     NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  synced_at     timestamptz NOT NULL DEFAULT now()
);
