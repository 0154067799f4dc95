import { z } from 'zod';
import { DECIMAL_PATTERN, dec, isNegative, isPositive } from '../money/index.ts';

/** Canonical decimal string, the wire and storage form of money and quantities (see money/index.ts). */
export const DecimalString = z
  .string()
  .regex(DECIMAL_PATTERN, { message: 'must be a decimal number written as a string, e.g. "12.5"' });

/** Accepts a finite number or a decimal string at a boundary and yields the canonical decimal string. */
export const DecimalInput = z
  .union([z.number().refine(Number.isFinite, { message: 'must be a finite number' }), z.string().trim()])
  .superRefine((v, ctx) => {
    if (typeof v === 'string' && !DECIMAL_PATTERN.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be a decimal number, e.g. 12.5' });
    }
  })
  .transform((v) => dec(v));

export const PositiveDecimal = DecimalInput.refine(isPositive, { message: 'must be greater than 0' });
export const NonNegativeDecimal = DecimalInput.refine((v) => !isNegative(v), {
  message: 'must not be negative',
});

/** Stocks `AAPL`, `BRK.B`; crypto pairs `BTC/USD`. Upper-cased at the boundary. */
export const TradingSymbol = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9.-]{0,15}(\/[A-Z0-9]{2,10})?$/, {
    message: 'must be a ticker such as AAPL or a pair such as BTC/USD',
  });
export type TradingSymbol = z.infer<typeof TradingSymbol>;

export const TIMEFRAMES = ['1Min', '5Min', '15Min', '30Min', '1Hour', '4Hour', '1Day', '1Week'] as const;
export const Timeframe = z.enum(TIMEFRAMES);
export type Timeframe = z.infer<typeof Timeframe>;

export const TIMEFRAME_MS: Record<Timeframe, number> = {
  '1Min': 60_000,
  '5Min': 300_000,
  '15Min': 900_000,
  '30Min': 1_800_000,
  '1Hour': 3_600_000,
  '4Hour': 14_400_000,
  '1Day': 86_400_000,
  '1Week': 604_800_000,
};

/** ISO-8601 instant with an offset, as every timestamp on the wire. */
export const IsoTime = z.iso.datetime({ offset: true });
/** Accepts an ISO instant or a date (YYYY-MM-DD, read as UTC midnight) and yields an ISO instant. */
export const TimeInput = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((v) => new Date(v.length === 10 ? `${v}T00:00:00Z` : v).toISOString());

export const Side = z.enum(['buy', 'sell']);
export type Side = z.infer<typeof Side>;

export const Id = z.coerce.number().int().positive();

/** Name of a strategy instance, exchange or function: lower-kebab, safe in URLs and subjects. */
export const Slug = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be lower-case letters, digits and dashes' });
