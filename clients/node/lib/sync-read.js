'use strict';

// Child-process half of the nconf store's synchronous load: reads the options as JSON on
// stdin, does one recursive GET, and prints { node, index } or { error } as JSON on stdout.
// Run with execFileSync, so the parent blocks without busy-waiting and without native code.

const { EtcdClient } = require('./client');
const { ETCD } = require('./errors');

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const opts = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const client = new EtcdClient(opts);
  try {
    const res = await client.request('GET', opts.segments, { query: { recursive: 'true' } });
    return { node: res.body && res.body.node ? res.body.node : null, index: res.index };
  } catch (err) {
    if (err.errorCode === ETCD.KEY_NOT_FOUND) return { node: null, index: Number(err.index) || 0 };
    return {
      error: { code: err.code, message: err.message, errorCode: err.errorCode, status: err.status },
    };
  } finally {
    client.close();
  }
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err) => process.stdout.write(JSON.stringify({ error: { code: 'EINVAL', message: String(err) } })),
);
