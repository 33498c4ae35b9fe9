'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createConfig, Config } = require('..');
const { startServer, raw, waitFor } = require('./helpers');

let server;
const open = new Set();
async function config(opts) {
  const c = await createConfig({ endpoints: server.endpoint, ...opts });
  open.add(c);
  return c;
}

before(async () => { server = await startServer(); });
after(async () => {
  await Promise.allSettled([...open].map((c) => c.close()));
  if (server) await server.stop();
});

test('load, nconf keys, set/clear visible once resolved, JSON leaves', async () => {
  await raw(server.endpoint, 'PUT', '/v2/keys/app1/db/host', { body: { value: 'db.local' } });
  await raw(server.endpoint, 'PUT', '/v2/keys/app1/db/port', { body: { value: '5432' } });
  const c = await config({ prefix: '/app1' });
  assert.ok(c instanceof Config);
  assert.equal(c.get('db:host'), 'db.local', 'a non-JSON value reads as a string');
  assert.equal(c.get('db:port'), 5432);
  assert.deepEqual(c.get(), { db: { host: 'db.local', port: 5432 } });
  await c.set('feature', { flags: ['a', 'b'], on: true, nested: { n: null } });
  assert.deepEqual(c.get('feature'), { flags: ['a', 'b'], on: true, nested: { n: null } });
  const leaf = await raw(server.endpoint, 'GET', '/v2/keys/app1/feature/flags');
  assert.equal(leaf.body.node.value, '["a","b"]', 'arrays are JSON text');
  const dir = await raw(server.endpoint, 'GET', '/v2/keys/app1/feature/nested');
  assert.equal(dir.body.node.dir, true, 'objects become directories');
  await c.set('feature', 'off');
  assert.equal(c.get('feature'), 'off');
  assert.equal((await raw(server.endpoint, 'GET', '/v2/keys/app1/feature')).body.node.value, '"off"');
  await c.set('db:host:primary', 'x');
  assert.deepEqual(c.get('db:host'), { primary: 'x' });
  await c.clear('db');
  assert.equal(c.get('db'), undefined);
  assert.equal((await raw(server.endpoint, 'GET', '/v2/keys/app1/db')).status, 404);
  assert.deepEqual(c.get(), { feature: 'off' });
});

test('change(key, value, old) for any change by anyone, within 1 s; live copy', async () => {
  const c = await config({ prefix: 'app2' });
  const other = await config({ prefix: 'app2' });
  const changes = [];
  c.on('change', (k, v, o) => changes.push([k, v, o]));
  let t0 = Date.now();
  await other.set('a:b', 1);
  await waitFor(() => c.get('a:b') === 1, 1000, 'remote set');
  assert.ok(Date.now() - t0 < 1000);
  t0 = Date.now();
  await raw(server.endpoint, 'PUT', '/v2/keys/app2/a/b', { body: { value: 'two' } });
  await waitFor(() => c.get('a:b') === 'two', 1000, 'etcdctl-style set');
  await raw(server.endpoint, 'DELETE', '/v2/keys/app2/a?recursive=true');
  await waitFor(() => c.get('a') === undefined, 1000, 'remote delete');
  assert.deepEqual(changes, [['a:b', 1, undefined], ['a:b', 'two', 1], ['a', undefined, { b: 'two' }]]);
  await c.set('mine', [1]);
  await waitFor(() => changes.length === 4, 1000, 'own change');
  assert.deepEqual(changes[3], ['mine', [1], undefined]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(changes.length, 4, 'our own write is reported once');
});

test('resync after a wiped restart reports the differences; close stops it', async () => {
  const c = await config({ prefix: 'app3', retryPeriod: 300 });
  await c.set('k', 'v');
  const changes = [];
  const resyncs = [];
  c.on('change', (k, v, o) => changes.push([k, v, o]));
  c.on('resync', (r) => resyncs.push(r.reason));
  await server.restart({ wipe: true });
  await waitFor(() => c.get('k') === undefined, 4000, 'empty after wipe');
  assert.deepEqual(changes, [['k', undefined, 'v']]);
  assert.ok(resyncs.length >= 1);
  await c.close();
  await assert.rejects(c.set('x', 1), { code: 'ECLOSED' });
});

test('check=true: unreachable rejects; check=false resolves empty and fills in', async () => {
  await server.kill();
  await assert.rejects(createConfig({ endpoints: server.endpoint, prefix: 'app4', requestTimeout: 500 }),
    { code: 'EUNAVAILABLE' });
  const c = await config({ prefix: 'app4', check: false, retryPeriod: 300, requestTimeout: 500 });
  assert.deepEqual(c.get(), {});
  await server.start();
  await raw(server.endpoint, 'PUT', '/v2/keys/app4/x', { body: { value: '1' } });
  await waitFor(() => c.get('x') === 1, 2000, 'filled in');
});
