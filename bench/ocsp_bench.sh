#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# OCSP serving benchmark, in one run on this machine: the same wrk load
# (GET requests, RFC 6960 appendix A.1, keep-alive) against
#   nginx     serving certdesk's own OCSP response as a static file (the
#             practical ceiling: same bytes, no lookup, no signature),
#   openssl   `openssl ocsp -index ... -port` (OpenSSL's responder, which
#             signs every response live), with a P-256 CA like certdesk's
#             issuing CA,
#   certdesk  `certdesk serve`'s responder, GET /ocsp/<request> on its
#             plain-HTTP listener (pre-signed responses: a lookup),
#   certdesk-crl  the same certdesk listener serving its (cached) CRL: the
#             HTTP layer alone, to tell its cost from the responder's.
# Every run starts its server afresh, checks it with a real OCSP request,
# and stops its whole process tree by PID. ROUNDS rounds, each running
# every server once, in alternating order. The server is pinned to core
# SERVER_CPU and wrk to core CLIENT_CPU (taskset).
# Reports responses per second, p50/p99 latency (wrk --latency), the
# server's CPU ms per response (utime+stime, + reaped children, from
# /proc/<pid>/stat over its whole process tree, before/after), the share
# of their cores the server and wrk used, and the ratios certdesk/nginx and
# certdesk/openssl (target: certdesk >= 80 % of nginx's responses/s).
#
# The trap of `openssl ocsp` (OpenSSL 3.0): once a connection closes
# before sending a whole request, it spins at 100 % CPU and answers nothing
# more. wrk opens and closes such a connection at start-up (wrk.resolve
# probes every address), so wrk is given a three-line script (written into
# the temporary directory) that resolves without the probe; it is used for
# all servers alike and defines no per-request hook, so wrk keeps its
# plain C path. The -multi parent ignores SIGTERM: the tree gets
# SIGKILL.
#
# Needs (Debian): wrk, nginx, openssl, curl, util-linux (taskset), meson,
# ninja-build and the build dependencies; installs nothing. Everything
# listens on 127.0.0.1, except `openssl ocsp -port`, which binds every
# address (it takes no address).
#
# usage: bench/ocsp_bench.sh [BUILD_DIR]     (default build-bench, release)
# environment: DURATION=4 seconds per run, ROUNDS=5, CONNS=16 wrk
#   connections (certdesk's plain listener allows 32 per client address),
#   THREADS=1 wrk threads, SERVER_CPU=0, CLIENT_CPU=1, WORKERS=$(nproc)
#   server workers (nginx worker_processes, openssl -multi, certdesk
#   http.threads: each server's default of one per core, and the same
#   number of runnable threads, so that each gets the same share of its
#   core when other processes run there too), SERVERS="nginx openssl certdesk
#   certdesk-crl", MAX_OTHERS=25: every run waits (up to QUIET_WAIT=30
#   s) for a second in which the machine's other processes use at most
#   this % of a core, and a run during which they took more is run again,
#   up to RETRIES=2 times (then kept, and counted in the "others" column).
set -eu
build=${1:-build-bench}
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORKERS=${WORKERS:-$(nproc)}
MAX_OTHERS=${MAX_OTHERS:-25}
RETRIES=${RETRIES:-2}
QUIET_WAIT=${QUIET_WAIT:-30}
SERVERS=${SERVERS:-nginx openssl certdesk certdesk-crl}
cd "$(dirname "$0")/.."
top=$(pwd)

prog=ocsp_bench
tmp=
srv_pid=
# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk:wrk nginx:nginx openssl:openssl curl:curl taskset:util-linux \
    meson:meson || exit 1
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -d "$build" ] || meson setup "$build" --buildtype=release >/dev/null
meson compile -C "$build" certdesk acme_load >/dev/null
certdesk="$top/$build/src/daemon/certdesk"
load="$top/$build/bench/acme_load"

