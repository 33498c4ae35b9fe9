'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Registry, RegistryError } = require('..');
const { startServer, freePort, raw, waitFor, sleep, collector } = require('./helpers');

let server;
const open = new Set();
function registry(opts) {
  const r = new Registry({ endpoints: server.endpoint, ttl: 3, retryPeriod: 500, ...opts });
  open.add(r);
  return r;
}

before(async () => { server = await startServer(); });
after(async () => {
  await Promise.allSettled([...open].map((r) => r.close()));
  if (server) await server.stop();
});

const P1 = 'dubbo://10.0.0.1:20880/com.foo.Bar?version=1.0.0&application=a b';
const P2 = 'dubbo://10.0.0.2:20880/com.foo.Bar?version=1.0.0';
const C1 = 'consumer://10.0.0.9/com.foo.Bar?category=consumers&side=consumer';

test('layout: /<group>/<enc(service)>/<category>/<enc(url)> = url, with the TTL', async () => {
  const r = registry({ group: '/layout' });
  await r.register(P1);
  await r.register(C1);
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  const key = `/layout/com.foo.Bar/providers/${enc(P1)}`;
  assert.equal(key.includes('dubbo%3A%2F%2F10.0.0.1%3A20880%2Fcom.foo.Bar%3Fversion%3D1.0.0%26application%3Da+b'), true);
  const res = await raw(server.endpoint, 'GET', '/v2/keys' + key.split('/').map(encodeURIComponent).join('/'));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.node.value, P1);
  assert.ok(res.body.node.ttl > 0 && res.body.node.ttl <= 3);
  const cons = await raw(server.endpoint, 'GET', '/v2/keys/layout/com.foo.Bar/consumers?recursive=true');
  assert.equal(cons.body.node.nodes[0].value, C1);
  assert.deepEqual(await r.lookup('com.foo.Bar'), [P1]);
  assert.deepEqual(await r.lookup('consumer://x/com.foo.Bar?category=providers,consumers'), [C1, P1].sort());
});

test('subscribe: complete sorted lists, [] first, then after each change; late listener', async () => {
  const r = registry({ group: 'sub' });
  const c = collector();
  await r.subscribe('consumer://10.0.0.9/com.foo.Bar?category=providers,configurators', c.listener);
  assert.deepEqual(c.calls.map((x) => [x.category, x.urls, x.fromCache]),
    [['configurators', [], false], ['providers', [], false]]);
  const p = registry({ group: 'sub' });
  await p.register(P2);
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 2000, 'P2');
  await p.register(P1);
  await waitFor(() => c.list('com.foo.Bar')?.length === 2, 2000, 'P1');
  assert.deepEqual(c.list('com.foo.Bar'), [P1, P2]);
  const late = collector();
  await r.subscribe('consumer://10.0.0.9/com.foo.Bar?category=providers,configurators', late.listener);
  assert.deepEqual(late.list('com.foo.Bar'), [P1, P2]);
  assert.deepEqual(late.list('com.foo.Bar', 'configurators'), []);
  await p.unregister(P2);
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 2000, 'unregister');
  assert.deepEqual(late.list('com.foo.Bar'), [P1]);
  // never a delta: every call is a whole list
  for (const call of c.calls.filter((x) => x.category === 'providers').slice(1)) {
    assert.ok(call.urls.length >= 1);
  }
  await r.unsubscribe('consumer://10.0.0.9/com.foo.Bar?category=providers,configurators', c.listener);
  const n = late.calls.length;
  const before = c.calls.length;
  await p.unregister(P1);
  await waitFor(() => late.calls.length > n, 2000, 'late listener still live');
  assert.equal(c.calls.length, before);
});

test('groups are separate; a leading / is optional', async () => {
  const a = registry({ group: '/ga' });
  const b = registry({ group: 'gb' });
  const ca = collector();
  const cb = collector();
  await a.subscribe('com.foo.Bar', ca.listener);
  await b.subscribe('com.foo.Bar', cb.listener);
  await registry({ group: 'ga' }).register(P1);
  await waitFor(() => ca.list('com.foo.Bar')?.length === 1, 2000, 'ga');
  await sleep(200);
  assert.deepEqual(cb.list('com.foo.Bar'), []);
  assert.deepEqual(await b.lookup('com.foo.Bar'), []);
});

