'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Registry } = require('..');
const { startServer, waitFor, collector } = require('./helpers');

let server;
let dir;
const open = new Set();
function registry(opts) {
  const r = new Registry({ endpoints: server.endpoint, ttl: 3, retryPeriod: 300, requestTimeout: 1000, ...opts });
  open.add(r);
  return r;
}

before(async () => {
  server = await startServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uetcd-node-cache-'));
});
after(async () => {
  await Promise.allSettled([...open].map((r) => r.close()));
  if (server) await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const P1 = 'dubbo://10.0.0.1:20880/com.foo.Bar';
const P2 = 'dubbo://10.0.0.2:20880/org.Other';

test('cacheFile: last lists kept (atomic rewrite); an unreachable server starts from it, even with check=true', async () => {
  const cacheFile = path.join(dir, 'sub', 'registry.cache.json');
  const provider = registry({ group: 'cache', ttl: 6 });
  await provider.register(P1);
  await provider.register(P2);
  const first = registry({ group: 'cache', cacheFile });
  const c0 = collector();
  await first.subscribe('com.foo.Bar', c0.listener);
  await first.subscribe('*', () => {});
  const doc = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  assert.deepEqual(doc.services['com.foo.Bar'].providers, [P1]);
  assert.deepEqual(doc.services['org.Other'].providers, [P2]);
  assert.deepEqual(fs.readdirSync(path.dirname(cacheFile)), ['registry.cache.json'], 'no temp files left');
  await first.close();

  await server.kill();
  const second = registry({ group: 'cache', cacheFile, check: true });
  const c = collector();
  await second.subscribe('com.foo.Bar', c.listener);
  assert.deepEqual(c.calls, [{ urls: [P1], service: 'com.foo.Bar', category: 'providers', fromCache: true }]);
  const star = collector();
  await second.subscribe('*', star.listener);
  assert.deepEqual(star.list('org.Other'), [P2]);
  assert.ok(star.calls.every((x) => x.fromCache));
  // without a cache entry, check=true still rejects
  await assert.rejects(second.subscribe('no.Such', () => {}), { code: 'EUNAVAILABLE' });
  await assert.rejects(registry({ group: 'cache', check: true }).subscribe('com.foo.Bar', () => {}),
    { code: 'EUNAVAILABLE' });

  await server.start();
  // A server that lost its data shows [] until the provider's next heartbeat re-creates it.
  await waitFor(() => c.calls.at(-1).fromCache === false && c.calls.at(-1).urls.join() === P1,
    4000, 'live list after the server is back');
});
