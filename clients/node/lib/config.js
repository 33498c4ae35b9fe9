'use strict';

// Config centre: a live, synchronously readable copy of everything under `prefix`, with
// nconf-style keys ('db:host' = <prefix>/db/host). Directories are objects; a leaf's value is
// JSON text, or a plain string when it is not JSON (so `etcdctl set` works).

const { EventEmitter } = require('node:events');
const { EtcdClient } = require('./client');
const { RegistryError, ETCD, isUnavailable } = require('./errors');
const { TreeWatcher, relativeParts, rootKeyOf } = require('./watcher');

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) &&
    (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

function clone(v) {
  return v === undefined ? undefined : structuredClone(v);
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

function parseLeaf(text) {
  if (text === undefined || text === null) return '';
  try { return JSON.parse(text); } catch { return text; }
}

function treeFromNode(node) {
  if (!node) return {};
  if (!node.dir) return parseLeaf(node.value);
  const out = {};
  for (const c of node.nodes || []) out[c.key.slice(c.key.lastIndexOf('/') + 1)] = treeFromNode(c);
  return out;
}

function splitKey(key) {
  if (key === undefined || key === null || key === '') return [];
  const parts = String(key).split(':');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('/'))) {
    throw new RegistryError('EINVAL', `bad config key ${JSON.stringify(key)}`);
  }
  return parts;
}

function getPath(data, parts) {
  let cur = data;
  for (const p of parts) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
}

// Sets (value !== undefined) or removes the value at parts, creating objects on the way.
function setPath(data, parts, value) {
  if (parts.length === 0) return isPlainObject(value) ? value : {};
  let cur = data;
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(cur[p])) {
      if (value === undefined) return data;
      cur[p] = {};
    }
    cur = cur[p];
  }
  const last = parts[parts.length - 1];
  if (value === undefined) delete cur[last]; else cur[last] = value;
  return data;
}

// Calls emit(parts, new, old) for each changed leaf (or whole subtree that appeared/vanished).
function diffTrees(parts, a, b, emit) {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      diffTrees([...parts, k], a[k], b[k], emit);
    }
  } else if (!deepEqual(a, b)) {
    emit(parts, b, a);
  }
}

function normalisePrefix(prefix) {
  const p = String(prefix ?? '/config').replace(/^\/+|\/+$/g, '');
  return p ? p.split('/') : [];
}

class Config extends EventEmitter {
  constructor(options = {}) {
    super();
    this.prefix = normalisePrefix(options.prefix);
    this.rootKey = rootKeyOf(this.prefix);
    this.check = options.check ?? true;
    this.retryPeriodMs = Number(options.retryPeriod ?? 5000);
    this.client = new EtcdClient({
      endpoints: options.endpoints, username: options.username, password: options.password,
      requestTimeout: Number(options.requestTimeout ?? 5000),
    });
    this.client.on('disconnect', (err) => this.emit('disconnect', err));
    this.client.on('reconnect', () => this.emit('reconnect'));
    this.data = {};
    this.localWrites = new Map(); // etcd key -> index of our write the watch has not passed
    this.closed = false;
    this.watcher = new TreeWatcher(this.client, this.prefix, {
      retryPeriodMs: this.retryPeriodMs,
      hooks: {
        onSnapshot: (node, reason) => this.replace(treeFromNode(node), reason),
        onEvent: (ev) => this.onEvent(ev),
        onRetry: (err) => this.emit('retry', err, { type: 'config', target: this.rootKey }),
        onResync: (reason) => this.emit('resync', { target: this.rootKey, reason }),
      },
    });
  }

  // First load. check=false: an unreachable server gives an empty config, filled in later.
  async load() {
    let snap;
    try {
      snap = await this.watcher.read();
    } catch (err) {
      if (this.check || !isUnavailable(err)) { this.close(); throw err; }
      this.emit('retry', err, { type: 'config', target: this.rootKey });
      this.watcher.run(null);
      return this;
    }
    this.adopt(snap.node, snap.index);
    return this;
  }

  // Starts live updates from a read done elsewhere (the nconf store's synchronous load).
  adopt(node, index) {
    this.data = isPlainObject(treeFromNode(node)) ? treeFromNode(node) : {};
    this.watcher.run(index);
  }

  ensureOpen() {
    if (this.closed) throw new RegistryError('ECLOSED', 'config closed');
  }

  get(key) {
    return clone(getPath(this.data, splitKey(key)));
  }

  segments(parts) {
    return [...this.prefix, ...parts];
  }

  async set(key, value) {
    this.ensureOpen();
    const parts = splitKey(key);
    if (value === undefined) return this.clear(key);
    const conflicts = this.conflictsOf(parts, isPlainObject(value));
    let index = 0;
    for (const c of conflicts) index = Math.max(index, await this.remove(c));
    if (isPlainObject(value)) {
      index = Math.max(index, await this.writeTree(parts, value));
    } else {
      if (parts.length === 0) throw new RegistryError('EINVAL', 'only an object can replace the root');
      const res = await this.client.request('PUT', this.segments(parts),
        { form: { value: JSON.stringify(value) } });
      index = Math.max(index, res.body?.node?.modifiedIndex ?? res.index);
    }
    this.applyLocal(parts, clone(value), index);
  }