tmp=$(mktemp -d /tmp/ocsp_bench.XXXXXX)
cleanup() {
	stop_tree "$srv_pid" KILL
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
hz=$(getconf CLK_TCK)

# cpu_ticks PID: utime+stime+cutime+cstime summed over PID's process tree
cpu_ticks() {
	_t=0
	for _p in $(tree "$1"); do
		_s=$(cat "/proc/$_p/stat" 2>/dev/null) || continue
		# fields after "(comm) ": state is field 3, utime field 14
		# shellcheck disable=SC2086
		set -- ${_s##*) }
		_t=$((_t + ${12} + ${13} + ${14} + ${15}))
	done
	echo "$_t"
}

# mem_kb PID: "RSS HWM", VmRSS and VmHWM (kB) summed over PID's process
# tree (nginx and `openssl ocsp -multi` are a parent and its workers)
mem_kb() {
	for _p in $(tree "$1"); do
		cat "/proc/$_p/status" 2>/dev/null
	done | awk '$1 == "VmRSS:" { r += $2 } $1 == "VmHWM:" { h += $2 }
	    END { printf "%d %d\n", r, h }'
}

# busy_ticks: the ticks all cores spent running tasks (/proc/stat: user,
# nice, system, steal; not irq and softirq, which this kernel accounts
# apart from the task they interrupt, and which the runs' own loopback
# traffic causes)
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $9; exit }' /proc/stat
}

# idle_ticks N: the ticks core N spent idle (/proc/stat cpuN idle+iowait)
idle_ticks() {
	awk -v c="cpu$1" '$1 == c { print $5 + $6; exit }' /proc/stat
}

# url-encodes base64 text for a GET path (RFC 6960 A.1)
urlenc() {
	sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g'
}

# shellcheck disable=SC2046 # four ports
set -- $("$load" --free-ports 4)
cd_port=$1 cd_tls_port=$2 ossl_port=$3 nginx_port=$4

# ---- the wrk start-up without its probe connection ----------------------
cat >"$tmp/noprobe.lua" <<'EOF'
-- wrk.resolve without wrk.connect's probe (a connection closed before any
-- request, which makes `openssl ocsp` of OpenSSL 3.0 spin and stop
-- answering); no per-request hooks, so wrk keeps its static request
wrk.resolve = function(host, service)
   wrk.addrs = wrk.lookup(host, service)
end
EOF

# ---- openssl: a P-256 CA, a certificate it issued, its index.txt --------
mkdir -p "$tmp/ossl"
(
	cd "$tmp/ossl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 30 -subj /CN=ocsp-bench-ca -keyout ca.key \
	    -out ca.pem 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj /CN=leaf.bench.test -keyout leaf.key -out leaf.csr \
	    2>/dev/null
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -days 20 \
	    -set_serial 0x1a2b3c4d5e6f7081 -out leaf.pem 2>/dev/null
	end=$(openssl x509 -in leaf.pem -noout -enddate)
	exp=$(date -u -d "${end#notAfter=}" +%y%m%d%H%M%SZ)
	printf 'V\t%s\t\t%s\tunknown\t/CN=leaf.bench.test\n' "$exp" \
	    1A2B3C4D5E6F7081 >index.txt
	openssl ocsp -issuer ca.pem -cert leaf.pem -no_nonce \
	    -reqout req.der
)
ossl_path="/$(base64 -w0 "$tmp/ossl/req.der" | urlenc)"

# ---- certdesk: a data directory and one issued certificate --------------
"$certdesk" init --data "$tmp/cd" \
    --base-url "http://127.0.0.1:$cd_port" >"$tmp/init.log" 2>&1 || {
	echo "ocsp_bench: certdesk init failed:" >&2
	cat "$tmp/init.log" >&2
	exit 1
}
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=leaf.bench.test -addext subjectAltName=DNS:leaf.bench.test \
    -keyout "$tmp/cd-leaf.key" -out "$tmp/cd-leaf.csr" 2>/dev/null
"$certdesk" ca issue --data "$tmp/cd" --profile dv \
    --csr "$tmp/cd-leaf.csr" >"$tmp/cd-issue.pem" 2>"$tmp/issue.log" || {
	echo "ocsp_bench: certdesk ca issue failed:" >&2
	cat "$tmp/issue.log" >&2
	exit 1
}
# the first certificate of the output is the leaf; the issuer is named
# after the key that signed it (issuing-1 on a fresh ecdsa hierarchy)
sed '/-----END CERTIFICATE-----/q' "$tmp/cd-issue.pem" >"$tmp/cd-leaf.pem"
cd_issuer="$tmp/cd/ca/issuing-1.pem"
openssl ocsp -issuer "$cd_issuer" -cert "$tmp/cd-leaf.pem" -no_nonce \
    -reqout "$tmp/cd-req.der"
