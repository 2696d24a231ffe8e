#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# ACME benchmark, in one run on this machine: the same load (acme_load: N
# concurrent accounts, each doing newOrder -> authorization -> http-01
# challenge -> finalize -> download, over and over) against Pebble (Debian
# package `pebble`, the reference test server) and against certdesk, with
# real http-01 validation answered by acme_load's built-in HTTP server and
# the names (*.bench.test) resolved by a Knot DNS server started here.
# Reports certificates per second, p50/p99 order latency and the server's
# CPU milliseconds per certificate (utime+stime from /proc over the
# server's whole process tree, certdesk's signer included), and the ratios.
#
# Debian's Pebble 2.4.0 deadlocks under concurrent load (a lock-order
# inversion between its authorization handler and the authorization-reuse
# lookup in newOrder; no setting turns it off). So Pebble runs in short
# runs, freshly started each time, at the highest concurrency that
# completes RUNS runs, trying 32, 16, 8, 4, 2, 1 clients; acme_load's
# watchdog ends a run that completes nothing for 3 s, and up to TOLERATE
# such deadlocked runs per level are discarded and run again (at 8 clients
# one 6 s run in two to eight deadlocks; at 16 and 32 every one did).
# certdesk runs right after each of Pebble's runs at the same concurrency,
# so that each pair sees the same load on a shared machine (the ratios
# are given for the whole and per pair), and then at 32 and 64 clients.
#
# Needs (Debian): pebble, knot, curl, openssl, meson, ninja-build and the
# build dependencies; installs nothing. Everything listens on 127.0.0.1.
#
# usage: bench/acme_bench.sh [BUILD_DIR]     (default build-bench, release)
# environment: DURATION=6 seconds per run, RUNS=3 Pebble runs (each paired
#   with a certdesk run) per figure, CD_RUNS=3 certdesk runs at each extra
#   concurrency, LEVELS="32 16 8 4 2 1" Pebble
#   concurrencies to try, TOLERATE=1 deadlocked Pebble runs discarded per
#   level, PEBBLE_CLIENTS=N to skip the search,
#   CD_CLIENTS="32 64" extra certdesk concurrencies, SKIP_CERTDESK=1.
set -eu
build=${1:-build-bench}
DURATION=${DURATION:-6}
RUNS=${RUNS:-3}
CD_RUNS=${CD_RUNS:-3}
LEVELS=${LEVELS:-32 16 8 4 2 1}
TOLERATE=${TOLERATE:-1}
CD_CLIENTS=${CD_CLIENTS:-32 64}
SKIP_CERTDESK=${SKIP_CERTDESK:-0}
cd "$(dirname "$0")/.."

prog=acme_bench
tmp=
srv_pid=
# shellcheck source=bench/lib.sh
. bench/lib.sh
need pebble:pebble knotd:knot knotc:knot curl:curl openssl:openssl \
    meson:meson || exit 1
[ -d "$build" ] || meson setup "$build" --buildtype=release >/dev/null
if [ "$SKIP_CERTDESK" = 1 ]; then
	meson compile -C "$build" acme_load >/dev/null
else
	meson compile -C "$build" certdesk acme_load >/dev/null
fi
load="$build/bench/acme_load"
certdesk="$build/src/daemon/certdesk"

tmp=$(mktemp -d /tmp/acme_bench.XXXXXX)
knot_pid=

cleanup() {
	stop_tree "$srv_pid"
	stop_tree "$knot_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ports() {
	"$load" --free-ports "$1"
}

# ---- DNS: Knot serving bench.test (and test., for CAA's climb to the TLD)
dns_port=$(ports 1)
knot_start "$dns_port" || exit 1

# ---- servers -------------------------------------------------------------

