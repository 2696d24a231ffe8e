# shellcheck shell=sh
# SPDX-License-Identifier: Apache-2.0
#
# Shell functions the benchmark scripts share; sourced (`. bench/lib.sh`)
# from the repository's top directory by a POSIX sh script that sets
# `prog` (its name, for messages), `tmp` (its temporary directory) and
# `srv_pid` (the server under test, or empty). Stops nothing but the
# processes it is given by PID.
# shellcheck disable=SC2154 # prog, tmp and srv_pid: the sourcing script's

# need CMD:PACKAGE...: fails, naming the Debian package, unless each CMD
# is on the PATH (or in /usr/sbin)
need() {
	for _nd in "$@"; do
		if ! command -v "${_nd%%:*}" >/dev/null 2>&1 &&
		    ! [ -x "/usr/sbin/${_nd%%:*}" ]; then
			echo "$prog: ${_nd%%:*} not found" \
			    "(Debian package ${_nd#*:})" >&2
			return 1
		fi
	done
}

# tree PID: the pids of PID and all its descendants, parents first
tree() {
	echo "$1"
	for _tree_child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		tree "$_tree_child"
	done
}

# stop_tree PID [KILL]: stops PID and all its descendants: TERM, then KILL
# after 5 s; with KILL at once (for a parent that ignores TERM)
stop_tree() {
	[ -n "$1" ] || return 0
	_st_pids=$(tree "$1")
	if [ "${2:-}" != KILL ]; then
		# shellcheck disable=SC2086 # one word per pid
		kill $_st_pids 2>/dev/null || true
		_st_i=0
		while [ $_st_i -lt 50 ] && kill -0 "$1" 2>/dev/null; do
			# a zombie counts as gone
			case $(ps -o stat= -p "$1" 2>/dev/null) in
			Z*|'') break ;;
			esac
			sleep 0.1
			_st_i=$((_st_i + 1))
		done
	fi
	# shellcheck disable=SC2086
	kill -9 $_st_pids 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ready CMD...: retries CMD for up to 15 s while $srv_pid lives; else
# shows the end of $tmp/server.log and fails
ready() {
	_rd_i=0
	until "$@" >/dev/null 2>&1; do
		_rd_i=$((_rd_i + 1))
		if [ $_rd_i -gt 150 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
			echo "$prog: server not ready: $*; its log:" >&2
			tail -20 "$tmp/server.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# pct FILE P: the P-th quantile (0..1) of the numbers in FILE, one a line
pct() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		i = int(p * (NR - 1) + 0.5) + 1; printf "%.1f", NR ? v[i] : 0 }'
}

# knot_start PORT: Knot DNS on 127.0.0.1:PORT, serving the zone
# bench.test. with *.bench.test. A 127.0.0.1 and an empty test. (so that a
# CAA lookup climbing to the TLD gets an answer, not REFUSED), from
# $tmp/knot; sets knot_pid once it answers
knot_start() {
	mkdir -p "$tmp/knot"
	cat >"$tmp/knot/bench.test.zone" <<EOF
\$TTL 300
@	SOA	ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@	NS	ns.bench.test.
ns	A	127.0.0.1
*	A	127.0.0.1
EOF
	cat >"$tmp/knot/test.zone" <<EOF
\$TTL 300
@	SOA	ns.test. hostmaster.test. 1 3600 600 86400 300
@	NS	ns.test.
ns	A	127.0.0.1
EOF
	cat >"$tmp/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$1
    rundir: $tmp/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: $tmp/knot/knot.sock
database:
    storage: $tmp/knot/db
log:
  - target: stderr
    any: error
zone:
  - domain: bench.test
    storage: $tmp/knot
    file: bench.test.zone
  - domain: test
    storage: $tmp/knot
    file: test.zone
EOF
	knotd -c "$tmp/knot/knot.conf" 2>"$tmp/knot/log" &
	knot_pid=$!
	_kn_i=0
	until knotc -c "$tmp/knot/knot.conf" zone-status bench.test \
	    >/dev/null 2>&1; do
		_kn_i=$((_kn_i + 1))
		if [ $_kn_i -gt 100 ] || ! kill -0 "$knot_pid" 2>/dev/null
		then
			echo "$prog: knotd did not start:" >&2
			cat "$tmp/knot/log" >&2
			return 1
		fi
		sleep 0.1
	done
}