cd_path="/ocsp/$(base64 -w0 "$tmp/cd-req.der" | urlenc)"
crl_path=/crl/issuing-1.crl
# the plain listener's worker threads ([http] threads)
sed -i "/^\[http\]/,/^\[/ s/^;*threads = .*/threads = $WORKERS/" \
    "$tmp/cd/certdesk.conf"
grep -q "^threads = $WORKERS\$" "$tmp/cd/certdesk.conf" || {
	echo "ocsp_bench: cannot set [http] threads in certdesk.conf" >&2
	exit 1
}

# ---- servers: start_NAME sets srv_pid and url, checks readiness ---------

# ocsp_ok ISSUER CERT CAFILE URL: a real OCSP request (POST) answered with
# a verified response
ocsp_ok() {
	openssl ocsp -issuer "$1" -cert "$2" -CAfile "$3" -url "$4" \
	    -no_nonce -timeout 2 2>&1 | grep -q ': good$'
}

start_openssl() {
	(cd "$tmp/ossl" && exec taskset -c "$SERVER_CPU" openssl ocsp \
	    -index index.txt -port "$ossl_port" -rsigner ca.pem -rkey ca.key \
	    -CA ca.pem -ndays 1 -resp_no_certs -resp_key_id \
	    -multi "$WORKERS") \
	    >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	url="http://127.0.0.1:$ossl_port$ossl_path"
	ready ocsp_ok "$tmp/ossl/ca.pem" "$tmp/ossl/leaf.pem" \
	    "$tmp/ossl/ca.pem" "http://127.0.0.1:$ossl_port"
}

# start_certdesk [crl]: ready when it answers a real OCSP request (or,
# with crl, serves its CRL)
start_certdesk() {
	taskset -c "$SERVER_CPU" "$certdesk" serve --data "$tmp/cd" \
	    --listen "127.0.0.1:$cd_tls_port" \
	    --plain-listen "127.0.0.1:$cd_port" >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	if [ "${1:-}" = crl ]; then
		url="http://127.0.0.1:$cd_port$crl_path"
		ready curl -sf -o /dev/null "$url"
		return
	fi
	url="http://127.0.0.1:$cd_port$cd_path"
	ready ocsp_ok "$cd_issuer" "$tmp/cd-leaf.pem" "$tmp/cd/ca/root.pem" \
	    "http://127.0.0.1:$cd_port/ocsp"
}

start_certdesk_crl() {
	start_certdesk crl
}

start_nginx() {
	mkdir -p "$tmp/nginx/www" "$tmp/nginx/tmp"
	cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    # for a few hundred bytes, read+writev costs less than sendfile
    sendfile off;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $tmp/nginx/tmp/body;
    proxy_temp_path $tmp/nginx/tmp/proxy;
    fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
    scgi_temp_path $tmp/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/nginx/www;
        location /ocsp/ {
            default_type application/ocsp-response;
            try_files /resp.der =404;
        }
    }
}
EOF
	taskset -c "$SERVER_CPU" "$nginx" -p "$tmp/nginx" \
	    -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
	    >"$tmp/server.log" 2>&1 &
	srv_pid=$!
	url="http://127.0.0.1:$nginx_port$cd_path"
	ready cmp_get "$url" "$tmp/nginx/www/resp.der"
}

# cmp_get URL FILE: GET URL gives exactly FILE's bytes
cmp_get() {
	curl -sf -o "$tmp/get.out" "$1" && cmp -s "$tmp/get.out" "$2"
}

# ---- what each serves: real OCSP responses, checked ---------------------

