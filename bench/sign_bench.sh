#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Signing API benchmark, in one run on this machine: "a CSR in, a
# certificate out, over HTTPS" for a name that needs no new validation,
# with the same load (sign_load: N clients, each with one keep-alive
# connection, a fresh CSR per certificate from pre-made P-256 keys, every
# certificate checked for the CSR's key) against
#   cfssl     `cfssl serve` (Debian golang-cfssl): POST /api/v1/cfssl/sign,
#             the certificate in the answer, stored in its certdb (SQLite,
#             WAL, synchronous=FULL: fsync on every commit);
#   certdesk  `certdesk serve`'s portal API: POST /api/v1/slots/<id>/orders
#             (issued within the request, as the name's validation is
#             reused), then GET /api/v1/orders/<id>/certificate/cert.pem;
#             durable SQLite (fsync on commit).
# Both sign with a P-256 issuing CA under a P-384 root (certdesk's default
# hierarchy; cfssl's is made here with openssl) and both speak TLS.
# certdesk's data directory is made once: a customer, a contract with the
# domain bench.test, one SSL Unlimited slot per client, an API token, and
# for each client the name c<i>.bench.test validated once (its first order,
# `certdesk admin validate`); every run starts from a copy of it. certdesk
# needs DNS for CAA: Knot DNS serves bench.test on a free port.
# Each run starts its server afresh; at each concurrency RUNS pairs of runs,
# cfssl and certdesk one right after the other (the order alternating), so
# that each pair sees the same load on a shared machine.
# Reports certificates per second, p50/p99 latency, the server's CPU ms
# per certificate (utime+stime, + reaped children, from /proc over its
# whole process tree, certdesk's signer included) and memory (VmRSS at the
# end of the run, the sum of the processes' VmHWM), with the spread of the
# runs, and the ratios certdesk/cfssl.
#
# Needs (Debian): golang-cfssl, sqlite3, knot, openssl, curl, meson,
# ninja-build and the build dependencies; installs nothing. Everything
# listens on 127.0.0.1.
#
# usage: bench/sign_bench.sh [BUILD_DIR]     (default build-bench, release)
# environment: DURATION=5 seconds per run, RUNS=3 pairs of runs per
#   concurrency, CLIENTS="1 4 32", SERVERS="cfssl certdesk".
set -eu
build=${1:-build-bench}
DURATION=${DURATION:-5}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-1 4 32}
SERVERS=${SERVERS:-cfssl certdesk}
cd "$(dirname "$0")/.."

prog=sign_bench
tmp=
srv_pid=
# shellcheck source=bench/lib.sh
. bench/lib.sh
need cfssl:golang-cfssl sqlite3:sqlite3 knotd:knot knotc:knot \
    openssl:openssl curl:curl meson:meson || exit 1
[ -d "$build" ] || meson setup "$build" --buildtype=release >/dev/null
meson compile -C "$build" certdesk sign_load >/dev/null
load="$build/bench/sign_load"
certdesk="$build/src/daemon/certdesk"

tmp=$(mktemp -d /tmp/sign_bench.XXXXXX)
knot_pid=

