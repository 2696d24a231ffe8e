#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Counts test cases across meson's test log (cmocka prints '[  PASSED  ] N
test(s).' and '[  FAILED  ] N test(s)') and pytest's JUnit XML, and prints
'N passed, N failed' as the last line. Exits 1 if anything failed."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

build = sys.argv[1]
passed = failed = skipped = 0
log = os.path.join(build, "meson-logs", "unitlog.json")
if not os.path.exists(log):
    print("no unit test log: " + log)
    failed += 1
else:
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            if "integration" in t.get("suite", []) or t.get("name", "").endswith("pytest"):
                continue
            out = (t.get("stdout", "") or "") + (t.get("stderr", "") or "")
            # cmocka: one "[       OK ] name" per passing case and one
            # "[  FAILED  ] name" per failing case (and a count line)
            p = [len(re.findall(r"^\[       OK \] ", out, re.M))]
            fl = [len(re.findall(r"^\[  FAILED  \] (?!\d+ test)", out, re.M))]
            fl = [x // 2 if x > 1 else x for x in fl]  # listed twice
            if p == [0]:
                p = []
            if fl == [0]:
                fl = []
            if t.get("result") == "OK" and not p:
                p = [1]
            if t.get("result") not in ("OK", "SKIP") and not fl:
                fl = [1]
            passed += sum(p)
            failed += sum(fl)
# the integration suite, and its ACME flow run again on the release binary
for xmlp in (os.path.join(build, "tests", "integration", "pytest.xml"),
             os.path.join("tests", "artifacts", "release-junit.xml")):
    if not os.path.exists(xmlp):
        continue
    root = ET.parse(xmlp).getroot()
    for ts in root.iter("testsuite"):
        n = int(ts.get("tests", 0))
        f_ = int(ts.get("failures", 0)) + int(ts.get("errors", 0))
        s = int(ts.get("skipped", 0))
        passed += n - f_ - s
        failed += f_
        skipped += s
# node's test runner (browser tests): one <testcase> per test
bxml = os.path.join("tests", "artifacts", "browser-junit.xml")
if os.path.exists(bxml):
    root = ET.parse(bxml).getroot()
    for tc in root.iter("testcase"):
        if tc.find("failure") is not None or tc.find("error") is not None:
            failed += 1
        elif tc.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
else:
    print("no browser test report: " + bxml)
    failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
