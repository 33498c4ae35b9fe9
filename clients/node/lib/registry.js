'use strict';

// Dubbo-style service registry on the etcd v2 keys API, in Dubbo's ZooKeeper layout:
//   /<group>/<enc(service)>/<category>/<enc(url)>  = url, with a TTL kept alive by refreshes.

const { EventEmitter } = require('node:events');
const { EtcdClient } = require('./client');
const { RegistryError, ETCD, isUnavailable } = require('./errors');
const {
  urlEncode, urlDecode, parseUrl, parseTarget, normaliseGroup,
} = require('./dubbo-url');
const { TreeWatcher, relativeParts, rootKeyOf } = require('./watcher');
const { ListCache } = require('./cache');

const DEFAULTS = Object.freeze({
  group: 'dubbo', check: true, ttl: 10, retryPeriod: 5000, requestTimeout: 5000,
});

function positive(name, value, fallback) {
  const v = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(v) || v <= 0) throw new RegistryError('EINVAL', `${name} must be > 0`);
  return v;
}

class Registry extends EventEmitter {
  constructor(options = {}) {
    super();
    this.group = normaliseGroup(options.group ?? DEFAULTS.group);
    this.check = options.check ?? DEFAULTS.check;
    this.ttlS = Math.max(1, Math.round(positive('ttl', options.ttl, DEFAULTS.ttl)));
    this.retryPeriodMs = positive('retryPeriod', options.retryPeriod, DEFAULTS.retryPeriod);
    this.requestTimeoutMs = positive('requestTimeout', options.requestTimeout,
      DEFAULTS.requestTimeout);
    this.client = new EtcdClient({
      endpoints: options.endpoints, username: options.username, password: options.password,
      requestTimeout: this.requestTimeoutMs,
    });
    this.client.on('disconnect', (err) => this.emit('disconnect', err));
    this.client.on('reconnect', () => this.emit('reconnect'));
    this.cache = new ListCache(options.cacheFile, rootKeyOf(this.group));
    this.entries = new Map();
    this.subs = new Map();
    this.closed = false;
    this.abort = new AbortController();
    this.heartbeatTimer = null;
  }

  ensureOpen() {
    if (this.closed) throw new RegistryError('ECLOSED', 'registry closed');
  }

  keyOf(parsed, url) {
    return [...this.group, urlEncode(parsed.service), parsed.category, urlEncode(url)];
  }

  // ---- register / unregister / heartbeat ----------------------------------------------

  async register(url) {
    this.ensureOpen();
    const parsed = parseUrl(url);
    const known = this.entries.get(url);
    if (known) return known.firstCreate;
    const entry = {
      url, segments: this.keyOf(parsed, url), live: true, created: false, chain: Promise.resolve(),
      retryTimer: null, firstCreate: null,
    };
    this.entries.set(url, entry);
    entry.firstCreate = this.enqueue(entry, () => this.create(entry)).then(
      () => { this.startHeartbeat(); },
      (err) => this.onRegisterFailed(entry, err));
    return entry.firstCreate;
  }

  onRegisterFailed(entry, err) {
    if (this.closed) throw new RegistryError('ECLOSED', 'registry closed', { cause: err });
    if (this.check || err.code === 'EINVAL') {
      this.entries.delete(entry.url);
      entry.live = false;
      // A timed-out PUT may still land: remove it so nothing is left behind.
      if (isUnavailable(err)) this.deleteKey(entry.segments).catch(() => {});
      throw err;
    }
    this.emit('retry', err, { type: 'register', target: entry.url });
    this.startHeartbeat();
    this.scheduleCreateRetry(entry);
  }

