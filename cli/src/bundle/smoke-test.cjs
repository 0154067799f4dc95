'use strict';
// The bundle's `npm test`, which the node22 template runs inside the function folder while building the
// image: handler.js must load with no node_modules, no tsx and no database, export the handler function
// itself (index.js calls require('./function/handler') directly), and answer the template's
// event/context contract. A malformed body is rejected before any database or bus is touched, so a 4xx
// here proves all of that without services.
const assert = require('node:assert');
const name = require('./package.json').name;
// No database exists at image build, so there is nothing to migrate: a handler that migrates on its cold
// start (WEAVER_AUTO_MIGRATE, the gateway before routing) must not make the check about that.
process.env.WEAVER_AUTO_MIGRATE = 'false';
const handler = require('./handler.js');

assert.strictEqual(typeof handler, 'function', `${name}: handler.js must export the handler function`);

let status = 200;
let sent;
let called = false;
const context = {
  status(code) {
    status = code;
    return context;
  },
  headers() {
    return context;
  },
  succeed(value) {
    called = true;
    sent = value;
  },
  fail(err) {
    called = true;
    if (status === 200) status = 500;
    sent = err;
  },
};
const event = {
  body: '{"this is": not json',
  headers: { 'content-type': 'text/plain' },
  method: 'POST',
  query: {},
  path: '/',
};

Promise.resolve(handler(event, context, () => {}))
  .then((result) => {
    const body = called ? sent : result;
    assert.ok(
      status >= 400 && status < 500,
      `${name}: expected a 4xx for a malformed body, got ${status} ${JSON.stringify(body)}`,
    );
    console.log(`${name}: bundle loads and answers ${status} to a malformed request`);
    // Nothing was opened, but a handler may keep timers (pools) alive: the check is done.
    process.exit(0);
  })
  .catch((err) => {
    console.error(`${name}: handler threw`, err);
    process.exit(1);
  });
