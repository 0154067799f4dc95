export { createSimExchange, SimExchange, SimOptions, simCash } from './exchange.ts';
export { type MatchBar, type MatchOrder, type MatchResult, matchOnBar } from './matching.ts';