# waits for the ACME directory $1 (HTTPS anchored by $2) of server $srv_pid
wait_dir() {
	i=0
	until curl -sf --cacert "$2" -o /dev/null "$1"; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
			echo "acme_bench: no ACME directory at $1;" \
			    "server log:" >&2
			tail -20 "$tmp/server.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# starts a fresh Pebble validating http-01 on port $1
start_pebble() {
	# shellcheck disable=SC2046 # $2: a port
	set -- "$1" $(ports 1)
	if [ ! -f "$tmp/pebble-cert.pem" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 2 -subj /CN=pebble-bench \
		    -addext subjectAltName=IP:127.0.0.1 \
		    -keyout "$tmp/pebble-key.pem" \
		    -out "$tmp/pebble-cert.pem" 2>/dev/null
	fi
	# tlsPort is where Pebble would validate tls-alpn-01: unused here
	cat >"$tmp/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$2", "managementListenAddress": "",
  "certificate": "$tmp/pebble-cert.pem", "privateKey": "$tmp/pebble-key.pem",
  "httpPort": $1, "tlsPort": 1, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
	    pebble -config "$tmp/pebble.json" -dnsserver "127.0.0.1:$dns_port" \
	    >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	dir_url="https://127.0.0.1:$2/dir"
	cacert="$tmp/pebble-cert.pem"
	wait_dir "$dir_url" "$cacert"
}

# starts a freshly initialised certdesk validating http-01 on port $1
start_certdesk() {
	# shellcheck disable=SC2046 # $2, $3: two ports
	set -- "$1" $(ports 2)
	rm -rf "$tmp/cd"
	"$certdesk" init --data "$tmp/cd" >"$tmp/init.log" 2>&1 || {
		echo "acme_bench: certdesk init failed:" >&2
		cat "$tmp/init.log" >&2
		return 1
	}
	# every client comes from 127.0.0.1: the per-address limit (32)
	# would hold the 64-client runs to fewer
	pip="connections_per_ip = 0"
	sed -i "/^\[http\]/,/^\[/ s/^;*connections_per_ip = .*/$pip/" \
	    "$tmp/cd/certdesk.conf"
	grep -q "^$pip\$" "$tmp/cd/certdesk.conf" || {
		echo "acme_bench: cannot set [http] $pip" >&2
		return 1
	}
	"$certdesk" ca root --data "$tmp/cd" >"$tmp/cd-root.pem"
	"$certdesk" serve --data "$tmp/cd" --listen "127.0.0.1:$2" \
	    --plain-listen "127.0.0.1:$3" --http01-port "$1" \
	    --resolver "127.0.0.1:$dns_port" >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	dir_url="https://127.0.0.1:$2/acme/directory"
	cacert="$tmp/cd-root.pem"
	wait_dir "$dir_url" "$cacert"
}

# run SERVER CLIENTS STALL TAG: one run against a fresh server; appends
# its figures to $tmp/results and its latencies to $tmp/lat.TAG.
# Returns 0, or 3 when the watchdog saw the server stop making progress.
run() {
	http_port=$(ports 1)
	"start_$1" "$http_port" || return 1
	rc=0
	timeout $((DURATION + 120)) "$load" --directory "$dir_url" \
	    --cacert "$cacert" --http-port "$http_port" --clients "$2" \
	    --duration "$DURATION" --stall "$3" --server-pid "$srv_pid" \
	    --latency-out "$tmp/lat.run" >"$tmp/run.out" 2>"$tmp/run.err" ||
	    rc=$?
	stop_tree "$srv_pid"
	srv_pid=
	res=$(grep '^RESULT' "$tmp/run.out" || true)
	case "$res" in
	*stalled=1*)
		echo "   $1, $2 clients: no progress for $3 s (deadlock):" \
		    "${res#RESULT stalled=1 }"
		return 3 ;;
	*stalled=0*)
		cat "$tmp/lat.run" >>"$tmp/lat.$4"
		echo "$4 $res" >>"$tmp/results"
		echo "$res" | awk -v s="$1" '{
			for (i = 2; i <= NF; i++) {
				split($i, kv, "="); v[kv[1]] = kv[2]
			}
			printf "   %s, %d clients: %d certs, %d errors, " \
			    "%.1f/s, p50 %.1f ms, p99 %.1f ms, " \
			    "server %.2f ms CPU/cert, resident %.1f -> " \
			    "%.1f MB, peak %.1f MB\n", s, v["clients"],
			    v["certs"], v["errors"], v["rate"], v["p50"],
			    v["p99"], v["srv_cpu_per_cert"],
			    v["rss0_kb"] / 1024, v["rss_kb"] / 1024,
			    v["hwm_kb"] / 1024 }'
		sed -n 's/^steps, mean ms: /      steps (mean ms): /p' \
		    "$tmp/run.out"
		if grep -q 'errors=[1-9]' "$tmp/run.out"; then
			head -5 "$tmp/run.err" | sed 's/^/      /'
		fi
		return 0 ;;
	esac
	echo "   $1, $2 clients: acme_load failed (exit $rc):" >&2
	tail -5 "$tmp/run.err" >&2
	return 1
}