cleanup() {
	stop_tree "$srv_pid"
	stop_tree "$knot_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

maxc=0
for c in $CLIENTS; do
	[ "$c" -le "$maxc" ] || maxc=$c
done

# shellcheck disable=SC2046 # three ports
set -- $("$load" --free-ports 3)
dns_port=$1 tls_port=$2 plain_port=$3
knot_start "$dns_port" || exit 1

# ---- cfssl: a CA like certdesk's, its certdb, its TLS certificate -------
mkdir -p "$tmp/cfssl"
(
	cd "$tmp/cfssl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 \
	    -nodes -days 30 -subj "/CN=cfssl bench root" -keyout root.key \
	    -out root.pem 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=cfssl bench issuing CA" -keyout ca.key -out ca.csr \
	    2>/dev/null
	printf '%s\n' 'basicConstraints=critical,CA:TRUE,pathlen:0' \
	    'keyUsage=critical,keyCertSign,cRLSign' \
	    'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >ca.ext
	openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key \
	    -set_serial 1 -days 30 -extfile ca.ext -out ca.pem 2>/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj /CN=cfssl-bench-tls \
	    -addext subjectAltName=IP:127.0.0.1 -keyout tls.key \
	    -out tls.pem 2>/dev/null
	# what certdesk issues for a DV order: digitalSignature, serverAuth;
	# validity as certdesk's (199 days before 2027-03-15)
	cat >config.json <<EOF
{"signing": {"default": {"expiry": "4776h",
  "usages": ["digital signature", "server auth"]}}}
EOF
	# the certdb schema of cfssl 1.2 (certdb/sqlite/migrations), which
	# `cfssl serve` expects to exist
	sqlite3 empty.db <<EOF
CREATE TABLE certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
EOF
	# go-sqlite3's DSN: WAL, and fsync in every commit
	cat >db.json <<EOF
{"driver": "sqlite3",
 "data_source": "file:$tmp/cfssl/certs.db?_journal=WAL&_sync=FULL"}
EOF
)

# ---- servers: start_NAME sets srv_pid, url, cacert, checks readiness ----

start_cfssl() {
	rm -f "$tmp/cfssl/certs.db" "$tmp/cfssl/certs.db-wal" \
	    "$tmp/cfssl/certs.db-shm"
	cp "$tmp/cfssl/empty.db" "$tmp/cfssl/certs.db"
	(cd "$tmp/cfssl" && exec cfssl serve -address 127.0.0.1 \
	    -port "$tls_port" -ca ca.pem -ca-key ca.key -config config.json \
	    -db-config db.json -tls-cert tls.pem -tls-key tls.key) \
	    >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	url="https://127.0.0.1:$tls_port"
	cacert="$tmp/cfssl/tls.pem"
	ready curl -sf --cacert "$cacert" -d '{}' "$url/api/v1/cfssl/info"
}

# start_certdesk [DIR]: serve on a copy of the prepared data directory,
# or on DIR itself
start_certdesk() {
	dir=${1:-$tmp/cd}
	if [ -z "${1:-}" ]; then
		rm -rf "$dir"
		cp -a "$tmp/cd-template" "$dir"
	fi
	"$certdesk" serve --data "$dir" --listen "127.0.0.1:$tls_port" \
	    --plain-listen "127.0.0.1:$plain_port" \
	    --resolver "127.0.0.1:$dns_port" >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	url="https://127.0.0.1:$tls_port"
	cacert="$tmp/cd-root.pem"
	ready curl -sf --cacert "$cacert" "$url/healthz"
}

# ---- certdesk: the data directory every run copies -----------------------
cdt="$tmp/cd-template"
admin() {
	"$certdesk" admin "$@" --data "$cdt" 2>>"$tmp/admin.log" || {
		echo "sign_bench: certdesk admin $*: failed:" >&2
		tail -5 "$tmp/admin.log" >&2
		exit 1
	}
}
"$certdesk" init --data "$cdt" >"$tmp/init.log" 2>&1 || {
	echo "sign_bench: certdesk init failed:" >&2
	cat "$tmp/init.log" >&2
	exit 1
}
"$certdesk" ca root --data "$cdt" >"$tmp/cd-root.pem"
customer=$(admin customer add --name "Bench customer")
user=$(admin user add --customer "$customer" --email bench@bench.test \
    --name "Bench user" --role customer)
contract=$(admin contract add --customer "$customer" --number BENCH-1)
admin domain add --contract "$contract" --name bench.test >/dev/null
first_slot=
i=0
while [ $i -lt "$maxc" ]; do
	s=$(admin slot add --contract "$contract" --product unlimited)
	first_slot=${first_slot:-$s}
	[ "$s" -eq $((first_slot + i)) ] || {
		echo "sign_bench: slot ids are not consecutive" >&2
		exit 1
	}
	i=$((i + 1))
done
admin token add --user "$user" --label bench >"$tmp/token"
chmod 600 "$tmp/token"
start_certdesk "$cdt"
"$load" --mode certdesk --prepare --url "$url" --cacert "$cacert" \
    --token-file "$tmp/token" --first-slot "$first_slot" \
    --clients "$maxc" >"$tmp/orders" 2>"$tmp/prepare.err" || {
	echo "sign_bench: preparing the slots failed:" >&2
	cat "$tmp/prepare.err" >&2
	exit 1
}
while read -r word o; do
	if [ "$word" = ORDER ]; then
		admin validate --order "$o" >/dev/null
	fi
done <"$tmp/orders"
stop_tree "$srv_pid"
srv_pid=

# ---- runs ----------------------------------------------------------------

# run SERVER CLIENTS: one run against a fresh server; appends its figures
# to $tmp/results and its latencies to $tmp/lat.SERVER-CLIENTS
run() {
	"start_$1" || return 1
	set -- "$1" "$2" "$tmp/lat.$1-$2"
	# certdesk's slots and token (cfssl's sign endpoint takes no token)
	cd_args=
	[ "$1" != certdesk ] ||
	    cd_args="--token-file $tmp/token --first-slot $first_slot"
	rc=0
	# shellcheck disable=SC2086 # cd_args: words without blanks
	timeout $((DURATION + 60)) "$load" --mode "$1" --url "$url" \
	    --cacert "$cacert" $cd_args --clients "$2" \
	    --duration "$DURATION" --stall 10 --server-pid "$srv_pid" \
	    --latency-out "$tmp/lat.run" >"$tmp/run.out" 2>"$tmp/run.err" ||
	    rc=$?
	stop_tree "$srv_pid"
	srv_pid=
	res=$(grep '^RESULT stalled=0' "$tmp/run.out" || true)
	if [ -z "$res" ]; then
		echo "   $1, $2 clients: sign_load failed (exit $rc):" >&2
		cat "$tmp/run.out" >&2
		tail -5 "$tmp/run.err" >&2
		return 1
	fi
	cat "$tmp/lat.run" >>"$3"
	echo "$1 $res" >>"$tmp/results"
	echo "$res" | awk -v s="$1" '{
		for (i = 2; i <= NF; i++) {
			split($i, kv, "="); v[kv[1]] = kv[2]
		}
		printf "   %-8s %2d clients: %5d certs, %d errors, %7.1f/s, " \
		    "p50 %.2f ms, p99 %.2f ms, server %.3f ms CPU/cert, " \
		    "gen %.3f, resident %.1f MB, peak %.1f MB\n", s,
		    v["clients"], v["certs"], v["errors"], v["rate"],
		    v["p50"], v["p99"], v["srv_cpu_per_cert"],
		    v["gen_cpu_per_cert"], v["rss_kb"] / 1024,
		    v["hwm_kb"] / 1024 }'
	if grep -q 'errors=[1-9]' "$tmp/run.out"; then
		head -5 "$tmp/run.err" | sed 's/^/      /'
	fi
}