# fetch NAME ISSUER CERT CAFILE: GET $url into $tmp/resp.NAME.der and
# check it is a successful OCSP response saying "good" for CERT
fetch() {
	curl -sf -o "$tmp/resp.$1.der" "$url" || {
		echo "ocsp_bench: $1: GET $url failed" >&2
		return 1
	}
	if ! openssl ocsp -respin "$tmp/resp.$1.der" -issuer "$2" \
	    -cert "$3" -CAfile "$4" -resp_text >"$tmp/check.$1" 2>&1 ||
	    ! grep -q ': good$' "$tmp/check.$1" ||
	    ! grep -q 'OCSP Response Status: successful' "$tmp/check.$1"; then
		echo "ocsp_bench: $1: GET did not give a good OCSP" \
		    "response:" >&2
		cat "$tmp/check.$1" >&2
		return 1
	fi
	echo "   $1: $(wc -c <"$tmp/resp.$1.der") bytes," \
	    "$(grep -m1 'Responder Id' "$tmp/check.$1" | sed 's/^ *//')," \
	    "$(grep -m1 'Cert Status' "$tmp/check.$1" | sed 's/^ *//')," \
	    "certificates in it: $(grep -c 'BEGIN CERTIFICATE' \
	    "$tmp/check.$1")"
}

echo "== machine: $(nproc) cores, $(uname -r), $(openssl version)," \
    "nginx $("$nginx" -v 2>&1 | sed 's,.*/,,'),"  \
    "wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null || echo '?')"
echo "== the responses (GET, checked with openssl ocsp -respin" \
    "-resp_text against the issuer)"
start_openssl
fetch openssl "$tmp/ossl/ca.pem" "$tmp/ossl/leaf.pem" "$tmp/ossl/ca.pem"
stop_tree "$srv_pid" KILL
srv_pid=
static=openssl
case " $SERVERS " in
*" certdesk "*)
	start_certdesk || {
		echo "ocsp_bench: certdesk's responder does not answer" \
		    "POST /ocsp with a good response" >&2
		exit 1
	}
	fetch certdesk "$cd_issuer" "$tmp/cd-leaf.pem" "$tmp/cd/ca/root.pem"
	stop_tree "$srv_pid"
	srv_pid=
	static=certdesk
	;;
esac
case " $SERVERS " in
*" certdesk-crl "*)
	start_certdesk crl
	curl -sf -o "$tmp/crl.der" "$url"
	openssl crl -inform DER -in "$tmp/crl.der" -noout
	echo "   certdesk-crl: $(wc -c <"$tmp/crl.der") bytes (a CRL, not" \
	    "OCSP: certdesk's HTTP layer serving a cached file)"
	stop_tree "$srv_pid"
	srv_pid=
	;;
esac
# nginx serves the very bytes of certdesk's response (openssl's when
# certdesk is not benchmarked), at certdesk's path
mkdir -p "$tmp/nginx/www"
cp "$tmp/resp.$static.der" "$tmp/nginx/www/resp.der"
# nginx's worker may run as another user: let it read the file
chmod 755 "$tmp" "$tmp/nginx" "$tmp/nginx/www"
chmod 644 "$tmp/nginx/www/resp.der"
start_nginx
if [ $static = certdesk ]; then
	fetch nginx "$cd_issuer" "$tmp/cd-leaf.pem" "$tmp/cd/ca/root.pem"
else
	fetch nginx "$tmp/ossl/ca.pem" "$tmp/ossl/leaf.pem" "$tmp/ossl/ca.pem"
fi
echo "   (nginx serves $static's response as a static file)"
stop_tree "$srv_pid"
srv_pid=

# ---- the runs -----------------------------------------------------------

# wait_quiet: waits (at most QUIET_WAIT s) for a second in which the
# machine's other processes use at most MAX_OTHERS % of a core
wait_quiet() {
	_w=0
	while [ $_w -lt "$QUIET_WAIT" ]; do
		_b0=$(busy_ticks)
		sleep 1
		_b1=$(busy_ticks)
		[ $(((_b1 - _b0) * 100)) -gt $((MAX_OTHERS * hz)) ] || return 0
		_w=$((_w + 1))
	done
	echo "     (the machine stayed busy for $QUIET_WAIT s: running anyway)"
}

