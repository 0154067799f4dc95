/**
 * Command-line flags of the backtest commands (backtest, sweep, import-bars, parity): `--key value`,
 * `--key=value`, repeatable keys and boolean switches, turned into the same JSON the API takes, so
 * the one zod schema (shared/schemas) validates both and names the field.
 */

export interface FlagSpec {
  /** Flags taking a value. */
  valued: readonly string[];
  /** Flags that may repeat (collected into an array). */
  repeated?: readonly string[];
  /** Switches without a value. */
  switches?: readonly string[];
  /** How many positional arguments are allowed. */
  positional?: number;
}

export interface Flags {
  values: Record<string, string>;
  lists: Record<string, string[]>;
  switches: Set<string>;
  positional: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function readFlags(argv: readonly string[], spec: FlagSpec): Flags {
  const out: Flags = { values: {}, lists: {}, switches: new Set(), positional: [] };
  const valued = new Set([...spec.valued, ...(spec.repeated ?? [])]);
  const switches = new Set(spec.switches ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (out.positional.length >= (spec.positional ?? 0)) throw new UsageError(`unexpected argument "${a}"`);
      out.positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (switches.has(key)) {
      if (inline !== undefined) throw new UsageError(`--${key} takes no value`);
      out.switches.add(key);
    } else if (valued.has(key)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--')))
        throw new UsageError(`--${key} needs a value`);
      if (spec.repeated?.includes(key)) {
        out.lists[key] ??= [];
        out.lists[key].push(v);
      } else if (key in out.values) throw new UsageError(`--${key} is given twice`);
      else out.values[key] = v;
    } else throw new UsageError(`unknown option --${key}`);
  }
  return out;
}

/** A flag's text as JSON when it is a number, boolean or null; as the plain string otherwise. */
export function scalar(text: string): unknown {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === 'null') return null;
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}

