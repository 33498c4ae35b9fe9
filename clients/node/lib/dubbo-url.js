'use strict';

// Dubbo URL helpers: parse just enough of `proto://host:port/path?k=v` to find the service and
// category, and encode key segments the way Dubbo's URL.encode (java.net.URLEncoder, UTF-8) does.

const { RegistryError } = require('./errors');

const DEFAULT_CATEGORY = 'providers';

// java.net.URLEncoder: keeps [A-Za-z0-9.*_-], space -> '+', the rest as %XX of UTF-8 bytes.
function urlEncode(text) {
  return encodeURIComponent(String(text))
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

function urlDecode(text) {
  try {
    return decodeURIComponent(String(text).replace(/\+/g, ' '));
  } catch {
    return String(text);
  }
}

function parseQuery(query) {
  const params = {};
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = urlDecode(eq < 0 ? part : part.slice(0, eq));
    params[k] = eq < 0 ? '' : urlDecode(part.slice(eq + 1));
  }
  return params;
}

// Returns { protocol, address, path, params, service, category }.
function parseUrl(url) {
  if (typeof url !== 'string' || url.length === 0) {
    throw new RegistryError('EINVAL', 'url must be a non-empty string');
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?/.exec(url);
  if (!m) throw new RegistryError('EINVAL', `not a Dubbo URL: ${url}`);
  const params = parseQuery(m[4] || '');
  const path = (m[3] || '').replace(/^\/+/, '');
  const service = params.interface || path;
  if (!service) throw new RegistryError('EINVAL', `no service (path or interface=) in ${url}`);
  return {
    protocol: m[1], address: m[2], path, params, service,
    category: params.category || DEFAULT_CATEGORY,
  };
}

function normaliseGroup(group) {
  const g = String(group ?? 'dubbo').replace(/^\/+|\/+$/g, '');
  if (!g) throw new RegistryError('EINVAL', 'group must not be empty');
  return g.split('/');
}

// target: a service name, '*', or a consumer URL whose category= lists the categories.
function parseTarget(target) {
  if (typeof target !== 'string' || target.length === 0) {
    throw new RegistryError('EINVAL', 'target must be a service name, "*" or a consumer URL');
  }
  if (!target.includes('://')) return { service: target, categories: [DEFAULT_CATEGORY] };
  const u = parseUrl(target);
  const categories = (u.params.category || DEFAULT_CATEGORY).split(',')
    .map((c) => c.trim()).filter(Boolean);
  return { service: u.service, categories: [...new Set(categories)].sort() };
}

module.exports = {
  urlEncode, urlDecode, parseUrl, parseTarget, normaliseGroup, DEFAULT_CATEGORY,
};
