/** A faithful fake of Alpaca's Trading and Market Data REST APIs for tests (see server.ts). */

export { overrideEnv, VenueReply } from '../fake-venue/index.ts';
export { FakeMarket, type FakeSession, NYSE_EARLY_CLOSES, NYSE_HOLIDAYS } from './market.ts';
export {
  FakeAlpaca,
  type FakeAlpacaOptions,
  type Fault,
  type FaultMode,
  type RequestRecord,
} from './server.ts';
export { type FakeAsset, FakeTrading } from './trading.ts';
