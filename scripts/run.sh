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
#
# Before serving it starts "our nameservers" for the demo zone: a local
# Knot DNS authoritative for demo.example that takes TSIG-signed RFC 2136
# updates (scripts/knot-demo.sh, files in DATA/dns), and, while the
# configuration has no DNS provider yet, points certdesk at it: the
# [dnsupdate] section (server, nameservers, TSIG key) and
# validation.stub_zones (demo.example, and its parent example. that CAA
# lookups climb to, asked of that Knot; everything else resolved as
# usual). Knot is stopped when serve exits.
set -eu
if [ $# -ne 4 ]; then
	echo "usage: $0 BIN DATA LISTEN PLAIN_LISTEN" >&2
	exit 2
fi
bin=$1
data=$2
listen=$3
plain=$4
here=$(dirname "$0")

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
	(umask 077 && printf 'demo login: demo@demo.example\npassword: %s\n' \
		"$pw" > "$data/demo-login.txt")
	chmod 600 "$data/demo-login.txt"
fi

# the demo staff: a validation agent (the back office's OV/EV cases) and
# an admin (the back office, and "Outgoing mail", where the hostmaster's
# confirmation link of the email validation path waits while no SMTP
# server is configured); also added to a data directory seeded before
# they were
staff() { # ROLE EMAIL NAME
	grep -q "^$1 login: " "$data/demo-login.txt" && return 0
	spw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	if printf '%s\n' "$spw" | "$bin" admin user add --data "$data" \
	    --email "$2" --name "$3" --role "$1" --password-stdin \
	    >/dev/null; then
		printf '%s login: %s\npassword: %s\n' "$1" "$2" "$spw" \
			>> "$data/demo-login.txt"
	else
		echo "run: could not add the demo $1 $2" >&2
	fi
}
if [ -e "$data/demo-login.txt" ]; then
	chmod 600 "$data/demo-login.txt"
	staff agent agent@demo.example "Demo Agent"
	staff admin admin@demo.example "Demo Admin"
fi

# our nameservers for demo.example
knot_pidfile=""
if knot_pidfile=$("$here/knot-demo.sh" "$data" start); then
	knot_port=$(cat "$data/dns/port")
	# only while no DNS provider is configured: never override a choice
	if grep -q '^;server = *$' "$data/certdesk.conf"; then
		echo "run: pointing [dnsupdate] at the demo nameserver" >&2
		awk -v srv="127.0.0.1:$knot_port" '
			/^\[/ { sec = $0 }
			sec == "[dnsupdate]" && /^;server = *$/ {
				print "server = " srv; next }
			sec == "[dnsupdate]" && /^;nameservers = *$/ {
				print "nameservers = ns1.demo.example " \
				    "ns2.demo.example"; next }
			sec == "[dnsupdate]" && /^;tsig_name = *$/ {
				print "tsig_name = certdesk-update."; next }
			sec == "[dnsupdate]" && /^;tsig_secret_file = *$/ {
				print "tsig_secret_file = dns/tsig.key"; next }
			sec == "[validation]" && /^;stub_zones = *$/ {
				print "stub_zones = demo.example=" srv \
				    " example=" srv; next }
			{ print }
		' "$data/certdesk.conf" > "$data/certdesk.conf.tmp"
		chmod 600 "$data/certdesk.conf.tmp"
		mv "$data/certdesk.conf.tmp" "$data/certdesk.conf"
	elif ! grep -q "^server = 127.0.0.1:$knot_port\$" \
	    "$data/certdesk.conf"; then
		echo "run: note: [dnsupdate] server in $data/certdesk.conf is" \
			"not the demo nameserver 127.0.0.1:$knot_port" >&2
	fi
else
	knot_pidfile=""
	echo "run: the demo nameserver did not start: no automatic DNS" \
		"validation for demo.example" >&2
fi

if [ -e "$data/demo-login.txt" ]; then
	echo "demo logins (see $data/demo-login.txt):"
	sed 's/^/  /' "$data/demo-login.txt"
fi
echo "root certificate: $(cd "$data" && pwd)/ca/root.pem"
echo "customer portal: https://$listen/portal/"
echo "back office (agent, admin): https://$listen/backoffice/"
echo "outgoing mail (admin): https://$listen/portal/admin/mail"
echo "ACME directory: https://$listen/acme/directory (trust the root" \
	"certificate above)"
if [ -n "$knot_pidfile" ]; then
	echo "demo nameserver (Knot DNS) for demo.example: 127.0.0.1:$knot_port"
fi
echo "run: serving on https://$listen and http://$plain (Ctrl-C to stop)" >&2

# serve in the background so that Knot can be stopped when it ends; a
# signal to this script goes on to certdesk (a background job of a
# non-interactive shell ignores Ctrl-C's SIGINT itself)
"$bin" serve --data "$data" --listen "$listen" --plain-listen "$plain" &
serve_pid=$!
trap 'kill -TERM "$serve_pid" 2>/dev/null || true' INT TERM HUP
# wait returns early when a trapped signal arrives: wait until it exits
while :; do
	status=0
	wait "$serve_pid" || status=$?
	kill -0 "$serve_pid" 2>/dev/null || break
done
trap - INT TERM HUP
if [ -n "$knot_pidfile" ]; then
	"$here/knot-demo.sh" "$data" stop || true
fi
exit "$status"
