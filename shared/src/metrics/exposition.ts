/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: Weaver's series are computed
 * from the database at scrape time, so a client library's in-process registry would add nothing.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Cumulative counts per upper bound, same order as the family's buckets. */
  buckets: number[];
  sum: number;
  count: number;
}

export interface MetricDefinition {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
  /** Upper bounds (seconds, ascending) of a histogram's buckets; +Inf is implied. */
  buckets?: readonly number[];
}

export type MetricFamily =
  | (MetricDefinition & { type: 'counter' | 'gauge'; samples: Sample[] })
  | (MetricDefinition & { type: 'histogram'; buckets: readonly number[]; samples: HistogramSample[] });

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function check(def: MetricDefinition, labels: Labels): void {
  const names = Object.keys(labels);
  if (names.length !== def.labelNames.length || names.some((n) => !def.labelNames.includes(n))) {
    throw new Error(`${def.name}: labels ${names.join(',')} do not match ${def.labelNames.join(',')}`);
  }
}

/** Renders families as exposition text; a malformed name or label set throws (a bug, not data). */
export function render(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    for (const l of f.labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label ${l}`);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === 'histogram') {
      for (const s of f.samples) {
        check(f, s.labels);
        f.buckets.forEach((le, i) => {
          out.push(
            `${f.name}_bucket${labelText(s.labels, ['le', formatValue(le)])} ${formatValue(s.buckets[i] ?? 0)}`,
          );
        });
        out.push(`${f.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${formatValue(s.count)}`);
        out.push(`${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`);
        out.push(`${f.name}_count${labelText(s.labels)} ${formatValue(s.count)}`);
      }
    } else {
      for (const s of f.samples) {
        check(f, s.labels);
        out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** Every series name a family produces (histograms: _bucket, _sum, _count). */
export function seriesNames(def: MetricDefinition): string[] {
  return def.type === 'histogram'
    ? [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`]
    : [def.name];
}