echo "== machine: $(nproc) cores, $(uname -r), $(openssl version)"
echo "== Pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || true)," \
    "real http-01, PEBBLE_VA_NOSLEEP=1," \
    "PEBBLE_WFE_NONCEREJECT=0, PEBBLE_AUTHZREUSE=0"
: >"$tmp/results"
pc=
levels=${PEBBLE_CLIENTS:-$LEVELS}
deadlocks=
for c in $levels; do
	echo " trying $c clients: $RUNS fresh Pebble runs of $DURATION s" \
	    "(at most $TOLERATE deadlocked run(s) discarded)"
	rm -f "$tmp/lat.pebble"
	sed -i '/^pebble /d' "$tmp/results"
	n=0
	d=0
	while [ $n -lt "$RUNS" ] && [ $d -le "$TOLERATE" ]; do
		r=0
		run pebble "$c" 3 pebble || r=$?
		case $r in
		0) n=$((n + 1))
		   # certdesk right after each of Pebble's runs, at the same
		   # concurrency, so that both see the same machine load
		   [ "$SKIP_CERTDESK" = 1 ] ||
		       run certdesk "$c" 15 "certdesk-$c" || exit 1 ;;
		3) d=$((d + 1)) ;;
		*) exit 1 ;;
		esac
	done
	[ $d -eq 0 ] ||
	    deadlocks="${deadlocks:+$deadlocks, }$c clients $d/$((n + d))"
	if [ $n -eq "$RUNS" ]; then
		pc=$c
		break
	fi
	sed -i "/^certdesk-$c /d" "$tmp/results"
	rm -f "$tmp/lat.certdesk-$c"
done
if [ -z "$pc" ]; then
	echo "acme_bench: Pebble survived no concurrency in: $levels" >&2
	exit 1
fi
echo " Pebble's survivable concurrency: $pc clients; deadlocked runs:" \
    "${deadlocks:-none}"

# certdesk at Pebble's concurrency ran paired with Pebble above (for the
# ratios); now the extra concurrencies, each once even when CD_CLIENTS
# names Pebble's too
cd_levels=$(for c in $pc $CD_CLIENTS; do echo "$c"; done | awk '!seen[$1]++')
if [ "$SKIP_CERTDESK" != 1 ]; then
	echo "== certdesk, real http-01, durable storage" \
	    "(SQLite, fsync on commit)"
	for c in $cd_levels; do
		[ "$c" != "$pc" ] || continue
		n=0
		while [ $n -lt "$CD_RUNS" ]; do
			run certdesk "$c" 15 "certdesk-$c" || exit 1
			n=$((n + 1))
		done
	done
fi

# ---- the table -----------------------------------------------------------

