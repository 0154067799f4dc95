-- The trades list is the API's hottest read (GET /api/trades, keyset pages of up to 500 rows). Building
-- each row's JSON at read time was three quarters of the query's cost, so each trade now stores the JSON
-- object the API sends for it, kept by Postgres itself (a generated column: right for every writer, every
-- update, and the rows already here). The expression must build exactly what json-page.ts's
-- jsonObjectSql(TRADE_FIELDS) builds at read time; shared/test/db/trade-json.test.ts compares the two on
-- awkward rows, so a change to one without the other fails there.
--
-- Generated columns accept only immutable functions. to_char, to_json and numeric → text depend on no
-- setting here (the time is formatted in UTC with fixed patterns, the rest are type output functions),
-- so these wrappers declare what is true of their use.
CREATE FUNCTION weaver_json_text(v text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN to_json(v)::text;

CREATE FUNCTION weaver_json_decimal(v numeric) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN '"' || trim_scale(v)::text || '"';

CREATE FUNCTION weaver_json_time(t timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN '"' || to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"';

-- Every column here is NOT NULL, so no coalesce is needed.
ALTER TABLE trades ADD COLUMN api_json text NOT NULL GENERATED ALWAYS AS (
  '{"id":' || id::text
  || ',"fillId":' || fill_id::text
  || ',"orderId":' || order_id::text
  || ',"strategy":' || weaver_json_text(strategy)
  || ',"symbol":' || weaver_json_text(symbol)
  || ',"side":' || weaver_json_text(side)
  || ',"qty":' || weaver_json_decimal(qty)
  || ',"price":' || weaver_json_decimal(price)
  || ',"fee":' || weaver_json_decimal(fee)
  || ',"realizedPnl":' || weaver_json_decimal(realized_pnl)
  || ',"positionAfter":' || weaver_json_decimal(position_after)
  || ',"executedAt":' || weaver_json_time(executed_at)
  || '}'
) STORED;
