#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# CA core benchmark, in one run on this machine: `openssl speed` for ECDSA
# P-256 sign and verify (the cryptographic floor), then certdesk's whole
# issuance pipeline (bench_issue: CSR parse+verify, key checks, build, lint,
# sign in the signer process, durable store) on one core and on two.
# usage: bench/run.sh [BUILD_DIR] [COUNT]
set -eu
build=${1:-build}
count=${2:-20000}
cd "$(dirname "$0")/.."
meson compile -C "$build" bench_issue >/dev/null
bin="$build/bench/bench_issue"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== machine: $(nproc) cores, $(uname -r), $(openssl version)"
echo "== openssl speed ecdsap256 (1 core)"
sp=$(taskset -c 0 openssl speed -seconds 3 ecdsap256 2>/dev/null | \
	awk '/256 bits ecdsa \(nistp256\)/ {print $7, $8}')
echo "$sp" | awk '{printf "openssl: P-256 sign %.0f/s = %.4f ms CPU, verify %.0f/s = %.4f ms CPU\n", $1, 1000/$1, $2, 1000/$2}'

run() {
	label=$1 cpus=$2 threads=$3
	rm -rf "$tmp/d" && mkdir -p "$tmp/d"
	out=$(taskset -c "$cpus" "$bin" "$tmp/d" "$count" "$threads" src/ca/share/weak-keys)
	echo "$label: $out"
}
echo "== certdesk issuance pipeline, durable store (synchronous=FULL)"
run "1 core, 1 thread " 0 1
run "1 core, 4 threads" 0 4
run "2 cores, 4 threads" 0,1 4
