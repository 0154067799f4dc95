-- Until this release the cash baseline (0201) was taken on the first sync-orders run whatever was in
-- flight: a fill the venue had made but Weaver had not booked yet went into it, and from then on every
-- comparison showed that fill's amount as cash drift. The baseline is derived data (the venue's cash less
-- the flows of Weaver's trades at one moment), so it is dropped here and sync-orders takes it again at the
-- next quiet moment — no order of ours open at the venue, nothing left to book — when it is exact.
-- Open cash drift was measured against the dropped baseline and means nothing now: it is closed (the rows
-- stay as history). Position drift does not depend on the baseline and is left to the next comparison.
DELETE FROM exchange_sync_state;
UPDATE exchange_drift SET resolved_at = now() WHERE kind = 'cash' AND resolved_at IS NULL;
