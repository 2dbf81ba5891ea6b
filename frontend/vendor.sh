#!/bin/sh
# Rebuild service/web/static/vendor/ from the npm registry: the one command for an update.
# Change a version in package.json, run `npm install --package-lock-only --ignore-scripts`, then this script,
# and commit package.json, package-lock.json and the vendor folder together (the diff shows what changed).
# Install scripts are never run (--ignore-scripts): only the packages' published files are copied.
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
node vendor.mjs