echo "== machine: $(nproc) cores, $(uname -r), $(openssl version)"
echo "== cfssl $(dpkg-query -W -f '${Version}' golang-cfssl 2>/dev/null ||
    true) and certdesk; $RUNS pairs of $DURATION s runs per concurrency"
: >"$tmp/results"
n=0
for c in $CLIENTS; do
	r=0
	while [ $r -lt "$RUNS" ]; do
		# alternate which of the pair goes first
		if [ $((n % 2)) -eq 0 ]; then
			order=$SERVERS
		else
			order=$(echo "$SERVERS" | awk '{
				for (i = NF; i > 0; i--)
					printf "%s%s", $i, (i > 1 ? " " : "")
			}')
		fi
		for s in $order; do
			run "$s" "$c" || exit 1
		done
		r=$((r + 1))
		n=$((n + 1))
	done
done

# ---- the table -----------------------------------------------------------

echo
printf '%-9s %7s %4s %6s %8s %13s %7s %7s %8s %13s %8s %7s %7s %6s\n' \
    server clients runs certs certs/s "(runs)" "p50 ms" "p99 ms" \
    "CPU ms/c" "(runs)" "gen ms/c" "RSS MB" "peak MB" errors
: >"$tmp/summary"
for c in $CLIENTS; do
	for s in $SERVERS; do
		tag="$s-$c"
		grep -q "^$s .* clients=$c " "$tmp/results" || continue
		p50=$(pct "$tmp/lat.$tag" 0.5)
		p99=$(pct "$tmp/lat.$tag" 0.99)
		awk -v s="$s" -v c="$c" -v p50="$p50" -v p99="$p99" '
		$1 == s {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "="); v[kv[1]] = kv[2]
			}
			if (v["clients"] != c)
				next
			runs++; certs += v["certs"]; errs += v["errors"]
			el += v["elapsed"]; srv += v["srv_ms"]
			gen += v["gen_cpu_per_cert"] * v["certs"]
			r = v["rate"]; k = v["srv_cpu_per_cert"]
			if (runs == 1 || r < rmin) rmin = r
			if (runs == 1 || r > rmax) rmax = r
			if (runs == 1 || k < kmin) kmin = k
			if (runs == 1 || k > kmax) kmax = k
			# memory: the largest of the runs (each a fresh server)
			if (v["rss_kb"] > rss) rss = v["rss_kb"]
			if (v["hwm_kb"] > hwm) hwm = v["hwm_kb"]
		} END {
			printf "%-9s %7d %4d %6d %8.1f %13s %7.2f %7.2f " \
			    "%8.3f %13s %8.3f %7.1f %7.1f %6d\n", s, c, runs,
			    certs, certs / el, sprintf("%.0f-%.0f", rmin,
			    rmax), p50, p99, certs ? srv / certs : 0,
			    sprintf("%.3f-%.3f", kmin, kmax),
			    certs ? gen / certs : 0, rss / 1024, hwm / 1024,
			    errs
			printf "%s %d %.4f %.4f %d %d\n", s, c, certs / el,
			    certs ? srv / certs : 0, rss, hwm > "/dev/stderr"
		}' "$tmp/results" 2>>"$tmp/summary"
	done