/** `--param fast=10 --param slow=30` → { fast: 10, slow: 30 }. */
export function keyValues(list: readonly string[] | undefined, flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} takes name=value, not "${item}"`);
    out[item.slice(0, eq).trim()] = scalar(item.slice(eq + 1));
  }
  return out;
}

export const csvList = (s: string | undefined): string[] | undefined =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

const number = (v: string | undefined): number | string | undefined =>
  v === undefined ? undefined : Number.isFinite(Number(v)) && v.trim() !== '' ? Number(v) : v;

/**
 * `--commission`: 0 (none), 0.1% (of the notional), 0.005/share or 0.005/share,min=1, 1/order.
 * Something else is passed through for the schema to refuse with the field named.
 */
export function commissionOf(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^0+(\.0+)?%?$/.test(t)) return { type: 'none' };
  let m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m) return { type: 'percent', percent: Number(m[1]) };
  m = /^(\d+(?:\.\d+)?)\/share(?:,min=(\d+(?:\.\d+)?))?$/.exec(t);
  if (m) return { type: 'per_share', perShare: Number(m[1]), minimum: m[2] ? Number(m[2]) : 0 };
  m = /^(\d+(?:\.\d+)?)\/order$/.exec(t);
  if (m) return { type: 'fixed', perOrder: Number(m[1]) };
  return t;
}

/** The simulation flags every backtest command shares. */
export const SIMULATION_FLAGS = [
  'timeframe',
  'from',
  'to',
  'cash',
  'qty',
  'notional',
  'percent',
  'commission',
  'slippage-bps',
  'fill',
  'stop-loss',
  'take-profit',
  'trailing-stop',
  'order-type',
  'limit-offset-bps',
  'stop-offset-bps',
  'tif',
  'calendar',
  'risk-free',
] as const;

export const SIMULATION_SWITCHES = ['short', 'fractional'] as const;

export const SIMULATION_USAGE = `  --timeframe TF        1Min, 5Min, 15Min, 30Min, 1Hour, 4Hour, 1Day (default), 1Week
  --from DATE --to DATE first and last bar traded (bars before --from only warm the strategy up)
  --cash N              starting cash (default 100000)
  --qty N | --notional N | --percent N
                        size per entry: units, money, or percent of equity (default --qty 1)
  --fractional          allow fractional units for --notional/--percent
  --commission C        0, 0.1% (of notional), 0.005/share[,min=1], 1/order (default 0)
  --slippage-bps N      adverse slippage on market and stop fills, within the bar's range
  --fill WHEN           next_open (default), next_close, close
  --short               a SELL may open a short
  --stop-loss F --take-profit F --trailing-stop F
                        exits as fractions of the entry price, e.g. 0.05
  --order-type T        market (default), limit, stop, stop_limit; with --limit-offset-bps N,
                        --stop-offset-bps N (from the decision close) and --tif day|gtc
  --calendar C          stocks or crypto annualisation (default from the symbols)
  --risk-free R         annual risk-free rate for Sharpe/Sortino, e.g. 0.02`;

/** The simulation settings from flags, as the API's JSON (validated later by the schema). */
export function simulationOf(f: Flags): Record<string, unknown> {
  const v = f.values;
  const sizes = (['qty', 'notional', 'percent'] as const).filter((k) => v[k] !== undefined);
  if (sizes.length > 1)
    throw new UsageError(
      `give one of --qty, --notional, --percent (not ${sizes.map((s) => `--${s}`).join(' and ')})`,
    );
  const sizing =
    v.qty !== undefined
      ? { type: 'fixed_qty', qty: v.qty }
      : v.notional !== undefined
        ? { type: 'fixed_notional', notional: v.notional }
        : v.percent !== undefined
          ? { type: 'percent_equity', percent: number(v.percent) }
          : undefined;
  const exits: Record<string, unknown> = {};
  if (v['stop-loss'] !== undefined) exits.stopLoss = number(v['stop-loss']);
  if (v['take-profit'] !== undefined) exits.takeProfit = number(v['take-profit']);
  if (v['trailing-stop'] !== undefined) exits.trailingStop = number(v['trailing-stop']);
  const order =
    v['order-type'] || v['limit-offset-bps'] || v['stop-offset-bps'] || v.tif
      ? {
          type: v['order-type'] ?? 'market',
          limitOffsetBps: number(v['limit-offset-bps']) ?? 0,
          stopOffsetBps: number(v['stop-offset-bps']) ?? 0,
          timeInForce: v.tif ?? 'gtc',
        }
      : undefined;
  const out: Record<string, unknown> = {
    timeframe: v.timeframe,
    from: v.from,
    to: v.to,
    cash: number(v.cash),
    sizing,
    fractional: f.switches.has('fractional') || undefined,
    commission: commissionOf(v.commission),
    slippageBps: number(v['slippage-bps']),
    fillAt: v.fill,
    allowShort: f.switches.has('short') || undefined,
    exits: Object.keys(exits).length ? exits : undefined,
    order,
    calendar: v.calendar,
    riskFreeRate: number(v['risk-free']),
  };
  return Object.fromEntries(Object.entries(out).filter(([, x]) => x !== undefined));
}

/** Schema field paths back to the flag a person typed, for error messages. */
export function flagOf(field: string): string {
  const map: Record<string, string> = {
    cash: '--cash',
    'sizing.qty': '--qty',
    'sizing.notional': '--notional',
    'sizing.percent': '--percent',
    commission: '--commission',
    slippageBps: '--slippage-bps',
    fillAt: '--fill',
    'exits.stopLoss': '--stop-loss',
    'exits.takeProfit': '--take-profit',
    'exits.trailingStop': '--trailing-stop',
    'order.type': '--order-type',
    'order.timeInForce': '--tif',
    timeframe: '--timeframe',
    from: '--from',
    to: '--to',
    strategy: '--strategy',
    symbols: '--symbols',
    calendar: '--calendar',
    riskFreeRate: '--risk-free',
  };
  if (map[field]) return map[field];
  if (field.startsWith('params.')) return `--param ${field.slice(7)}`;
  if (field.startsWith('symbols.')) return `--symbols (${field.slice(8)})`;
  if (field.startsWith('commission')) return '--commission';
  return field;
}
