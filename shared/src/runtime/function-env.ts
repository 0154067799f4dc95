import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The environment of the function being invoked. Under faasd each function is its own process and this
 * is process.env. The local runner hosts every function in one process, so it runs each invocation
 * inside `withFunctionEnvironment(stack.yml's environment for that function)`; per-function settings
 * (MAX_JSON_SIZE, …) then read the right value without touching the shared process.env.
 */
const scope = new AsyncLocalStorage<Readonly<Record<string, string>>>();

export function withFunctionEnvironment<T>(environment: Readonly<Record<string, string>>, run: () => T): T {
  return scope.run(environment, run);
}

export function functionEnv(name: string): string | undefined {
  return scope.getStore()?.[name] ?? process.env[name];
}