done
echo "(certs/s: all runs' certificates / their time, with the slowest and"
echo " fastest run; CPU = the server's process tree per certificate, all"
echo " runs and the lowest and highest run; gen = the load generator;"
echo " RSS = resident at the end of a run, peak = the sum of the processes'"
echo " VmHWM, each the largest of the row's runs; p50/p99 over all runs)"
for c in $CLIENTS; do
	awk -v c="$c" '$2 == c && $1 == "cfssl" { fr = $3; fc = $4; fm = $5
		fh = $6 }
	    $2 == c && $1 == "certdesk" { cr = $3; cc = $4; cm = $5; ch = $6 }
	    END {
		if (!fr || !cr)
			exit
		printf "ratios certdesk/cfssl at %d clients: certificates " \
		    "per second %.2f, CPU per certificate %.2f, resident " \
		    "memory %.2f, peak %.2f\n", c, cr / fr, cc / fc,
		    fm ? cm / fm : 0, fh ? ch / fh : 0
	}' "$tmp/summary"
	# the same per pair of runs
	awk -v c="$c" '{
		for (i = 3; i <= NF; i++) {
			split($i, kv, "="); v[kv[1]] = kv[2]
		}
		if (v["clients"] != c)
			next
	}
	$1 == "cfssl" { fr[++nf] = v["rate"]; fc[nf] = v["srv_cpu_per_cert"] }
	$1 == "certdesk" { cr[++nc] = v["rate"]
		cc[nc] = v["srv_cpu_per_cert"] }
	END {
		n = nf < nc ? nf : nc
		if (n == 0)
			exit
		printf "  per pair: rate"
		for (i = 1; i <= n; i++)
			printf " %.2f", fr[i] ? cr[i] / fr[i] : 0
		printf ", CPU"
		for (i = 1; i <= n; i++)
			printf " %.2f", fc[i] ? cc[i] / fc[i] : 0
		printf "\n"
	}' "$tmp/results"
done