  scheduleCreateRetry(entry) {
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = null;
      if (!entry.live || this.closed) return;
      this.enqueue(entry, () => this.create(entry)).catch((err) => {
        if (!entry.live || this.closed) return;
        this.emit('retry', err, { type: 'register', target: entry.url });
        this.scheduleCreateRetry(entry);
      });
    }, this.retryPeriodMs);
  }

  // Runs operations on one entry one after another, so a late re-create can never land
  // after the DELETE of unregister().
  enqueue(entry, op) {
    const run = entry.chain.then(op, op);
    entry.chain = run.catch(() => {});
    return run;
  }

  async create(entry) {
    if (!entry.live) return;
    await this.client.request('PUT', entry.segments,
      { form: { value: entry.url, ttl: String(this.ttlS) }, signal: this.abort.signal });
    entry.created = true;
  }

  startHeartbeat() {
    if (this.heartbeatTimer || this.closed) return;
    const periodMs = Math.max(200, Math.floor((this.ttlS * 1000) / 3));
    this.heartbeatTimer = setInterval(() => this.heartbeatAll(), periodMs);
  }

  heartbeatAll() {
    for (const entry of this.entries.values()) {
      if (!entry.created || entry.busy) continue;
      entry.busy = true;
      this.enqueue(entry, () => this.heartbeat(entry)).catch((err) => {
        if (entry.live && !this.closed) this.emit('retry', err, { type: 'heartbeat', target: entry.url });
      }).finally(() => { entry.busy = false; });
    }
  }

  // refresh=true&prevExist=true resets the TTL without waking watchers. 100 means the entry
  // is gone (expired, deleted by someone, or the server lost its data): create it again.
  async heartbeat(entry) {
    if (!entry.live) return;
    try {
      await this.client.request('PUT', entry.segments, {
        form: { refresh: 'true', prevExist: 'true', ttl: String(this.ttlS) },
        signal: this.abort.signal,
      });
    } catch (err) {
      if (err.errorCode !== ETCD.KEY_NOT_FOUND || !entry.live) throw err;
      await this.create(entry);
      if (entry.live) this.emit('reregister', entry.url);
    }
  }

  async deleteKey(segments, signal) {
    try {
      await this.client.request('DELETE', segments, { signal });
    } catch (err) {
      if (err.errorCode !== ETCD.KEY_NOT_FOUND) throw err;
    }
  }

  async unregister(url) {
    this.ensureOpen();
    const parsed = parseUrl(url);
    const entry = this.entries.get(url);
    const segments = entry ? entry.segments : this.keyOf(parsed, url);
    if (entry) {
      entry.live = false;
      clearTimeout(entry.retryTimer);
      this.entries.delete(url);
    }
    const del = () => this.deleteKey(segments, this.abort.signal);
    try {
      await (entry ? this.enqueue(entry, del) : del());
    } catch (err) {
      if (this.check || err.code === 'EINVAL' || this.closed) throw err;
      this.emit('retry', err, { type: 'unregister', target: url });
      this.retryUnregister(segments, url);
    }
  }

  // check=false: keep trying until the TTL would have removed the entry anyway.
  retryUnregister(segments, url) {
    let left = Math.ceil((this.ttlS * 1000) / this.retryPeriodMs);
    const attempt = () => {
      if (this.closed || left-- <= 0 || this.entries.has(url)) return;
      this.deleteKey(segments, this.abort.signal).catch((err) => {
        if (this.closed) return;
        this.emit('retry', err, { type: 'unregister', target: url });
        setTimeout(attempt, this.retryPeriodMs);
      });
    };
    setTimeout(attempt, this.retryPeriodMs);
  }

  // ---- subscribe / lookup ---------------------------------------------------------------

  async subscribe(target, listener) {
    this.ensureOpen();
    if (typeof listener !== 'function') throw new RegistryError('EINVAL', 'listener must be a function');
    const t = parseTarget(target);
    const key = `${t.service}\n${t.categories.join(',')}`;
    let sub = this.subs.get(key);
    if (sub) {
      await sub.ready;
      if (sub.stopped) throw new RegistryError('ECLOSED', 'subscription ended');
      sub.listeners.add(listener);
      sub.deliverAll(listener);
      return;
    }
    sub = new Subscription(this, target, t);
    sub.listeners.add(listener);
    this.subs.set(key, sub);
    sub.ready = sub.start();
    try {
      await sub.ready;
    } catch (err) {
      if (this.subs.get(key) === sub) this.subs.delete(key);
      sub.stop();
      throw err;
    }
  }

  async unsubscribe(target, listener) {
    this.ensureOpen();
    const t = parseTarget(target);
    const key = `${t.service}\n${t.categories.join(',')}`;
    const sub = this.subs.get(key);
    if (!sub) return;
    if (listener) sub.listeners.delete(listener); else sub.listeners.clear();
    if (sub.listeners.size === 0) {
      this.subs.delete(key);
      sub.stop();
    }
  }

  watchSegments(t) {
    return t.service === '*' ? this.group : [...this.group, urlEncode(t.service)];
  }

  // Sorted URLs of the target's categories, read once from the server.
  async lookup(target) {
    this.ensureOpen();
    const t = parseTarget(target);
    const w = new TreeWatcher(this.client, this.watchSegments(t),
      { retryPeriodMs: this.retryPeriodMs, hooks: {} });
    let state;
    try {
      const snap = await w.read();
      state = stateFromNode(snap.node, rootKeyOf(this.group));
    } catch (err) {
      if (this.check || !isUnavailable(err)) throw err;
      this.emit('retry', err, { type: 'lookup', target });
      state = stateFromCache(this.cache, t);
    }
    const out = new Set();
    for (const [service, cats] of state) {
      if (t.service !== '*' && service !== t.service) continue;
      for (const c of t.categories) for (const u of (cats.get(c) || new Map()).values()) out.add(u);
    }
    return [...out].sort();
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    this.abort.abort();
    for (const sub of this.subs.values()) sub.stop();
    this.subs.clear();
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) { e.live = false; clearTimeout(e.retryTimer); }
    await Promise.allSettled(entries.map((e) => this.deleteKey(e.segments)));
    this.client.close();
  }
}

// ---- subscription state -------------------------------------------------------------------

// state: Map<service, Map<category, Map<encodedUrlKey, url>>>
function stateFromNode(node, groupKey) {
  const state = new Map();
  const walk = (n) => {
    if (!n) return;
    if (n.dir) { for (const c of n.nodes || []) walk(c); return; }
    const parts = relativeParts(n.key, groupKey);
    if (parts && parts.length === 3) addUrl(state, parts, n.value);
  };
  walk(node);
  return state;
}

