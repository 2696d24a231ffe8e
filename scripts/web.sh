#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Builds the browser bundle web/dist/portal.js (key pair, CSR and PKCS#12
# made in the customer's browser) from web/src with esbuild. Installs the
# pinned npm packages of web/package-lock.json with `npm ci` when
# web/node_modules is missing or older than the lock file. Idempotent: does
# nothing when the bundle is newer than every input. Needs node and npm
# (Debian: nodejs, npm). Usage: scripts/web.sh [--force]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
web=$top/web
out=$web/dist/portal.js
stamp=$web/node_modules/.package-lock.json

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "web: $tool not found (apt-get install nodejs npm)" >&2
		exit 1
	fi
done

# npm ci when node_modules is absent or older than the lock file
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
	echo "web: npm ci" >&2
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
	touch "$stamp"
fi

stale=0
[ "${1:-}" = --force ] && stale=1
if [ ! -f "$out" ] || [ ! -f "$out.map" ]; then
	stale=1
else
	for f in "$web/build.mjs" "$web/package.json" "$web/package-lock.json" \
	    "$stamp" "$web"/src/*.js; do
		if [ "$f" -nt "$out" ]; then
			stale=1
			break
		fi
	done
fi
[ "$stale" -eq 0 ] && exit 0

echo "web: building web/dist/portal.js" >&2
node "$web/build.mjs"