# run NAME ROUND: one wrk run against a fresh server; writes
# "NAME requests elapsed_s p50_ms p99_ms server_ticks wrk_ticks errors
# others_ticks" to $tmp/run.line. Returns 3 when other processes took more
# than MAX_OTHERS % of a core during the run.
run() {
	wait_quiet
	"start_$(echo "$1" | tr - _)" || return 1
	c0=$(cpu_ticks "$srv_pid")
	b0=$(busy_ticks)
	i0=$(idle_ticks "$SERVER_CPU")
	j0=$(idle_ticks "$CLIENT_CPU")
	# wrk in its own shell, which reports its reaped child's CPU
	# shellcheck disable=SC2016 # expanded by that shell
	taskset -c "$CLIENT_CPU" sh -c 'wrk "$@" >"$0"; s=$?
	    read -r st </proc/$$/stat; echo "$st" >"$0.stat"; exit $s' \
	    "$tmp/wrk.out" -s "$tmp/noprobe.lua" -t "$THREADS" -c "$CONNS" \
	    -d "${DURATION}s" --latency "$url" || {
		echo "ocsp_bench: wrk failed against $1:" >&2
		cat "$tmp/wrk.out" >&2
		return 1
	}
	c1=$(cpu_ticks "$srv_pid")
	mem=$(mem_kb "$srv_pid")
	b1=$(busy_ticks)
	i1=$(idle_ticks "$SERVER_CPU")
	j1=$(idle_ticks "$CLIENT_CPU")
	if [ "$1" = openssl ]; then
		stop_tree "$srv_pid" KILL
	else
		stop_tree "$srv_pid"
	fi
	srv_pid=
	st=$(cat "$tmp/wrk.out.stat")
	# shellcheck disable=SC2086
	set -- "$1" "$2" ${st##*) }
	wrk_ticks=$((${16} + ${17}))
	awk -v name="$1" -v round="$2" -v srv=$((c1 - c0)) -v w="$wrk_ticks" \
	    -v busy=$((b1 - b0)) -v si=$((i1 - i0)) -v ci=$((j1 - j0)) \
	    -v hz="$hz" -v rss="${mem% *}" -v hwm="${mem#* }" '
	function ms(t,   v, u) {
		v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000
		else if (u == "m") v *= 60000
		return v
	}
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/requests in/ { req = $1; el = $4; sub(/s,$/, "", el) }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ {
		for (i = 3; i <= NF; i++) { v = $i; sub(/,/, "", v)
			if (v ~ /^[0-9]+$/) err += v }
	}
	END {
		if (req == "" || el + 0 == 0) exit 1
		o = busy - srv - w
		if (o < 0) o = 0
		printf "%s %d %.3f %.3f %.3f %d %d %d %d %d %d %d %d\n", name,
		    req, el, p50, p99, srv, w, err, o, si, ci, rss,
		    hwm > "'"$tmp/run.line"'"
		printf "   round %d %-13s %7.0f/s p50 %6.3f ms p99 %6.3f ms " \
		    "%.4f ms CPU/resp; server %3.0f%%, wrk %3.0f%%, " \
		    "others %3.0f%% of a core; idle: server core %2.0f%%, " \
		    "wrk core %2.0f%%; resident %.1f MB, peak %.1f MB%s\n",
		    round, name, req / el,
		    p50, p99, srv * 1000 / hz / req, srv * 100 / hz / el,
		    w * 100 / hz / el, o * 100 / hz / el, si * 100 / hz / el,
		    ci * 100 / hz / el, rss / 1024, hwm / 1024,
		    err ? "  ERRORS " err : ""
	}' "$tmp/wrk.out" || {
		echo "ocsp_bench: cannot read wrk's output ($1):" >&2
		cat "$tmp/wrk.out" >&2
		return 1
	}
	awk -v hz="$hz" -v max="$MAX_OTHERS" \
	    '{ exit (($9 * 100 / hz / $3 > max) ? 3 : 0) }' "$tmp/run.line"
}

echo "== $ROUNDS rounds of $DURATION s runs, each server freshly started" \
    "with $WORKERS workers, all pinned to core $SERVER_CPU, wrk (-t $THREADS -c $CONNS," \
    "keep-alive GET) pinned to core $CLIENT_CPU"
