'use strict';

// A stand-in for nconf (used when the real one is not installed: the package has no
// dependencies, dev ones included). It follows nconf 0.12's documented store contract:
// `use(name, { type })` creates `new nconf[Capitalised type](options)` and calls its
// loadSync(); get() walks the stores in order and merges objects; set()/clear() go to the
// first writable store that answers; save(cb) calls store.save(value, cb) on each store.

function pathOf(key) {
  return key === undefined || key === null ? [] : String(key).split(':');
}

function Memory(options = {}) {
  this.type = 'memory';
  this.store = {};
  this.readOnly = false;
  this.logicalSeparator = options.logicalSeparator || ':';
}
Memory.prototype.get = function get(key) {
  let cur = this.store;
  for (const p of pathOf(key)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
};
Memory.prototype.set = function set(key, value) {
  const parts = pathOf(key);
  if (parts.length === 0) { this.store = value; return true; }
  let cur = this.store;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]] = value;
  return true;
};
Memory.prototype.clear = function clear(key) {
  const parts = pathOf(key);
  let cur = this.store;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = cur[p];
  }
  if (cur && typeof cur === 'object') delete cur[parts[parts.length - 1]];
  return true;
};
Memory.prototype.merge = function merge(key, value) {
  const old = this.get(key);
  return this.set(key, old && typeof old === 'object' ? { ...old, ...value } : value);
};
Memory.prototype.reset = function reset() { this.store = {}; return true; };
Memory.prototype.loadSync = function loadSync() { return this.store; };

function Literal(options = {}) {
  Memory.call(this, options);
  this.type = 'literal';
  this.readOnly = true;
  this.store = options.store || {};
}
Object.setPrototypeOf(Literal.prototype, Memory.prototype);

function mergeObjects(objs) {
  const out = {};
  for (const o of objs) {
    for (const [k, v] of Object.entries(o)) {
      out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
        ? mergeObjects([out[k], v]) : v;
    }
  }
  return out;
}

function createNconf() {
  const nconf = {
    stores: {},
    Memory,
    Literal,
    use(name, options = {}) {
      const type = options.type || name;
      const Ctor = nconf[type.charAt(0).toUpperCase() + type.slice(1).toLowerCase()];
      if (!Ctor) throw new Error(`Cannot add store with unknown type: ${type}`);
      const store = new Ctor(options);
      nconf.stores[name] = store;
      if (store.loadSync) store.loadSync();
      return nconf;
    },
    get(key) {
      const objs = [];
      for (const store of Object.values(nconf.stores)) {
        const v = store.get(key);
        if (v && typeof v === 'object' && !Array.isArray(v)) objs.push(v);
        else if (v !== undefined) return objs.length ? mergeObjects(objs.reverse()) : v;
      }
      return objs.length ? mergeObjects(objs.reverse()) : undefined;
    },
    set(key, value) { return nconf.first('set', key, value); },
    clear(key) { return nconf.first('clear', key); },
    first(action, ...args) {
      for (const store of Object.values(nconf.stores)) {
        if (store.readOnly) continue;
        const r = store[action](...args);
        if (r !== undefined) return r;
      }
      return undefined;
    },
    save(callback) {
      const stores = Object.values(nconf.stores).filter((s) => s.save);
      let left = stores.length;
      let failed = null;
      if (left === 0) return callback(null);
      for (const s of stores) {
        s.save(null, (err) => {
          failed = failed || err;
          if (--left === 0) callback(failed);
        });
      }
      return undefined;
    },
  };
  return nconf;
}

module.exports = { createNconf };
