'use strict';

// The nconf store, against the real nconf when it can be required (NODE_PATH or installed)
// and always against the test double of nconf's store contract (test/nconf-double.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { attachNconf } = require('..');
const { startServer, raw, waitFor } = require('./helpers');
const { createNconf } = require('./nconf-double');

let server;
before(async () => { server = await startServer(); });
after(async () => { if (server) await server.stop(); });

function realNconf() {
  try {
    const id = require.resolve('nconf');
    delete require.cache[id];
    return require('nconf');
  } catch {
    return null;
  }
}

const variants = [['double', createNconf]];
if (realNconf()) {
  variants.push(['real nconf', realNconf]);
} else if (process.env.UETCD_NODE_REQUIRE_NCONF === '1') {
  // make test installs nconf (scripts/install-node-deps.sh): its absence there is a failure.
  test('the real nconf is installed', () => assert.fail('nconf cannot be required'));
}

for (const [name, make] of variants) {
  test(`nconf store (${name}): sync load, hierarchy, live reload, write-through, save, close`, async () => {
    const prefix = `/nconf-${name.replace(/\W/g, '')}`;
    await raw(server.endpoint, 'PUT', `/v2/keys${prefix}/db/host`, { body: { value: 'h1' } });
    await raw(server.endpoint, 'PUT', `/v2/keys${prefix}/db/port`, { body: { value: '5432' } });
    const nconf = make();
    const Uetcd = attachNconf(nconf);
    assert.equal(nconf.Uetcd, Uetcd);
    assert.equal(attachNconf(nconf), Uetcd, 'idempotent');
    nconf.use('overrides', { type: 'literal', store: { db: { port: 1 } } });
    nconf.use('remote', { type: 'uetcd', endpoints: server.endpoint, prefix });
    const store = nconf.stores.remote;
    try {
      // loaded synchronously: no await between use() and get()
      assert.equal(nconf.get('db:host'), 'h1');
      assert.equal(nconf.get('db:port'), 1, 'the earlier store wins');
      assert.deepEqual(nconf.get('db'), { host: 'h1', port: 1 });
      assert.equal(store.get('db:port'), 5432);

      const changes = [];
      store.on('change', (k, v, o) => changes.push([k, v, o]));
      await raw(server.endpoint, 'PUT', `/v2/keys${prefix}/db/host`, { body: { value: 'h2' } });
      await waitFor(() => nconf.get('db:host') === 'h2', 1000, 'live reload');
      assert.deepEqual(changes, [['db:host', 'h2', 'h1']]);

      nconf.set('db:user', 'u');
      nconf.set('limits', { rps: 10 });
      assert.equal(nconf.get('db:user'), 'u', 'set is visible at once');
      await new Promise((resolve, reject) => nconf.save((err) => (err ? reject(err) : resolve())));
      const user = await raw(server.endpoint, 'GET', `/v2/keys${prefix}/db/user`);
      assert.equal(user.body.node.value, '"u"');
      const rps = await raw(server.endpoint, 'GET', `/v2/keys${prefix}/limits/rps`);
      assert.equal(rps.body.node.value, '10');

      nconf.clear('db:user');
      await new Promise((resolve, reject) => nconf.save((err) => (err ? reject(err) : resolve())));
      assert.equal((await raw(server.endpoint, 'GET', `/v2/keys${prefix}/db/user`)).status, 404);
      assert.equal(nconf.get('db:user'), undefined);
    } finally {
      await store.close();
    }
    await raw(server.endpoint, 'PUT', `/v2/keys${prefix}/db/host`, { body: { value: 'h3' } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(nconf.get('db:host'), 'h2', 'closed: no more reloads');
  });
}

test('nconf store: check=true throws on an unreachable server, check=false loads empty', async () => {
  const nconf = createNconf();
  attachNconf(nconf);
  const dead = 'http://127.0.0.1:1';
  assert.throws(() => nconf.use('r1', { type: 'uetcd', endpoints: dead, prefix: '/x', requestTimeout: 500 }),
    { code: 'EUNAVAILABLE' });
  nconf.use('r2', { type: 'uetcd', endpoints: dead, prefix: '/x', check: false, requestTimeout: 500 });
  assert.equal(nconf.get('anything'), undefined);
  await nconf.stores.r2.close();
});
