'use strict';

// Pure helpers, no server.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  urlEncode, urlDecode, parseUrl, parseTarget, normaliseGroup,
} = require('../lib/dubbo-url');
const { relativeParts } = require('../lib/watcher');
const { treeFromNode, splitKey } = require('../lib/config');
const { normaliseEndpoints, keyPath } = require('../lib/client');

test('urlEncode is java.net.URLEncoder (UTF-8)', () => {
  assert.equal(urlEncode('dubbo://1.2.3.4:20880/a.B?x=1&y=a b'),
    'dubbo%3A%2F%2F1.2.3.4%3A20880%2Fa.B%3Fx%3D1%26y%3Da+b');
  assert.equal(urlEncode("a-b_c.d*e~f!g'h(i)j"), "a-b_c.d*e%7Ef%21g%27h%28i%29j");
  assert.equal(urlEncode('é€'), '%C3%A9%E2%82%AC');
  assert.equal(urlDecode('a+b%2Fc'), 'a b/c');
});

test('parseUrl: service from path or interface=, category default providers', () => {
  const u = parseUrl('dubbo://10.0.0.1:20880/com.foo.Bar?version=1.0.0');
  assert.equal(u.service, 'com.foo.Bar');
  assert.equal(u.category, 'providers');
  const c = parseUrl('consumer://10.0.0.9/x?interface=com.foo.Baz&category=consumers');
  assert.equal(c.service, 'com.foo.Baz');
  assert.equal(c.category, 'consumers');
  assert.throws(() => parseUrl('nope'), { code: 'EINVAL' });
});

test('parseTarget and groups', () => {
  assert.deepEqual(parseTarget('com.foo.Bar'), { service: 'com.foo.Bar', categories: ['providers'] });
  assert.deepEqual(parseTarget('*'), { service: '*', categories: ['providers'] });
  assert.deepEqual(parseTarget('consumer://h/com.foo.Bar?category=routers,providers'),
    { service: 'com.foo.Bar', categories: ['providers', 'routers'] });
  assert.deepEqual(parseTarget('consumer://h/x?interface=*&category=providers'),
    { service: '*', categories: ['providers'] });
  assert.deepEqual(normaliseGroup('/dubbo'), ['dubbo']);
  assert.deepEqual(normaliseGroup('a/b/'), ['a', 'b']);
});

test('keys, paths and trees', () => {
  assert.deepEqual(relativeParts('/g/s/providers/u', '/g'), ['s', 'providers', 'u']);
  assert.deepEqual(relativeParts('/g', '/g/s'), []);
  assert.equal(relativeParts('/gx/s', '/g'), null);
  assert.deepEqual(relativeParts('/a/b', '/'), ['a', 'b']);
  assert.equal(keyPath(['dubbo', 'a%3Ab', 'x y']), '/v2/keys/dubbo/a%253Ab/x%20y');
  assert.deepEqual(normaliseEndpoints('127.0.0.1:1,http://h:2').map((e) => e.href),
    ['http://127.0.0.1:1', 'http://h:2']);
  assert.deepEqual(splitKey('db:host'), ['db', 'host']);
  assert.throws(() => splitKey('a::b'), { code: 'EINVAL' });
  assert.deepEqual(treeFromNode({ key: '/p', dir: true, nodes: [
    { key: '/p/a', value: '1' }, { key: '/p/b', value: 'text' },
    { key: '/p/d', dir: true, nodes: [{ key: '/p/d/x', value: '[1,2]' }] }] }),
  { a: 1, b: 'text', d: { x: [1, 2] } });
});

test('package exports: require, import and the same objects', async () => {
  const cjs = require('uetcd-node');
  const esm = await import('uetcd-node');
  for (const name of ['Registry', 'RegistryError', 'createConfig', 'Config', 'attachNconf']) {
    assert.equal(typeof cjs[name], 'function', name);
    assert.equal(esm[name], cjs[name], name);
  }
  const err = new cjs.RegistryError('EAUTH', 'x', { errorCode: 110, status: 401 });
  assert.ok(err instanceof Error);
  assert.deepEqual([err.name, err.code, err.errorCode, err.status], ['RegistryError', 'EAUTH', 110, 401]);
});
