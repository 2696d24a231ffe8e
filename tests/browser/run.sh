#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the browser tests (tests/browser/test_*.mjs) with node's built-in
# test runner against headless Debian Chromium through playwright-core.
# Builds web/dist first (scripts/web.sh, a no-op when up to date). Prints
# node's TAP output ending with its summary ('# tests N', '# pass N',
# '# fail N'), writes a JUnit report to tests/artifacts/browser-junit.xml and
# screenshots to tests/artifacts/, and exits non-zero when a test fails.
# Usage: tests/browser/run.sh [test files...]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "browser tests: $chromium not found (apt-get install chromium)" >&2
	exit 1
fi
scripts/web.sh
mkdir -p tests/artifacts

if [ "$#" -eq 0 ]; then
	set -- tests/browser/test_*.mjs
fi
export CERTDESK_SRCDIR="$top"
exec timeout 300 node --test \
	--test-reporter=tap --test-reporter-destination=stdout \
	--test-reporter=junit \
	--test-reporter-destination=tests/artifacts/browser-junit.xml \
	"$@"
