// The OpenFaaS entry of the function `gateway` (stack.yml): the node template calls handler(event, context).
import { createFaasHandler } from './src/faas.ts';

export default createFaasHandler();
