#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian packages certdesk needs to build, run and test, with
# apt-get, but only those that are missing. Usage: scripts/deps.sh [run|test|bench]
set -eu
mode=${1:-run}

run_pkgs="meson ninja-build pkg-config gcc libc6-dev libssl-dev openssl
 libmicrohttpd-dev libgnutls28-dev libjansson-dev libsqlite3-dev libsodium-dev
 libinih-dev libcurl4-openssl-dev libpsl-dev libidn2-dev libunbound-dev
 libevent-dev libldns-dev libjemalloc-dev dns-root-data knot libp11-kit-dev"
test_pkgs="libcmocka-dev python3-pytest python3-cryptography sqlite3 procps
 python3-prometheus-client
 knot knot-dnsutils bind9 chromium certbot python3-certbot-dns-rfc2136 lego
 uacme dehydrated acme-tiny caddy apache2 ruby-acme-client golang-go
 golang-golang-x-crypto-dev python3-aiosmtpd nginx softhsm2 opensc"

pkgs=$run_pkgs
bench_pkgs="pebble knot util-linux wrk nginx curl golang-cfssl sqlite3"
[ "$mode" = test ] && pkgs="$pkgs $test_pkgs"
[ "$mode" = bench ] && pkgs="$pkgs $bench_pkgs"
# node and npm build the browser bundle (web/); Debian's when none is there
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