echo
printf '%-9s %7s %5s %6s %8s %8s %8s %9s %9s %7s %7s %6s\n' server \
    clients runs certs certs/s "p50 ms" "p99 ms" "CPU ms/c" "gen ms/c" \
    "RSS MB" "peak MB" errors
for tag in pebble $(for c in $cd_levels; do echo "certdesk-$c"; done); do
	grep -q "^$tag " "$tmp/results" || continue
	p50=$(pct "$tmp/lat.$tag" 0.5)
	p99=$(pct "$tmp/lat.$tag" 0.99)
	awk -v tag="$tag" -v p50="$p50" -v p99="$p99" '$1 == tag {
		for (i = 3; i <= NF; i++) {
			split($i, kv, "="); v[kv[1]] = kv[2]
		}
		runs++; clients = v["clients"]; certs += v["certs"]
		errs += v["errors"]; el += v["elapsed"]; srv += v["srv_ms"]
		gen += v["gen_cpu_per_cert"] * v["certs"]
		# memory: the largest of the runs (each a fresh server)
		if (v["rss_kb"] > rss) rss = v["rss_kb"]
		if (v["hwm_kb"] > hwm) hwm = v["hwm_kb"]
	} END {
		name = tag; sub(/-.*/, "", name)
		printf "%-9s %7d %5d %6d %8.1f %8s %8s %9.2f %9.2f %7.1f " \
		    "%7.1f %6d\n", name, clients, runs, certs, certs / el,
		    p50, p99, certs ? srv / certs : 0,
		    certs ? gen / certs : 0, rss / 1024, hwm / 1024, errs
		printf "%s %.4f %.4f %d %d\n", tag, certs / el,
		    certs ? srv / certs : 0, rss, hwm > "/dev/stderr"
	}' "$tmp/results" 2>>"$tmp/summary"
done
echo "(Pebble: $RUNS short runs of $DURATION s, restarted each time, at" \
    "$pc clients, the highest concurrency its deadlock let it survive;" \
    "deadlocked runs: ${deadlocks:-none}. CPU = server process tree," \
    "gen = the load generator, per certificate; RSS = the server" \
    "tree's resident memory when its run ended, peak = the sum of its" \
    "processes' peaks (VmHWM), each the largest of the row's runs)"
if grep -q "^certdesk-$pc " "$tmp/summary" 2>/dev/null; then
	awk -v pc="$pc" '$1 == "pebble" { pr = $2; pcpu = $3; prss = $4
		phwm = $5 }
	    $1 == "certdesk-" pc { cr = $2; ccpu = $3; crss = $4; chwm = $5 }
	    END {
		printf "ratios certdesk/pebble at %d clients: CPU per " \
		    "certificate %.3f (target <= 0.167), certificates per " \
		    "second %.2f (target >= 3), resident memory at the end " \
		    "%.2f, peak %.2f\n", pc, ccpu / pcpu, cr / pr,
		    prss ? crss / prss : 0, phwm ? chwm / phwm : 0
	}' "$tmp/summary"
	# the same per pair of runs (Pebble's, then certdesk's right after)
	awk -v pc="$pc" '{
		for (i = 3; i <= NF; i++) {
			split($i, kv, "="); v[kv[1]] = kv[2]
		}
		cpu = v["certs"] ? v["srv_ms"] / v["certs"] : 0
	}
	$1 == "pebble" { pr[++np] = v["rate"]; pcpu[np] = cpu }
	$1 == "certdesk-" pc { cr[++nc] = v["rate"]; ccpu[nc] = cpu }
	END {
		n = np < nc ? np : nc
		if (n == 0)
			exit
		printf "per pair of runs: CPU ratio"
		for (i = 1; i <= n; i++)
			printf " %.3f", pcpu[i] ? ccpu[i] / pcpu[i] : 0
		printf ", rate ratio"
		for (i = 1; i <= n; i++)
			printf " %.2f", pr[i] ? cr[i] / pr[i] : 0
		printf "\n"
	}' "$tmp/results"
fi
