'use strict';
// node examples/provider.js 10.0.0.1:20880   (then kill -9 it and watch the consumer)
const { Registry } = require('..');

const addr = process.argv[2] || '127.0.0.1:20880';
const registry = new Registry({ endpoints: process.env.ETCD || 'http://127.0.0.1:2379', ttl: 10 });
registry.on('reregister', (url) => console.log('re-registered', url));
registry.on('retry', (err, info) => console.log('retry', info.type, err.code));
registry.register(`dubbo://${addr}/com.example.Greeter?version=1.0.0&application=greeter`)
  .then(() => console.log('registered; pid', process.pid));
process.on('SIGINT', () => registry.close().then(() => process.exit(0)));
