'use strict';

// Test helpers: start etcd 3.4 or uetcd on 127.0.0.1 free ports with a temp data dir, always
// stopped (after() hooks plus a process 'exit' safety net); a pausable TCP proxy; bounded waits.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const http = require('node:http');

const TARGET = process.env.UETCD_NODE_TARGET || 'etcd34';
const UETCD_BINARY = path.resolve(__dirname, '..',
  process.env.UETCD_ETCD_BINARY || '../../build/etcd');
const BINARY = TARGET === 'uetcd' ? UETCD_BINARY : (process.env.ETCD34_BINARY || '/usr/bin/etcd');
const START_WAIT_MS = 15000;

const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() (sync or async, truthy = done) every stepMs until timeoutMs; returns the value.
async function waitFor(fn, timeoutMs, what = 'condition', stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

// Raw HTTP for the tests (auth setup, direct writes): resolves { status, headers, body }.
function raw(endpoint, method, p, { body, auth, json } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(p, endpoint);
    const headers = {};
    let data = null;
    if (json !== undefined) { data = JSON.stringify(json); headers['Content-Type'] = 'application/json'; }
    else if (body !== undefined) {
      data = new URLSearchParams(body).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    if (auth) headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64');
    const req = http.request(u, { method, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

class Server {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uetcd-node-test-'));
    this.proc = null;
  }

  get endpoint() { return `http://127.0.0.1:${this.port}`; }

  async start({ wipe = false } = {}) {
    if (!this.port) { this.port = await freePort(); this.peerPort = await freePort(); }
    const dataDir = path.join(this.dir, 'data');
    if (wipe) fs.rmSync(dataDir, { recursive: true, force: true });
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = ['--name', 'n1', '--data-dir', dataDir, '--enable-v2',
      '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `n1=${peer}`];
    const log = fs.openSync(path.join(this.dir, 'server.log'), 'a');
    const proc = spawn(BINARY, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.proc = proc;
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`server exited: ${this.log().slice(-2000)}`);
      const r = await raw(this.endpoint, 'GET', '/v2/keys/');
      return r.status === 200;
    }, START_WAIT_MS, `${TARGET} on ${this.endpoint}`, 100).catch((e) => {
      this.kill();
      throw e;
    });
    return this;
  }

  log() {
    try { return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8'); } catch { return ''; }
  }

  kill() {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async restart({ wipe = false } = {}) {
    await this.kill();
    await this.start({ wipe });
  }

  async stop() {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function startServer() {
  const s = new Server();
  try {
    await s.start();
  } catch (err) {
    await s.stop();
    throw err;
  }
  return s;
}

// A TCP proxy that can stop forwarding bytes (pause) without closing anything.
class PausableProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.paused = false;
    this.pairs = new Set();
    this.server = net.createServer((client) => this.onClient(client));
  }

  async start() {
    this.port = await freePort();
    await new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
    return this;
  }

  get endpoint() { return `http://127.0.0.1:${this.port}`; }

  onClient(client) {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    const closeBoth = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
    client.on('error', closeBoth); upstream.on('error', closeBoth);
    client.on('close', closeBoth); upstream.on('close', closeBoth);
    client.pipe(upstream); upstream.pipe(client);
    if (this.paused) { client.pause(); upstream.pause(); }
  }

  pause() {
    this.paused = true;
    for (const { client, upstream } of this.pairs) { client.pause(); upstream.pause(); }
  }

  resume() {
    this.paused = false;
    for (const { client, upstream } of this.pairs) { client.resume(); upstream.resume(); }
  }

  close() {
    for (const { client, upstream } of this.pairs) { client.destroy(); upstream.destroy(); }
    return new Promise((r) => this.server.close(() => r()));
  }
}

// Collects listener calls: lists['svc|cat'] = last list, calls = every call.
function collector() {
  const c = { lists: {}, calls: [] };
  c.listener = (urls, info) => {
    c.calls.push({ urls, ...info });
    c.lists[`${info.service}|${info.category}`] = urls;
  };
  c.list = (svc, cat = 'providers') => c.lists[`${svc}|${cat}`];
  return c;
}

module.exports = {
  TARGET, BINARY, freePort, sleep, waitFor, raw, startServer, Server, PausableProxy, collector,
  spawnTracked: (cmd, args, opts) => {
    const p = spawn(cmd, args, opts);
    live.add(p);
    p.on('exit', () => live.delete(p));
    return p;
  },
};
