#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs every test of a configured build directory (unit suites, then the
# integration suite) and ends with one line CI can read: 'N passed, N failed'
# counting each cmocka test case and each pytest test.
set -u
build=${1:-build-test}
status=0
meson test -C "$build" --print-errorlogs --no-suite integration --num-processes 2 \
	--logbase unitlog || status=1
meson test -C "$build" --print-errorlogs --suite integration -v \
	--logbase integrationlog || status=1
# the browser tests (headless Chromium through playwright-core)
rm -f tests/artifacts/browser-junit.xml
CERTDESK_BIN=$(cd "$build" && pwd)/src/daemon/certdesk tests/browser/run.sh || status=1
/usr/bin/python3 scripts/test_summary.py "$build" || status=1
exit $status
