'use strict';
// node examples/consumer.js   prints the provider list of com.example.Greeter on every change
const { Registry } = require('..');

const registry = new Registry({ endpoints: process.env.ETCD || 'http://127.0.0.1:2379',
  cacheFile: '/tmp/greeter-consumer.cache.json' });
registry.on('resync', ({ reason }) => console.log('resync:', reason));
registry.subscribe('consumer://10.0.0.9/com.example.Greeter?category=providers,configurators',
  (urls, { category, fromCache }) => console.log(new Date().toISOString(), category,
    fromCache ? '(from cache)' : '', urls));
process.on('SIGINT', () => registry.close().then(() => process.exit(0)));
