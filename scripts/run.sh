#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# `make run`: scripts/run.sh BIN DATA LISTEN
# Initialises the data directory DATA on the embedded defaults (SQLite, CA
# keys in files, ECDSA hierarchy) if it holds no CA yet, with certificates
# pointing at http://LISTEN for their CRLs and CA certificates; says where
# the root certificate is; then runs `certdesk serve` on LISTEN in the
# foreground (Ctrl-C stops it).
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 BIN DATA LISTEN" >&2
	exit 2
fi
bin=$1
data=$2
listen=$3

# the URL written into certificates: a wildcard address is not reachable
host=${listen%:*}
port=${listen##*:}
case $host in
0.0.0.0 | "[::]" | "") host=127.0.0.1 ;;
esac

if [ ! -e "$data/ca/root.pem" ]; then
	echo "run: initialising $data" >&2
	"$bin" init --data "$data" --hierarchy ecdsa \
		--base-url "http://$host:$port"
else
	echo "root certificate: $(cd "$data" && pwd)/ca/root.pem"
fi
echo "run: serving on http://$listen (Ctrl-C to stop)" >&2
exec "$bin" serve --data "$data" --listen "$listen"
