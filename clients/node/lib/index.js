'use strict';

const { Registry } = require('./registry');
const { RegistryError } = require('./errors');
const { Config, createConfig } = require('./config');
const { attachNconf } = require('./nconf');

module.exports = { Registry, RegistryError, Config, createConfig, attachNconf };
