'use strict';

// The watch rules against a scripted fake etcd (node:http), where the test decides every
// answer: re-arm at modifiedIndex + 1, resync on errorCode 401 (never re-arm at the error's
// index), resync when X-Etcd-Index goes back, backoff capped at retryPeriod, keep-alive on.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Registry } = require('..');
const { waitFor, collector } = require('./helpers');

const P1 = 'dubbo://10.0.0.1:20880/svc';
const P2 = 'dubbo://10.0.0.2:20880/svc';
const enc = (u) => encodeURIComponent(u);

function node(url, index) {
  return { key: `/g/svc/providers/${enc(url)}`, value: url, modifiedIndex: index, createdIndex: index };
}

function tree(urls, index) {
  return { action: 'get', node: { key: '/g/svc', dir: true, nodes: [
    { key: '/g/svc/providers', dir: true, nodes: urls.map((u) => node(u, index)) }] } };
}

async function fakeEtcd() {
  const pending = [];
  const waiters = [];
  const sockets = new Set();
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const item = { req, res, url: u, wait: u.searchParams.get('wait') === 'true',
      waitIndex: Number(u.searchParams.get('waitIndex')) };
    if (waiters.length) waiters.shift()(item); else pending.push(item);
  });
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const next = (ms = 3000) => new Promise((resolve, reject) => {
    if (pending.length) return resolve(pending.shift());
    const t = setTimeout(() => reject(new Error('no request in time')), ms);
    waiters.push((it) => { clearTimeout(t); resolve(it); });
  });
  const reply = (it, status, index, body) => {
    it.res.writeHead(status, { 'Content-Type': 'application/json', 'X-Etcd-Index': String(index) });
    it.res.end(JSON.stringify(body));
  };
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => srv.close(() => r()));
  };
  return { endpoint: `http://127.0.0.1:${srv.address().port}`, next, reply, close };
}

test('re-arm at modifiedIndex + 1; 401 and a lower X-Etcd-Index resync; no re-arm at the error index', async () => {
  const fake = await fakeEtcd();
  const r = new Registry({ endpoints: fake.endpoint, group: 'g', retryPeriod: 300 });
  const resyncs = [];
  r.on('resync', (x) => resyncs.push(x.reason));
  try {
    const c = collector();
    const sub = r.subscribe('svc', c.listener);
    let it = await fake.next();
    assert.equal(it.wait, false);
    fake.reply(it, 200, 100, tree([P1], 50));
    await sub;
    assert.deepEqual(c.list('svc'), [P1]);

    it = await fake.next();
    assert.equal(it.wait, true);
    assert.equal(it.waitIndex, 101);
    fake.reply(it, 200, 100, { action: 'set', node: node(P2, 105) });
    await waitFor(() => c.list('svc')?.length === 2, 1000, 'P2 added');

    it = await fake.next();
    assert.equal(it.waitIndex, 106);
    fake.reply(it, 400, 900, { errorCode: 401, message: 'The event in requested index is outdated and cleared', index: 900 });
    it = await fake.next();
    assert.equal(it.wait, false, 'a 401 leads to a re-read');
    fake.reply(it, 200, 950, tree([P2], 940));
    await waitFor(() => c.list('svc')?.length === 1, 1000, 'P1 gone after resync');
    assert.deepEqual(resyncs, ['history-cleared']);

    it = await fake.next();
    assert.equal(it.waitIndex, 951, 'armed from the re-read, not the error index (901)');
    // Index went back (the server lost its data): headers with X-Etcd-Index 5 < 951 - 1.
    it.res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '5' });
    it.res.flushHeaders();
    it = await fake.next();
    assert.equal(it.wait, false, 'an index reset leads to a re-read');
    fake.reply(it, 200, 6, tree([], 0));
    await waitFor(() => c.list('svc')?.length === 0, 1000, 'emptied after reset');
    assert.deepEqual(resyncs, ['history-cleared', 'index-reset']);
    it = await fake.next();
    assert.equal(it.waitIndex, 7);
    assert.equal(r.client.agent.keepAlive, true, 'TCP keep-alive stays on');
  } finally {
    await r.close();
    await fake.close();
  }
});

test('connection errors: backoff capped at retryPeriod, then a reconnect resync', async () => {
  const fake = await fakeEtcd();
  const r = new Registry({ endpoints: fake.endpoint, group: 'g', retryPeriod: 400 });
  const resyncs = [];
  r.on('resync', (x) => resyncs.push(x.reason));
  try {
    const c = collector();
    const sub = r.subscribe('svc', c.listener);
    fake.reply(await fake.next(), 200, 10, tree([P1], 5));
    await sub;
    let it = await fake.next();
    it.req.socket.destroy();
    // A watch is never retried as is after a connection error: the next request is a read.
    it = await fake.next();
    assert.equal(it.wait, false);
    fake.reply(it, 500, 0, { message: 'boom' });
    const times = [];
    for (let i = 0; i < 6; i++) {
      it = await fake.next(2000);
      times.push(Date.now());
      assert.equal(it.wait, false);
      if (i < 5) fake.reply(it, 500, 0, { message: 'boom' });
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps.every((g) => g <= 400 + 150), `gaps ${gaps}`);
    assert.ok(gaps[gaps.length - 1] >= 300, `backoff grows to the cap: ${gaps}`);
    fake.reply(it, 200, 20, tree([P1, P2], 15));
    await waitFor(() => c.list('svc')?.length === 2, 1000, 'resynced');
    assert.ok(resyncs.every((x) => x === 'reconnect') && resyncs.length === 1);
  } finally {
    await r.close();
    await fake.close();
  }
});
