#!/bin/sh
# The uetcd-node test suite's one dev dependency: nconf, the real library its nconf store plugs
# into, from the npm registry into clients/node/node_modules (the package itself has no runtime
# dependencies). npm ships with nodesource's nodejs; Debian's nodejs needs its npm package.
set -e
cd "$(dirname "$0")/../clients/node"
[ -f node_modules/nconf/package.json ] && exit 0
command -v npm >/dev/null 2>&1 || sh ../../scripts/install-deps.sh npm
npm install --no-audit --no-fund --no-package-lock --loglevel=error
