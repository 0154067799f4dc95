// Worker threads do not inherit the TypeScript loader of the thread that starts them: register tsx's
// loader here, then load the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
