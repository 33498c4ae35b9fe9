'use strict';

// A small etcd v2 keys client on node:http: endpoint failover, basic auth, per-call deadline,
// long-poll watches with TCP keep-alive. No dependencies.

const http = require('node:http');
const { EventEmitter } = require('node:events');
const { RegistryError, ETCD } = require('./errors');

const KEEPALIVE_PROBE_MS = 1000;
const BODY_BYTES_MAX = 64 * 1024 * 1024;

function normaliseEndpoints(endpoints) {
  let list = endpoints === undefined || endpoints === null ? ['http://127.0.0.1:2379'] : endpoints;
  if (typeof list === 'string') list = list.split(',');
  if (!Array.isArray(list) || list.length === 0) {
    throw new RegistryError('EINVAL', 'endpoints must be a non-empty string or array');
  }
  return list.map((raw) => {
    const text = String(raw).trim();
    let u;
    try {
      u = new URL(text.includes('://') ? text : `http://${text}`);
    } catch (cause) {
      throw new RegistryError('EINVAL', `bad endpoint ${JSON.stringify(text)}`, { cause });
    }
    if (u.protocol !== 'http:') {
      throw new RegistryError('EINVAL', `endpoint ${text}: only http:// is supported`);
    }
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), href: u.origin };
  });
}

// Key path for etcd: every segment percent-encoded, so '/', '%', '?', '#' inside a segment
// survive (etcd decodes the path once).
function keyPath(segments) {
  return '/v2/keys' + segments.map((s) => '/' + encodeURIComponent(s)).join('');
}

function isConnectionError(err) {
  return !(err instanceof RegistryError) || err.code === 'EUNAVAILABLE';
}

class EtcdClient extends EventEmitter {
  constructor({ endpoints, username, password, requestTimeout = 5000 } = {}) {
    super();
    this.endpoints = normaliseEndpoints(endpoints);
    this.current = 0;
    this.requestTimeoutMs = requestTimeout;
    this.auth = username !== undefined && username !== null && username !== ''
      ? 'Basic ' + Buffer.from(`${username}:${password ?? ''}`).toString('base64')
      : null;
    this.agent = new http.Agent({ keepAlive: true, keepAliveMsecs: KEEPALIVE_PROBE_MS });
    this.down = false;
    this.closed = false;
    this.inflight = new Set();
  }

  endpointList() {
    return this.endpoints.map((e) => e.href).join(', ');
  }

