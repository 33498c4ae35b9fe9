'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Registry } = require('..');
const {
  startServer, raw, waitFor, sleep, collector, PausableProxy, spawnTracked,
} = require('./helpers');

let server;
const open = new Set();
function registry(opts) {
  const r = new Registry({ endpoints: server.endpoint, ttl: 2, retryPeriod: 500, ...opts });
  open.add(r);
  return r;
}

before(async () => { server = await startServer(); });
after(async () => {
  await Promise.allSettled([...open].map((r) => r.close()));
  if (server) await server.stop();
});

const P1 = 'dubbo://10.0.0.1:20880/com.foo.Bar?version=1.0.0';
const P2 = 'dubbo://10.0.0.2:20880/com.foo.Bar?version=1.0.0';

function childProvider(group, url) {
  const pkg = path.resolve(__dirname, '..');
  const code = `const { Registry } = require(${JSON.stringify(pkg)});
    const r = new Registry({ endpoints: ${JSON.stringify(server.endpoint)}, group: ${JSON.stringify(group)}, ttl: 2 });
    r.register(${JSON.stringify(url)}).then(() => console.log('ready'), (e) => { console.error(e); process.exit(1); });`;
  const child = spawnTracked(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return { child, ready };
}

test('kill -9 of a child provider: it leaves the list within ttl + 1 s; a live one never does', async () => {
  const consumer = registry({ group: 'kill' });
  const live = registry({ group: 'kill' });
  await live.register(P2);
  const c = collector();
  await consumer.subscribe('com.foo.Bar', c.listener);
  const { child, ready } = childProvider('kill', P1);
  try {
    await ready;
    await waitFor(() => c.list('com.foo.Bar')?.length === 2, 2000, 'child provider listed');
    await sleep(1000);
    const t0 = Date.now();
    child.kill('SIGKILL');
    await waitFor(() => c.list('com.foo.Bar')?.length === 1, 3000 + 500, 'dead provider removed');
    assert.ok(Date.now() - t0 <= 3000, `removed after ${Date.now() - t0} ms`);
    assert.deepEqual(c.list('com.foo.Bar'), [P2]);
    await sleep(2500);
    assert.deepEqual(c.list('com.foo.Bar'), [P2]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('server restart with a wiped data dir: reregister, resync, disconnect/reconnect', async () => {
  const provider = registry({ group: 'wipe' });
  const consumer = registry({ group: 'wipe' });
  const events = [];
  for (const ev of ['reregister', 'disconnect', 'reconnect', 'resync']) {
    provider.on(ev, (a) => events.push(['p', ev, a]));
    consumer.on(ev, (a) => events.push(['c', ev, a]));
  }
  await provider.register(P1);
  const c = collector();
  await consumer.subscribe('com.foo.Bar', c.listener);
  assert.deepEqual(c.list('com.foo.Bar'), [P1]);
  await server.kill();
  await sleep(300);
  await server.start({ wipe: true });
  const up = Date.now();
  await waitFor(() => events.some(([w, e]) => w === 'p' && e === 'reregister'), 2000 / 3 + 1500,
    'reregister');
  assert.ok(Date.now() - up <= 2000 / 3 + 1000 + 300, `reregistered after ${Date.now() - up} ms`);
  await waitFor(() => events.some(([w, e]) => w === 'c' && e === 'resync'), 3000, 'consumer resync');
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 3000, 'consumer sees it again');
  const names = events.map(([w, e]) => `${w}:${e}`);
  assert.ok(names.includes('c:disconnect') && names.includes('c:reconnect'), names.join(' '));
  assert.ok(events.some(([w, e, a]) => w === 'c' && e === 'resync' && a.reason === 'reconnect'));
  const res = await raw(server.endpoint, 'GET', '/v2/keys/wipe/com.foo.Bar/providers');
  assert.equal(res.body.node.nodes.length, 1);
});

test('check=false while the server is down: resolves, retries every retryPeriod, then works', async () => {
  await server.kill();
  const provider = registry({ group: 'down', check: false });
  const consumer = registry({ group: 'down', check: false });
  const retries = [];
  provider.on('retry', (e, info) => retries.push(info.type));
  consumer.on('retry', (e, info) => retries.push(info.type));
  await provider.register(P1);
  const c = collector();
  await consumer.subscribe('com.foo.Bar', c.listener);
  assert.deepEqual(c.list('com.foo.Bar'), []);
  assert.deepEqual(await consumer.lookup('com.foo.Bar'), []);
  await sleep(1200);
  assert.ok(retries.filter((t) => t === 'register').length >= 2, retries.join(','));
  assert.ok(retries.includes('subscribe'));
  await server.start();
  const up = Date.now();
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 500 + 1000 + 500, 'provider visible');
  assert.ok(Date.now() - up <= 500 + 1000 + 200, `took ${Date.now() - up} ms`);
});

test('consumer behind a paused proxy while > 1000 writes clear the history: no event lost', async () => {
  const proxy = await new PausableProxy(server.port).start();
  try {
    const provider = registry({ group: 'hist', ttl: 30 });
    // A long requestTimeout: a watch sent just before the pause must not time out (that would
    // resync as 'reconnect', also correct but not the case under test).
    const consumer = registry({ group: 'hist', endpoints: proxy.endpoint, ttl: 30, requestTimeout: 60000 });
    const resyncs = [];
    consumer.on('resync', (r) => resyncs.push(r.reason));
    await provider.register(P1);
    const c = collector();
    await consumer.subscribe('com.foo.Bar', c.listener);
    proxy.pause();
    await provider.register(P2);
    let next = 0;
    const writer = async () => {
      while (next < 1010) {
        const i = next++;
        const r = await raw(server.endpoint, 'PUT', `/v2/keys/filler/k${i % 50}`, { body: { value: String(i) } });
        assert.equal(r.status < 300, true);
      }
    };
    await Promise.all([writer(), writer(), writer(), writer(), writer(), writer()]);
    await provider.unregister(P1);
    proxy.resume();
    await waitFor(() => resyncs.includes('history-cleared'), 5000, 'history-cleared resync');
    await waitFor(() => c.list('com.foo.Bar')?.join() === P2, 3000, 'final list');
  } finally {
    await proxy.close();
  }
});

test('endpoint failover of a live subscription: the first endpoint dies, the watch moves on', async () => {
  const proxy = await new PausableProxy(server.port).start();
  const provider = registry({ group: 'fo', ttl: 30 });
  const consumer = registry({ group: 'fo', endpoints: [proxy.endpoint, server.endpoint] });
  const resyncs = [];
  consumer.on('resync', (r) => resyncs.push(r.reason));
  await provider.register(P1);
  const c = collector();
  await consumer.subscribe('com.foo.Bar', c.listener);
  assert.deepEqual(c.list('com.foo.Bar'), [P1]);
  await proxy.close();
  await waitFor(() => resyncs.includes('reconnect'), 3000, 'resync through the second endpoint');
  await provider.register(P2);
  await waitFor(() => c.list('com.foo.Bar')?.length === 2, 2000, 'live again');
});
