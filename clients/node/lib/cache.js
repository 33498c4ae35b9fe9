'use strict';

// The registry's last known lists on disk: { version, group, services: { svc: { cat: [urls] } } }.
// Rewritten atomically (temp file in the same directory, then rename), so a crash leaves
// either the old or the new file, never a torn one.

const fs = require('node:fs');
const path = require('node:path');

class ListCache {
  constructor(file, groupKey) {
    this.file = file ? path.resolve(file) : null;
    this.groupKey = groupKey;
    this.services = {};
    this.loaded = false;
    this.writeSeq = 0;
  }

  load() {
    if (!this.file || this.loaded) return;
    this.loaded = true;
    try {
      const doc = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      if (doc && doc.version === 1 && doc.group === this.groupKey && doc.services) {
        this.services = doc.services;
      }
    } catch {
      // Missing or unreadable cache: start empty, the server is the truth.
    }
  }

  get(service, category) {
    this.load();
    const s = this.services[service];
    return s && Array.isArray(s[category]) ? s[category].slice() : undefined;
  }

  serviceNames() {
    this.load();
    return Object.keys(this.services).sort();
  }

  put(service, category, urls) {
    if (!this.file) return;
    this.load();
    const s = this.services[service] || (this.services[service] = {});
    const old = s[category];
    if (old && old.length === urls.length && old.every((u, i) => u === urls[i])) return;
    s[category] = urls.slice();
    this.flush();
  }

  flush() {
    const doc = JSON.stringify({ version: 1, group: this.groupKey, services: this.services });
    const tmp = `${this.file}.${process.pid}.${++this.writeSeq}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, doc);
      fs.renameSync(tmp, this.file);
    } catch {
      try { fs.unlinkSync(tmp); } catch { /* nothing to clean */ }
    }
  }
}

module.exports = { ListCache };
