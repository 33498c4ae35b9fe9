'use strict';
// npm install nconf; node examples/nconf-app.js   then: ETCDCTL_API=2 etcdctl set /myapp/greeting hi
const nconf = require('nconf');
const { attachNconf } = require('..');

attachNconf(nconf);
nconf.argv().env('__');
nconf.use('remote', { type: 'uetcd', endpoints: process.env.ETCD || 'http://127.0.0.1:2379',
  prefix: '/myapp' });
nconf.defaults({ greeting: 'hello', port: 8080 });

console.log('greeting at start:', nconf.get('greeting'));   // loaded synchronously
nconf.stores.remote.on('change', (key, value, old) =>
  console.log(`changed ${key}: ${JSON.stringify(old)} -> ${JSON.stringify(value)};`,
    'greeting now', nconf.get('greeting')));
process.on('SIGINT', () => nconf.stores.remote.close().then(() => process.exit(0)));
