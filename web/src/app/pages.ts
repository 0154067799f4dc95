/** The dashboard's sections, in navigation order. */
export const SECTIONS = [
  { path: 'overview', label: 'Overview' },
  { path: 'strategies', label: 'Strategies' },
  { path: 'orders', label: 'Orders & trades' },
  { path: 'backtests', label: 'Backtests' },
  { path: 'market', label: 'Market' },
  { path: 'system', label: 'System' },
] as const;

export type SectionPath = (typeof SECTIONS)[number]['path'];