: >"$tmp/results"
noisy=0
r=1
order=$SERVERS
while [ $r -le "$ROUNDS" ]; do
	for s in $order; do
		t=1
		while :; do
			rc=0
			run "$s" "$r" || rc=$?
			[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit 1
			if [ $rc -eq 0 ] || [ $t -gt "$RETRIES" ]; then
				cat "$tmp/run.line" >>"$tmp/results"
				break
			fi
			echo "     (others took over $MAX_OTHERS % of a core:" \
			    "run again)"
			noisy=$((noisy + 1))
			t=$((t + 1))
		done
	done
	# alternate: the next round runs the servers in reverse order
	order=$(for s in $order; do echo "$s"; done | awk '
	    { l[NR] = $0 } END { for (i = NR; i > 0; i--) printf "%s ", l[i] }')
	r=$((r + 1))
done

# ---- the table ----------------------------------------------------------
echo
printf '%-13s %4s %8s %7s %7s %11s %6s %6s %6s %6s %6s %7s %5s %6s\n' \
    server runs resp/s "p50 ms" "p99 ms" "CPU ms/resp" server wrk others \
    s-idle c-idle "peak MB" bytes errors
for s in $SERVERS; do
	case $s in
	certdesk-crl) bytes=$(wc -c <"$tmp/crl.der") ;;
	*) bytes=$(wc -c <"$tmp/resp.$s.der") ;;
	esac
	awk -v s="$s" -v hz="$hz" -v bytes="$bytes" '$1 == s {
		n++; req += $2; el += $3; rate[n] = $2 / $3
		p50[n] = $4; p99[n] = $5
		srv += $6; w += $7; err += $8; o += $9; si += $10; ci += $11
		if ($13 > hwm) hwm = $13
	} function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	} END {
		if (!n) exit
		printf "%-13s %4d %8.0f %7.3f %7.3f %11.4f %5.0f%% %5.0f%% " \
		    "%5.0f%% %5.0f%% %5.0f%% %7.1f %5d %6d\n", s, n,
		    med(rate, n), med(p50, n), med(p99, n),
		    srv * 1000 / hz / req, srv * 100 / hz / el,
		    w * 100 / hz / el, o * 100 / hz / el, si * 100 / hz / el,
		    ci * 100 / hz / el, hwm / 1024, bytes, err
		printf "%s %.3f %.6f %d\n", s, med(rate, n),
		    srv * 1000 / hz / req, hwm >> "'"$tmp/summary"'"
	}' "$tmp/results"
done
echo "(resp/s, p50, p99: the median over the runs of each run's figure" \
    "(wrk's percentiles); CPU: the server's process tree, all runs'" \
    "CPU / all runs' responses; server, wrk, others: share of one core" \
    "used by the server, by wrk and by every other process on the machine" \
    "during the runs; s-idle, c-idle: how much of the time the server's" \
    "and wrk's cores were idle; server on core $SERVER_CPU, wrk on core" \
    "$CLIENT_CPU; peak MB: the largest over the runs of the sum of the" \
    "server's processes' peak resident memory (VmHWM); $noisy noisy" \
    "run(s) repeated)"
awk '{ n[$1]++; r[$1 " " n[$1]] = $2 / $3 } END {
	for (i = 1; i <= n["certdesk"]; i++) {
		c = r["certdesk " i]
		if (r["nginx " i] && r["openssl " i])
			l = l sprintf(" %.2f/%.1f", c / r["nginx " i],
			    c / r["openssl " i])
	}
	if (l != "")
		print "per round, certdesk/nginx / certdesk/openssl" \
		    " responses/s:" l
}' "$tmp/results"
awk '{ r[$1] = $2; c[$1] = $3; m[$1] = $4 } END {
	if (("certdesk" in r) && ("nginx" in r)) {
		q = r["certdesk"] / r["nginx"]
		printf "ratios certdesk/nginx: responses/s %.3f (target >= " \
		    "0.80: %s), CPU per response %.2f, peak memory %.2f\n", q,
		    (q >= 0.8 ? "met" : "MISSED"), c["certdesk"] / c["nginx"],
		    m["nginx"] ? m["certdesk"] / m["nginx"] : 0
	}
	if (("certdesk" in r) && ("openssl" in r))
		printf "ratios certdesk/openssl: responses/s %.3f, CPU per " \
		    "response %.3f, peak memory %.2f\n",
		    r["certdesk"] / r["openssl"], c["certdesk"] / c["openssl"],
		    m["openssl"] ? m["certdesk"] / m["openssl"] : 0
	if (("certdesk-crl" in r) && ("nginx" in r))
		printf "ratios certdesk-crl/nginx (HTTP layer alone): " \
		    "responses/s %.3f, CPU per response %.2f\n",
		    r["certdesk-crl"] / r["nginx"],
		    c["certdesk-crl"] / c["nginx"]
}' "$tmp/summary"