function stateFromCache(cache, t) {
  const state = new Map();
  const services = t.service === '*' ? cache.serviceNames() : [t.service];
  for (const s of services) {
    for (const c of t.categories) {
      for (const u of cache.get(s, c) || []) addUrl(state, [urlEncode(s), c, urlEncode(u)], u);
    }
  }
  return state;
}

function addUrl(state, parts, value) {
  const service = urlDecode(parts[0]);
  let cats = state.get(service);
  if (!cats) state.set(service, (cats = new Map()));
  let urls = cats.get(parts[1]);
  if (!urls) cats.set(parts[1], (urls = new Map()));
  urls.set(parts[2], value || urlDecode(parts[2]));
}

function sameList(a, b) {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}

class Subscription {
  constructor(registry, target, t) {
    this.registry = registry;
    this.target = target;
    this.t = t;
    this.listeners = new Set();
    this.state = new Map();
    this.delivered = new Map(); // `${service}\n${category}` -> sorted list
    this.fromCache = false;
    this.stopped = false;
    this.ready = null;
    this.groupKey = rootKeyOf(registry.group);
    this.watcher = new TreeWatcher(registry.client, registry.watchSegments(t), {
      retryPeriodMs: registry.retryPeriodMs,
      hooks: {
        onSnapshot: (node) => { this.state = stateFromNode(node, this.groupKey); this.publish(false); },
        onEvent: (ev) => this.apply(ev),
        onRetry: (err) => registry.emit('retry', err, { type: 'subscribe', target }),
        onResync: (reason) => registry.emit('resync', { target, reason }),
      },
    });
  }

  async start() {
    const r = this.registry;
    let snap;
    try {
      snap = await this.watcher.read();
    } catch (err) {
      const cached = stateFromCache(r.cache, this.t);
      const haveCache = r.cache.file && this.cacheCovers();
      if (!isUnavailable(err) || this.stopped) throw err;
      if (r.check && !haveCache) throw err;
      r.emit('retry', err, { type: 'subscribe', target: this.target });
      this.state = haveCache ? cached : new Map();
      this.publish(haveCache);
      this.watcher.run(null);
      return;
    }
    this.state = stateFromNode(snap.node, this.groupKey);
    this.publish(false);
    this.watcher.run(snap.index);
  }

  cacheCovers() {
    const c = this.registry.cache;
    if (this.t.service === '*') return c.serviceNames().length > 0;
    return this.t.categories.some((cat) => c.get(this.t.service, cat) !== undefined);
  }

  apply(ev) {
    const n = ev.node;
    const parts = relativeParts(n.key, this.groupKey);
    if (parts === null) return;
    const removal = /^(delete|expire|compareAndDelete)$/.test(ev.action);
    if (parts.length === 3 && !n.dir) {
      if (removal) this.removeUnder(parts); else addUrl(this.state, parts, n.value);
    } else if (parts.length < 3 && removal) {
      this.removeUnder(parts);
    }
    this.publish(false);
  }

  removeUnder(parts) {
    if (parts.length === 0) { this.state.clear(); return; }
    const cats = this.state.get(urlDecode(parts[0]));
    if (!cats) return;
    if (parts.length === 1) { cats.clear(); return; }
    const urls = cats.get(parts[1]);
    if (!urls) return;
    if (parts.length === 2) urls.clear(); else urls.delete(parts[2]);
  }

  services() {
    if (this.t.service !== '*') return [this.t.service];
    const names = new Set(this.state.keys());
    for (const k of this.delivered.keys()) names.add(k.split('\n')[0]);
    return [...names].sort();
  }

  listOf(service, category) {
    const cats = this.state.get(service);
    const urls = cats && cats.get(category);
    return urls ? [...new Set(urls.values())].sort() : [];
  }

  // Tells every listener about each (service, category) whose list changed since the last
  // delivery; the first delivery covers every category.
  publish(fromCache) {
    if (this.stopped) return;
    // Leaving the cache: every list is news, even an unchanged one (fromCache flips).
    const force = this.fromCache && !fromCache;
    this.fromCache = fromCache;
    for (const service of this.services()) {
      for (const category of this.t.categories) {
        const list = this.listOf(service, category);
        const k = `${service}\n${category}`;
        const old = this.delivered.get(k);
        if (old && !force && sameList(old, list)) continue;
        if (!old && list.length === 0 && this.t.service === '*' && !this.state.has(service)) continue;
        this.delivered.set(k, list);
        if (!fromCache) this.registry.cache.put(service, category, list);
        for (const l of [...this.listeners]) this.call(l, list, service, category, fromCache);
      }
    }
  }

  deliverAll(listener) {
    for (const [k, list] of this.delivered) {
      const [service, category] = k.split('\n');
      this.call(listener, list, service, category, this.fromCache);
    }
  }

  call(listener, list, service, category, fromCache) {
    try {
      listener(list.slice(), { service, category, fromCache });
    } catch (err) {
      this.registry.emit('listenerError', err);
    }
  }

  stop() {
    this.stopped = true;
    this.watcher.stop();
  }
}

module.exports = { Registry, DEFAULTS };
