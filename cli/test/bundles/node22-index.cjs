'use strict';
// What the official OpenFaaS node22 template's index.js does around a function (openfaas/templates,
// template/node22/index.js), rewritten for the bundle tests because no Docker engine runs here: an Express 5
// app, body-parser for text/*, JSON (limit MAX_JSON_SIZE, 100kb by default) and urlencoded bodies (raw when
// RAW_BODY=true), a missing content-type read as text/plain, `require('./function/handler')`, and
// handler(event, context, cb) with the template's event, context and answer rules.
const express = require('express');
const bodyParser = require('body-parser');
const handler = require('./function/handler');

const app = express();
app.disable('x-powered-by');
const defaultMaxSize = '100kb';

app.use((req, _res, next) => {
  if (!req.headers['content-type']) req.headers['content-type'] = 'text/plain';
  next();
});
if (process.env.RAW_BODY === 'true') {
  app.use(bodyParser.raw({ type: '*/*', limit: process.env.MAX_RAW_SIZE || defaultMaxSize }));
} else {
  app.use(bodyParser.text({ type: 'text/*' }));
  app.use(bodyParser.json({ limit: process.env.MAX_JSON_SIZE || defaultMaxSize }));
  app.use(bodyParser.urlencoded({ extended: true }));
}

const isArray = (a) => !!a && a.constructor === Array;
const isObject = (a) => !!a && a.constructor === Object;

function makeContext(cb) {
  const ctx = {
    statusCode: 200,
    headerValues: {},
    cbCalled: 0,
    status(code) {
      if (!code) return ctx.statusCode;
      ctx.statusCode = code;
      return ctx;
    },
    // Replaces, as the template does: a second call drops the first call's headers.
    headers(value) {
      if (!value) return ctx.headerValues;
      ctx.headerValues = value;
      return ctx;
    },
    succeed(value) {
      ctx.cbCalled++;
      cb(undefined, value);
    },
    fail(value) {
      if (Number(ctx.status()) === 200) ctx.status(500);
      ctx.cbCalled++;
      cb(value, undefined);
    },
  };
  return ctx;
}

app.use(async (req, res) => {
  const cb = (err, result) => {
    if (err) {
      console.error(err);
      return res.status(ctx.status()).send(err.toString ? err.toString() : err);
    }
    if (isArray(result) || isObject(result)) {
      res.set(ctx.headers()).status(ctx.status()).send(JSON.stringify(result));
    } else {
      res.set(ctx.headers()).status(ctx.status()).send(result);
    }
  };
  const event = {
    body: req.body,
    headers: req.headers,
    method: req.method,
    query: req.query,
    path: req.path,
  };
  const ctx = makeContext(cb);
  Promise.resolve(handler(event, ctx, cb))
    .then((r) => {
      if (!ctx.cbCalled) ctx.succeed(r);
    })
    .catch((e) => cb(e));
});

const port = process.env.http_port || 3000;
app.listen(port, '127.0.0.1', () => console.log(`node22 listening on port: ${port}`));
