'use strict';

// Keeps a recursive view of one etcd directory: a full read, then a long-poll watch loop that
// re-arms at modifiedIndex + 1. It re-reads (resync) after a cleared history (errorCode 401),
// when a watch's X-Etcd-Index is below waitIndex - 1 (the server's index went back: wiped data
// dir), and after any connection or auth error, with a backoff capped at retryPeriod.

const { RegistryError, ETCD } = require('./errors');

const BACKOFF_FIRST_MS = 100;

class TreeWatcher {
  // hooks: onSnapshot(node|null, reason), onEvent(event), onRetry(err), onResync(reason)
  constructor(client, segments, { retryPeriodMs, hooks }) {
    this.client = client;
    this.segments = segments;
    this.retryPeriodMs = retryPeriodMs;
    this.hooks = hooks;
    this.waitIndex = 0;
    this.stopped = false;
    this.running = false;
    this.abort = new AbortController();
    this.sleepTimer = null;
    this.wakeSleep = null;
  }

  // One recursive GET. A missing directory is an empty tree. Resolves { node, index }.
  async read(timeoutMs) {
    try {
      const res = await this.client.request('GET', this.segments,
        { query: { recursive: 'true' }, signal: this.abort.signal, timeoutMs });
      return { node: res.body && res.body.node ? res.body.node : null, index: res.index };
    } catch (err) {
      if (err.errorCode === ETCD.KEY_NOT_FOUND) {
        return { node: null, index: Number(err.index) || 0 };
      }
      throw err;
    }
  }

  // Starts the loop after a successful read (index = the read's X-Etcd-Index), or, when
  // `index` is null, with a resync (used when the first read failed).
  run(index) {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop(index).catch(() => { /* loop() handles its own errors; stop() ends it */ });
  }

  async loop(index) {
    let backoffMs = BACKOFF_FIRST_MS;
    let pendingReason = index === null ? 'reconnect' : null;
    if (index !== null) this.waitIndex = index + 1;
    while (!this.stopped) {
      if (pendingReason) {
        try {
          const snap = await this.read();
          if (this.stopped) return;
          this.waitIndex = snap.index + 1;
          this.hooks.onResync(pendingReason);
          this.hooks.onSnapshot(snap.node, pendingReason);
          pendingReason = null;
          backoffMs = BACKOFF_FIRST_MS;
        } catch (err) {
          if (this.stopped) return;
          this.hooks.onRetry(err);
          await this.sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, this.retryPeriodMs);
        }
        continue;
      }
      try {
        const ev = await this.watchOnce();
        if (this.stopped) return;
        backoffMs = BACKOFF_FIRST_MS;
        if (ev && ev.node) {
          this.waitIndex = ev.node.modifiedIndex + 1;
          this.hooks.onEvent(ev);
        }
      } catch (err) {
        if (this.stopped) return;
        pendingReason = reasonFor(err);
        if (pendingReason !== 'history-cleared' && pendingReason !== 'index-reset') {
          this.hooks.onRetry(err);
          await this.sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, this.retryPeriodMs);
        }
      }
    }
  }

  async watchOnce() {
    const waitIndex = this.waitIndex;
    const res = await this.client.request('GET', this.segments, {
      query: { wait: 'true', recursive: 'true', waitIndex: String(waitIndex) },
      signal: this.abort.signal,
      watch: {
        onHeaders: (index) => (Number.isFinite(index) && index < waitIndex - 1
          ? new RegistryError('ESERVER', `watch index ${index} is below waitIndex ${waitIndex} - 1`,
            { status: 200, index, errorCode: 'INDEX_RESET' })
          : null),
      },
    });
    return res.body;
  }

  sleep(ms) {
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.sleepTimer);
    if (this.wakeSleep) this.wakeSleep();
  }
}

function reasonFor(err) {
  if (err.errorCode === ETCD.EVENT_INDEX_CLEARED) return 'history-cleared';
  if (err.errorCode === 'INDEX_RESET') return 'index-reset';
  return 'reconnect';
}

// Splits an etcd key into segments below `rootKey` ('/a/b'); null when the key is not strictly
// below it; [] when it is the root itself or one of its ancestors.
function relativeParts(key, rootKey) {
  if (rootKey === '/') return key === '/' ? [] : key.slice(1).split('/');
  if (key === rootKey || rootKey.startsWith(key === '/' ? '/' : key + '/')) return [];
  if (!key.startsWith(rootKey + '/')) return null;
  return key.slice(rootKey.length + 1).split('/');
}

function rootKeyOf(segments) {
  return '/' + segments.join('/');
}

module.exports = { TreeWatcher, relativeParts, rootKeyOf };
