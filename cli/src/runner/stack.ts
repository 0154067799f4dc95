/**
 * stack.yml as the runner and `weaver build` use it: the shared parser (@weaver/shared/stack), plus where
 * each function's TypeScript source lives in this repository, which only the tools that import or bundle
 * that source need to know.
 */
import { join } from 'node:path';
import {
  loadStack as loadSharedStack,
  type Stack as SharedStack,
  type StackFunction as SharedStackFunction,
} from '@weaver/shared/stack';

export {
  CRON_TOPIC,
  checkSchedule,
  FUNCTION_ENV_KEYS,
  parseBytes,
  parseDuration,
  StackError,
  substituteEnv,
  type Trigger,
} from '@weaver/shared/stack';

export interface StackFunction extends SharedStackFunction {
  /** The TypeScript module whose default export is the OpenFaaS handler. */
  source: string;
}

export interface Stack extends Omit<SharedStack, 'functions'> {
  functions: StackFunction[];
}

/** Where a function's TypeScript source is, by convention. */
export function sourceOf(root: string, name: string): string {
  return name === 'gateway'
    ? join(root, 'gateway', 'handler.ts')
    : join(root, 'functions', name, 'handler.ts');
}

export function loadStack(file: string, env: NodeJS.ProcessEnv = process.env): Stack {
  const stack = loadSharedStack(file, env);
  return {
    ...stack,
    functions: stack.functions.map((f) => ({ ...f, source: sourceOf(stack.root, f.name) })),
  };
}
