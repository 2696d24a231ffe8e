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
# the release binary that `make run` starts (-O3, jemalloc: see meson.build)
# through the ACME flow too, when it is built
release=${RELEASE_BUILD:-build}/src/daemon/certdesk
rm -f tests/artifacts/release-junit.xml
if [ -x "$release" ]; then
	CERTDESK_BIN=$(cd "$(dirname "$release")" && pwd)/certdesk \
	CERTDESK_SRCDIR=$(pwd) CERTDESK_TOOLS=$(cd "$build" && pwd)/tests/tools \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    --junitxml=tests/artifacts/release-junit.xml \
	    tests/integration/test_acme_flow.py || status=1
fi
# the browser tests (headless Chromium through playwright-core)
rm -f tests/artifacts/browser-junit.xml
CERTDESK_BIN=$(cd "$build" && pwd)/src/daemon/certdesk tests/browser/run.sh || status=1
/usr/bin/python3 scripts/test_summary.py "$build" || status=1
exit $status