  // One call: tries the endpoints in turn (starting with the last good one) until one answers
  // or the deadline passes. Resolves { status, index, body } for 2xx; rejects RegistryError.
  async request(method, segments, { query, form, timeoutMs, signal, watch } = {}) {
    if (this.closed) throw new RegistryError('ECLOSED', 'client closed');
    const deadline = Date.now() + (timeoutMs ?? this.requestTimeoutMs);
    let lastErr = null;
    const n = this.endpoints.length;
    let staleRetried = false;
    // A watch tries only the current endpoint and never retries: after any connection error
    // the caller re-reads (with failover) instead of trusting its waitIndex elsewhere.
    const tries = watch ? 1 : n;
    for (let i = 0; i < tries; i++) {
      const idx = (this.current + i) % n;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const res = await this.once_(this.endpoints[idx], method, segments,
          { query, form, signal, watch, timeoutMs: remaining });
        this.current = idx;
        this.markUp();
        return res;
      } catch (err) {
        if (!isConnectionError(err)) {
          this.current = idx;
          this.markUp();
          throw err;
        }
        if (err.code === 'ECLOSED') throw err;
        lastErr = err;
        // A kept-alive socket the server had closed: one more try on the same endpoint.
        if (watch) throw err;
        if (err.reusedSocket && !staleRetried) { staleRetried = true; i--; }
      }
    }
    const err = new RegistryError('EUNAVAILABLE',
      `no etcd endpoint answered (${this.endpointList()})` +
      (lastErr ? `: ${lastErr.message}` : ': deadline passed'), { cause: lastErr || undefined });
    this.markDown(err);
    throw err;
  }

  markUp() {
    if (this.down) {
      this.down = false;
      this.emit('reconnect');
    }
  }

  markDown(err) {
    if (!this.down && !this.closed) {
      this.down = true;
      this.emit('disconnect', err);
    }
  }

  once_(ep, method, segments, { query, form, signal, watch, timeoutMs }) {
    return new Promise((resolve, reject) => {
      const qs = query ? new URLSearchParams(query).toString() : '';
      const body = form ? new URLSearchParams(form).toString() : null;
      const headers = { Accept: 'application/json' };
      if (body !== null) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers['Content-Length'] = Buffer.byteLength(body);
      }
      if (this.auth) headers.Authorization = this.auth;
      let settled = false;
      let req = null;
      const finish = (err, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        this.inflight.delete(req);
        if (err) {
          if (req) req.destroy();
          reject(err);
        } else {
          resolve(value);
        }
      };
      const onAbort = () => finish(new RegistryError('ECLOSED', 'request aborted'));
      // A watch only has a deadline until its headers arrive (etcd flushes them at once).
      const timer = setTimeout(() => finish(new RegistryError('EUNAVAILABLE',
        `${ep.href}: no answer within ${timeoutMs} ms`)), Math.max(1, timeoutMs));
      if (signal) {
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort);
      }
      req = http.request({
        host: ep.host, port: ep.port, method, agent: this.agent, headers,
        path: (typeof segments === 'string' ? segments : keyPath(segments)) + (qs ? `?${qs}` : ''),
      });
      this.inflight.add(req);
      req.on('socket', (s) => {
        s.setKeepAlive(true, KEEPALIVE_PROBE_MS);
        s.setNoDelay(true);
      });
      req.on('error', (cause) => {
        const err = new RegistryError('EUNAVAILABLE', `${ep.href}: ${cause.code || cause.message}`,
          { cause });
        if (req.reusedSocket && !gotResponse) err.reusedSocket = true;
        finish(err);
      });
      let gotResponse = false;
      req.on('response', (res) => {
        gotResponse = true;
        const index = Number(res.headers['x-etcd-index'] ?? NaN);
        if (watch) {
          clearTimeout(timer);
          const verdict = res.statusCode === 200 && watch.onHeaders ? watch.onHeaders(index) : null;
          if (verdict) return finish(verdict);
        }
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          size += c.length;
          if (size > BODY_BYTES_MAX) {
            finish(new RegistryError('ESERVER', `${ep.href}: answer larger than ${BODY_BYTES_MAX}`));
          } else {
            chunks.push(c);
          }
        });
        res.on('error', (cause) => finish(new RegistryError('EUNAVAILABLE',
          `${ep.href}: ${cause.code || cause.message}`, { cause })));
        res.on('aborted', () => finish(new RegistryError('EUNAVAILABLE',
          `${ep.href}: connection lost mid-answer`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
          if (res.statusCode >= 200 && res.statusCode < 300) {
            finish(null, { status: res.statusCode, index, body: parsed });
          } else {
            finish(httpError(ep, method, res.statusCode, parsed, index));
          }
        });
      });
      if (body !== null) req.end(body); else req.end();
    });
  }

  close() {
    this.closed = true;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
    this.agent.destroy();
  }
}

function httpError(ep, method, status, body, index) {
  const errorCode = body && typeof body === 'object' ? body.errorCode : undefined;
  const detail = body && typeof body === 'object'
    ? [body.message, body.cause].filter(Boolean).join(': ') : String(body || '');
  const message = `${ep.href} ${method} ${status}${detail ? ` ${detail}` : ''}`;
  const code = status === 401 || errorCode === ETCD.UNAUTHORIZED ? 'EAUTH' : 'ESERVER';
  const idx = body && typeof body === 'object' && body.index !== undefined ? body.index : index;
  return new RegistryError(code, message, { errorCode, status, index: idx });
}

module.exports = { EtcdClient, keyPath, normaliseEndpoints };
