#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# `make run`: scripts/run.sh BIN DATA LISTEN PLAIN_LISTEN
# Initialises the data directory DATA on the embedded defaults (SQLite, CA
# keys in files, ECDSA hierarchy) if it holds no CA yet, with certificates
# pointing at http://PLAIN_LISTEN for their CRLs and CA certificates; says
# where the root certificate is; then runs `certdesk serve` in the
# foreground (Ctrl-C stops it): HTTPS (ACME) on LISTEN, plain HTTP (CRLs,
# CA certificates) on PLAIN_LISTEN.
set -eu
if [ $# -ne 4 ]; then
	echo "usage: $0 BIN DATA LISTEN PLAIN_LISTEN" >&2
	exit 2
fi
bin=$1
data=$2
listen=$3
plain=$4

# the URL written into certificates: a wildcard address is not reachable
host=${plain%:*}
port=${plain##*:}
case $host in
0.0.0.0 | "[::]" | "") host=127.0.0.1 ;;
esac

if [ ! -e "$data/ca/root.pem" ]; then
	echo "run: initialising $data" >&2
	"$bin" init --data "$data" --hierarchy ecdsa \
		--base-url "http://$host:$port" >/dev/null
	# the demo customer: a contract with one slot of every product and a
	# domain whose zone is on "our" nameservers
	cust=$("$bin" admin customer add --data "$data" --name "Demo Customer")
	contract=$("$bin" admin contract add --data "$data" --customer "$cust" \
		--number DEMO-0001)
	"$bin" admin domain add --data "$data" --contract "$contract" \
		--name demo.example --hosted >/dev/null
	for p in starter business business_wildcard premium unlimited; do
		"$bin" admin slot add --data "$data" --contract "$contract" \
			--product "$p" >/dev/null
	done
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" | "$bin" admin user add --data "$data" \
		--customer "$cust" --email demo@demo.example --name "Demo User" \
		--role customer --password-stdin >/dev/null
	printf 'demo login: demo@demo.example\npassword: %s\n' "$pw" \
		> "$data/demo-login.txt"
	chmod 600 "$data/demo-login.txt"
fi
if [ -e "$data/demo-login.txt" ]; then
	echo "demo customer login (see $data/demo-login.txt):"
	sed 's/^/  /' "$data/demo-login.txt"
fi
echo "root certificate: $(cd "$data" && pwd)/ca/root.pem"
echo "customer portal: https://$listen/portal/"
echo "ACME directory: https://$listen/acme/directory (trust the root" \
	"certificate above)"
echo "run: serving on https://$listen and http://$plain (Ctrl-C to stop)" >&2
exec "$bin" serve --data "$data" --listen "$listen" --plain-listen "$plain"