test('"*": one watch on the root, per-service lists, later services too', async () => {
  const r = registry({ group: 'star' });
  const p = registry({ group: 'star' });
  await p.register(P1);
  const c = collector();
  await r.subscribe('*', c.listener);
  assert.deepEqual(c.calls.map((x) => x.service), ['com.foo.Bar']);
  await p.register('dubbo://10.0.0.3:20880/org.Other?x=1');
  await waitFor(() => c.list('org.Other')?.length === 1, 2000, 'later service');
  await p.unregister(P1);
  await waitFor(() => c.list('com.foo.Bar')?.length === 0, 2000, 'emptied service');
  assert.deepEqual(await r.lookup('*'), ['dubbo://10.0.0.3:20880/org.Other?x=1']);
});

test('heartbeat keeps an entry past its TTL; a deleted entry is re-registered', async () => {
  const r = registry({ group: 'hb', ttl: 2 });
  const reg = [];
  r.on('reregister', (u) => reg.push(u));
  const c = collector();
  await r.subscribe('com.foo.Bar', c.listener);
  await r.register(P1);
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 2000, 'registered');
  const calls = c.calls.length;
  await sleep(3500);
  assert.equal(c.calls.length, calls, 'refresh wakes no watcher and the entry stays');
  const t0 = Date.now();
  const enc = encodeURIComponent(encodeURIComponent(P1).replace(/%20/g, '+'));
  const del = await raw(server.endpoint, 'DELETE', `/v2/keys/hb/com.foo.Bar/providers/${enc}`);
  assert.equal(del.status, 200);
  await waitFor(() => reg.length === 1, 2000 / 3 + 1500, 'reregister');
  assert.ok(Date.now() - t0 <= 2000 / 3 + 1000 + 300);
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 1000, 'back in list');
});

test('close() deletes this process entries at once and rejects later calls', async () => {
  const r = registry({ group: 'close', ttl: 30 });
  const watcher = registry({ group: 'close' });
  const c = collector();
  await watcher.subscribe('com.foo.Bar', c.listener);
  await r.register(P1);
  await r.subscribe('com.foo.Bar', () => {});
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 2000, 'registered');
  const t0 = Date.now();
  await r.close();
  await waitFor(() => c.list('com.foo.Bar')?.length === 0, 1000, 'gone at once');
  assert.ok(Date.now() - t0 < 1000);
  await assert.rejects(r.register(P2), (e) => e instanceof RegistryError && e.code === 'ECLOSED');
  await assert.rejects(r.lookup('x'), { code: 'ECLOSED' });
});

test('EINVAL for bad arguments', async () => {
  const r = registry({ group: 'inval' });
  await assert.rejects(r.register('not a url'), { code: 'EINVAL' });
  await assert.rejects(r.register('dubbo://1.2.3.4:1'), { code: 'EINVAL' });
  await assert.rejects(r.subscribe('', () => {}), { code: 'EINVAL' });
  await assert.rejects(r.subscribe('svc'), { code: 'EINVAL' });
  assert.throws(() => new Registry({ endpoints: 'ftp://x' }), { code: 'EINVAL' });
  assert.throws(() => new Registry({ ttl: 0 }), { code: 'EINVAL' });
});

test('check=true: unreachable server rejects EUNAVAILABLE within requestTimeout, leaves nothing', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const r = new Registry({ endpoints: [dead, `http://127.0.0.1:${await freePort()}`], requestTimeout: 800 });
  open.add(r);
  let retries = 0;
  r.on('retry', () => retries++);
  const t0 = Date.now();
  await assert.rejects(r.register(P1), (e) => e.code === 'EUNAVAILABLE' && e.message.includes(dead));
  await assert.rejects(r.subscribe('com.foo.Bar', () => {}), { code: 'EUNAVAILABLE' });
  await assert.rejects(r.lookup('com.foo.Bar'), { code: 'EUNAVAILABLE' });
  assert.ok(Date.now() - t0 < 3 * 800 + 500);
  assert.equal(r.entries.size, 0);
  assert.equal(r.subs.size, 0);
  await sleep(100);
  assert.equal(retries, 0);
});

test('endpoint failover: a dead first endpoint is skipped', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const r = registry({ group: 'failover', endpoints: [dead, server.endpoint] });
  await r.register(P1);
  assert.deepEqual(await r.lookup('com.foo.Bar'), [P1]);
});
