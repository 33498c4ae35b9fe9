'use strict';

// One error type for every failure the package reports. `code` is ours (stable, for
// programs); `errorCode` is etcd's JSON errorCode when the server sent one; `status` is the
// HTTP status when there was a response.
class RegistryError extends Error {
  constructor(code, message, { errorCode, status, cause, index } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'RegistryError';
    this.code = code;
    if (errorCode !== undefined) this.errorCode = errorCode;
    if (status !== undefined) this.status = status;
    if (index !== undefined) this.index = index;
  }
}

// etcd v2 errorCodes the package reacts to.
const ETCD = Object.freeze({
  KEY_NOT_FOUND: 100,
  NOT_FILE: 102,
  NOT_DIR: 104,
  NODE_EXIST: 105,
  UNAUTHORIZED: 110,
  EVENT_INDEX_CLEARED: 401,
});

function isUnavailable(err) {
  return err instanceof RegistryError && err.code === 'EUNAVAILABLE';
}

module.exports = { RegistryError, ETCD, isUnavailable };