  // A leaf cannot hold children and a directory cannot take a value: the keys in the way.
  // Synchronous, so callers see the data as it was when set() was called.
  conflictsOf(parts, wantDir) {
    const out = [];
    for (let i = 1; i < parts.length; i++) {
      const v = getPath(this.data, parts.slice(0, i));
      if (v !== undefined && !isPlainObject(v)) out.push(parts.slice(0, i));
    }
    const here = getPath(this.data, parts);
    if (here !== undefined && (wantDir || isPlainObject(here))) out.push(parts);
    return out;
  }

  async writeTree(parts, obj) {
    const keys = Object.keys(obj);
    let index = 0;
    if (keys.length === 0 && parts.length > 0) {
      try {
        const res = await this.client.request('PUT', this.segments(parts), { form: { dir: 'true' } });
        index = res.index;
      } catch (err) {
        if (err.errorCode !== ETCD.NODE_EXIST && err.errorCode !== ETCD.NOT_FILE) throw err;
      }
    }
    for (const k of keys) {
      if (k === '' || k.includes('/') || k.includes(':')) {
        throw new RegistryError('EINVAL', `bad config key segment ${JSON.stringify(k)}`);
      }
      const v = obj[k];
      if (v === undefined) continue;
      if (isPlainObject(v)) {
        index = Math.max(index, await this.writeTree([...parts, k], v));
      } else {
        const res = await this.client.request('PUT', this.segments([...parts, k]),
          { form: { value: JSON.stringify(v) } });
        index = Math.max(index, res.body?.node?.modifiedIndex ?? res.index);
      }
    }
    return index;
  }

  async remove(parts) {
    try {
      const res = await this.client.request('DELETE', this.segments(parts),
        { query: { recursive: 'true' } });
      return res.body?.node?.modifiedIndex ?? res.index;
    } catch (err) {
      if (err.errorCode === ETCD.KEY_NOT_FOUND) return 0;
      throw err;
    }
  }

  async clear(key) {
    this.ensureOpen();
    const parts = splitKey(key);
    if (parts.length === 0) {
      let index = 0;
      for (const k of Object.keys(this.data)) index = Math.max(index, await this.remove([k]));
      this.applyLocal([], {}, index);
      return;
    }
    const index = await this.remove(parts);
    this.applyLocal(parts, undefined, index);
  }

  applyLocal(parts, value, index) {
    if (index) this.localWrites.set(rootKeyOf(this.segments(parts)), index);
    this.update(parts, value);
  }

  // Applies one value change and emits `change` for each key that really changed.
  update(parts, value) {
    const old = getPath(this.data, parts);
    if (deepEqual(old, value)) return;
    const before = this.data;
    this.data = setPath(parts.length ? this.data : {}, parts, value);
    if (parts.length === 0) diffTrees([], before, this.data, (p, n, o) => this.emitChange(p, n, o));
    else this.emitChange(parts, clone(value), old);
  }

  emitChange(parts, value, old) {
    this.emit('change', parts.join(':'), value, old);
  }

  replace(tree, reason) {
    const before = this.data;
    this.data = isPlainObject(tree) ? tree : {};
    for (const [k, w] of this.localWrites) if (w < this.watcher.waitIndex) this.localWrites.delete(k);
    diffTrees([], before, this.data, (p, n, o) => this.emitChange(p, clone(n), o));
    this.emit('reload', reason);
  }

  // A watch event older than our own completed write on an overlapping key is stale for the
  // local copy (our write already shows): skip it.
  isStale(key, index) {
    for (const [k, w] of this.localWrites) {
      if (w <= index) { this.localWrites.delete(k); continue; }
      if (k === key || k.startsWith(key + '/') || key.startsWith(k + '/')) return true;
    }
    return false;
  }

  onEvent(ev) {
    const n = ev.node;
    const parts = relativeParts(n.key, this.rootKey);
    if (parts === null || this.isStale(n.key, n.modifiedIndex)) return;
    if (/^(delete|expire|compareAndDelete)$/.test(ev.action)) {
      this.update(parts, parts.length ? undefined : {});
    } else if (n.dir) {
      if (getPath(this.data, parts) === undefined || !isPlainObject(getPath(this.data, parts))) {
        this.update(parts, {});
      }
    } else {
      this.update(parts, parseLeaf(n.value));
    }
  }

  // Stops the watch and closes the sockets; returns a promise for symmetry with Registry.
  close() {
    if (!this.closed) {
      this.closed = true;
      this.watcher.stop();
      this.client.close();
    }
    return Promise.resolve();
  }
}

async function createConfig(options = {}) {
  const config = new Config(options);
  return config.load();
}

module.exports = {
  Config, createConfig, treeFromNode, splitKey, getPath, setPath, isPlainObject, normalisePrefix,
};
