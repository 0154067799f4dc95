/**
 * Response types the schemas module defines as zod schemas without a named type. Derived, never re-typed:
 * a change to a schema in shared/ changes these too.
 */
import type * as S from '@weaver/shared/schemas';
import type { z } from 'zod';

export type PositionList = z.output<typeof S.PositionList>;
export type StrategyModuleList = z.output<typeof S.StrategyModuleList>;
export type PnlBucket = z.output<typeof S.PnlBucket>;
export type Ok = z.output<typeof S.Ok>;
