'use strict';

// etcd v2 auth: root + a role limited to /dubbo, guest revoked. Wrong password, no user and
// another group all give EAUTH; with check=true it is never retried.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Registry, createConfig } = require('..');
const { startServer, raw, sleep, collector, waitFor } = require('./helpers');

let server;
const ROOT = 'root:rootpw';
const open = new Set();
function registry(opts) {
  const r = new Registry({ endpoints: server.endpoint, ttl: 3, retryPeriod: 300, requestTimeout: 2000, ...opts });
  open.add(r);
  return r;
}

async function ok(p) {
  const r = await p;
  assert.ok(r.status < 300, `${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

before(async () => {
  server = await startServer();
  const e = server.endpoint;
  await ok(raw(e, 'PUT', '/v2/auth/users/root', { json: { user: 'root', password: 'rootpw' } }));
  await ok(raw(e, 'PUT', '/v2/auth/roles/dubbo-rw', { json: { role: 'dubbo-rw',
    // A recursive read of the group dir itself ('*') needs the pattern '/dubbo*' (etcd's prefix match).
    permissions: { kv: { read: ['/dubbo/*', '/dubbo*'], write: ['/dubbo/*'] } } } }));
  await ok(raw(e, 'PUT', '/v2/auth/users/alice', { json: { user: 'alice', password: 'alicepw', roles: ['dubbo-rw'] } }));
  await ok(raw(e, 'PUT', '/v2/auth/enable', { auth: ROOT }));
  await ok(raw(e, 'PUT', '/v2/auth/roles/guest', { auth: ROOT, json: { role: 'guest',
    revoke: { kv: { read: ['/*'], write: ['/*'] } } } }));
  const anon = await raw(e, 'GET', '/v2/keys/dubbo');
  assert.equal(anon.status, 401, 'guest revoked');
});
after(async () => {
  await Promise.allSettled([...open].map((r) => r.close()));
  if (server) await server.stop();
});

const P1 = 'dubbo://10.0.0.1:20880/com.foo.Bar';

test('a user with the group role registers, subscribes and heartbeats', async () => {
  const r = registry({ username: 'alice', password: 'alicepw' });
  const c = collector();
  await r.subscribe('com.foo.Bar', c.listener);
  await r.register(P1);
  await waitFor(() => c.list('com.foo.Bar')?.length === 1, 2000, 'listed');
  assert.deepEqual(await r.lookup('*'), [P1]);
  await sleep(1200);
  await r.unregister(P1);
  await waitFor(() => c.list('com.foo.Bar')?.length === 0, 2000, 'unlisted');
});

for (const [name, opts] of [
  ['wrong password', { username: 'alice', password: 'nope' }],
  ['no user', {}],
  ['another group', { username: 'alice', password: 'alicepw', group: 'other' }],
]) {
  test(`EAUTH, never retried with check=true: ${name}`, async () => {
    const r = registry(opts);
    let retries = 0;
    r.on('retry', () => retries++);
    const isAuth = (e) => e.code === 'EAUTH' && e.status === 401;
    await assert.rejects(r.register(P1), isAuth);
    await assert.rejects(r.subscribe('com.foo.Bar', () => {}), isAuth);
    await assert.rejects(r.lookup('com.foo.Bar'), isAuth);
    await sleep(400);
    assert.equal(retries, 0);
    assert.equal(r.entries.size, 0);
  });
}

test('check=false: EAUTH resolves and is retried', async () => {
  const r = registry({ username: 'alice', password: 'nope', check: false });
  const seen = [];
  r.on('retry', (e, info) => seen.push(`${info.type}:${e.code}`));
  await r.register(P1);
  await waitFor(() => seen.filter((s) => s === 'register:EAUTH').length >= 2, 2000, 'retries');
});

test('config centre with auth: the role limits the prefix', async () => {
  await ok(raw(server.endpoint, 'PUT', '/v2/keys/dubbo/config/app/name', { auth: ROOT, body: { value: '"x"' } }));
  const cfg = await createConfig({ endpoints: server.endpoint, prefix: '/dubbo/config',
    username: 'alice', password: 'alicepw' });
  try {
    assert.equal(cfg.get('app:name'), 'x');
  } finally {
    await cfg.close();
  }
  await assert.rejects(createConfig({ endpoints: server.endpoint, prefix: '/etc',
    username: 'alice', password: 'alicepw' }), { code: 'EAUTH' });
});
