// The OpenFaaS entry of the function `gateway` (stack.yml): the node template calls handler(event, context).
// `fetch` answers plain Web requests with the same app, for hosts that can stream (the local runner).
import { createGateway, type Gateway } from './src/app.ts';
import { createFaasHandler } from './src/faas.ts';

let gateway: Gateway | undefined;
// Built on first use, so a bad setting is answered rather than thrown at import.
const shared = (): Gateway => {
  gateway ??= createGateway();
  return gateway;
};

export default createFaasHandler(shared);

export function fetch(request: Request): Promise<Response> {
  return shared().fetch(request);
}

/** Ends open event streams and backtest workers (the runner's shutdown). */
export async function close(): Promise<void> {
  await gateway?.close();
  gateway = undefined;
}
