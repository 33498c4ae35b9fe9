'use strict';

// nconf store type `uetcd`: loads synchronously like nconf's file store, merges into nconf's
// hierarchy like any store, reloads live (store event `change`) and writes through on
// set/clear/merge. nconf is not a dependency: attachNconf() receives the caller's nconf.

const path = require('node:path');
const { EventEmitter } = require('node:events');
const { execFileSync } = require('node:child_process');
const { Config, normalisePrefix } = require('./config');
const { RegistryError } = require('./errors');

const CHILD = path.join(__dirname, 'sync-read.js');
const CHILD_SLACK_MS = 3000;

// Blocking recursive read: a short-lived `node sync-read.js` child does the HTTP GET.
function readSync(options) {
  const requestTimeout = Number(options.requestTimeout ?? 5000);
  const input = JSON.stringify({
    endpoints: options.endpoints, username: options.username, password: options.password,
    requestTimeout, segments: normalisePrefix(options.prefix),
  });
  let out;
  try {
    out = execFileSync(process.execPath, [CHILD], {
      input, timeout: requestTimeout + CHILD_SLACK_MS, maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true,
    });
  } catch (cause) {
    throw new RegistryError('EUNAVAILABLE', `synchronous load failed: ${cause.message}`, { cause });
  }
  const doc = JSON.parse(out.toString('utf8'));
  if (doc.error) {
    const { code, message, errorCode, status } = doc.error;
    throw new RegistryError(code || 'ESERVER', message, { errorCode, status });
  }
  return doc;
}

function attachNconf(nconf) {
  if (!nconf || typeof nconf.Memory !== 'function') {
    throw new RegistryError('EINVAL', 'attachNconf needs the nconf module (with nconf.Memory)');
  }
  if (nconf.Uetcd) return nconf.Uetcd;

  class Uetcd extends nconf.Memory {
    constructor(options = {}) {
      super(options);
      this.type = 'uetcd';
      this.options = options;
      this.events = new EventEmitter();
      this.pending = new Set();
      this.config = new Config(options);
      this.config.on('change', (key, value, old) => {
        this.store = this.config.data;
        this.events.emit('change', key, value, old);
      });
      for (const ev of ['retry', 'resync', 'disconnect', 'reconnect']) {
        this.config.on(ev, (...args) => this.events.emit(ev, ...args));
      }
    }

    on(ev, fn) { this.events.on(ev, fn); return this; }
    once(ev, fn) { this.events.once(ev, fn); return this; }
    off(ev, fn) { this.events.off(ev, fn); return this; }
    emit(ev, ...args) { return this.events.emit(ev, ...args); }

    loadSync() {
      let doc;
      try {
        doc = readSync(this.options);
      } catch (err) {
        if (this.options.check ?? true) { this.config.close(); throw err; }
        this.events.emit('retry', err, { type: 'config', target: this.config.rootKey });
        this.config.watcher.run(null);
        return this.store;
      }
      if (!this.config.closed) this.config.adopt(doc.node, doc.index);
      this.store = this.config.data;
      return this.store;
    }

    load(callback) {
      try {
        const data = this.loadSync();
        if (callback) process.nextTick(callback, null, data);
        return data;
      } catch (err) {
        if (callback) return process.nextTick(callback, err);
        throw err;
      }
    }

    track(promise) {
      const p = promise.finally(() => this.pending.delete(p));
      p.catch(() => {});
      this.pending.add(p);
      return p;
    }

    // The write-through starts first: it decides what is in the way on the server from the
    // data as it was before this change.
    set(key, value) {
      if (this.readOnly) return false;
      this.track(this.config.set(key, structuredClone(value)));
      return super.set(key, value);
    }

    merge(key, value) {
      if (this.readOnly) return false;
      const ok = super.merge(key, value);
      if (ok) this.track(this.config.set(key, structuredClone(super.get(key))));
      return ok;
    }

    clear(key) {
      if (this.readOnly) return false;
      this.track(this.config.clear(key));
      return super.clear(key);
    }

    // nconf calls save(value, cb); also accepts save(cb). Calls back when every write-through
    // issued so far is done (with the first error, if any).
    save(value, callback) {
      const cb = typeof value === 'function' ? value : callback;
      const writes = [...this.pending];
      const done = Promise.allSettled(writes).then((results) => {
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        return this.store;
      });
      if (cb) done.then((data) => cb(null, data), (err) => cb(err));
      return done;
    }

    close() {
      return this.config.close();
    }
  }

  // `store` is the live config's data, so nconf's Memory methods read the latest copy.
  Object.defineProperty(Uetcd.prototype, 'store', {
    configurable: true,
    get() { return this.config ? this.config.data : this.earlyStore; },
    set(v) { if (this.config) this.config.data = v; else this.earlyStore = v; },
  });

  nconf.Uetcd = Uetcd;
  return Uetcd;
}

module.exports = { attachNconf, readSync };
