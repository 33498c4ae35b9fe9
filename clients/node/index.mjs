// ESM entry: the same objects as the CommonJS one (one implementation, no dual-package hazard).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const api = require('./lib/index.js');

export const { Registry, RegistryError, Config, createConfig, attachNconf } = api;
export default api;
