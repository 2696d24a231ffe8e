// SPDX-License-Identifier: Apache-2.0
//
// What every browser test rig needs (dv_rig.mjs, backoffice_rig.mjs,
// test_portal_flow.mjs): the source tree and its tests/artifacts folder,
// the certdesk binary ($CERTDESK_BIN, or the newest
// build*/src/daemon/certdesk of the source tree) and its CLI, openssl, a
// free loopback port, the wait for `certdesk serve` to say where it
// listens, and headless Debian Chromium ($CHROMIUM, default
// /usr/bin/chromium) through playwright-core with the same options
// everywhere. Starts nothing by itself; whoever starts a process stops it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const top = process.env.CERTDESK_SRCDIR ||
    path.resolve(here, "..", "..");
export const artifacts = path.join(top, "tests", "artifacts");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const require = createRequire(path.join(top, "web", "package.json"));
export const { chromium } = require("playwright-core");

// The command-line switches every Chromium of the tests runs with.
export const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"];

export function certdeskBin() {
	if (process.env.CERTDESK_BIN)
		return process.env.CERTDESK_BIN;
	let best = null, bestTime = 0;
	for (const d of fs.readdirSync(top)) {
		if (!d.startsWith("build"))
			continue;
		const p = path.join(top, d, "src", "daemon", "certdesk");
		try {
			const st = fs.statSync(p);
			if (st.mtimeMs > bestTime) {
				best = p;
				bestTime = st.mtimeMs;
			}
		} catch (e) {
			// not built there
		}
	}
	assert.ok(best, "no certdesk binary: set CERTDESK_BIN");
	return best;
}

// The environment certdesk runs in: leaks reported at exit.
export const certdeskEnv = () => ({ ...process.env,
    ASAN_OPTIONS: "detect_leaks=1" });

// Runs the certdesk CLI, asserts it succeeded; returns its trimmed stdout.
export function cli(args, input) {
	const r = spawnSync(certdeskBin(), args, { input,
	    env: certdeskEnv() });
	assert.equal(r.status, 0, `certdesk ${args.join(" ")}: ` +
	    r.stderr.toString());
	return r.stdout.toString().trim();
}

// Runs openssl, asserts it succeeded; returns its stdout decoded as
// encoding.
export function openssl(args, input, encoding = "latin1") {
	const r = spawnSync("openssl", args, { input, maxBuffer: 1 << 24 });
	assert.equal(r.status, 0, `openssl ${args.join(" ")}: ` +
	    r.stderr.toString());
	return r.stdout.toString(encoding);
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.listen(0, "127.0.0.1", () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
		s.on("error", reject);
	});
}

// Waits until the `certdesk serve` process proc, logging to logFile, says
// "listening https=127.0.0.1:PORT"; resolves to PORT. Fails when it exits
// first or timeout ms pass.
export async function httpsPortOf(proc, logFile, timeout) {
	const deadline = Date.now() + timeout;
	for (;;) {
		assert.ok(Date.now() < deadline, "serve did not start:\n" +
		    fs.readFileSync(logFile, "utf8"));
		assert.equal(proc.exitCode, null, "serve exited:\n" +
		    fs.readFileSync(logFile, "utf8"));
		const m = /listening https=127\.0\.0\.1:(\d+)/.exec(
		    fs.readFileSync(logFile, "utf8"));
		if (m)
			return Number(m[1]);
		await new Promise((r) => setTimeout(r, 100));
	}
}

// A page that reloads itself (a pending order's meta refresh) may start
// its reload just as a test navigates: Playwright then fails the test's
// goto as "interrupted by another navigation". Both lead to a page the
// test then looks at, so goto tries again (twice at most) instead.
function settled(page) {
	if (page.__settled)
		return page;
	const goto = page.goto.bind(page);

	page.__settled = true;
	page.goto = async (url, opts) => {
		for (let i = 0; ; i++) {
			try {
				return await goto(url, opts);
			} catch (e) {
				if (i >= 2 || !/interrupted by another navigation/
				    .test(String(e)))
					throw e;
			}
		}
	};
	return page;
}

function settleContext(ctx) {
	ctx.pages().forEach(settled);
	ctx.on("page", settled);
	return ctx;
}

// A headless Chromium of its own (chromium.launch); the caller closes it.
export async function launchBrowser() {
	const b = await chromium.launch({ executablePath: chromiumPath,
	    headless: true, args: chromiumArgs });
	const newContext = b.newContext.bind(b);
	const newPage = b.newPage.bind(b);

	b.newContext = async (o) => settleContext(await newContext(o));
	b.newPage = async (o) => settled(await newPage(o));
	return b;
}

// A headless Chromium with a persistent profile folder and one page's
// worth of context options; the caller closes the context.
export async function launchPersistent(profile) {
	return settleContext(await chromium.launchPersistentContext(profile, {
		executablePath: chromiumPath,
		headless: true,
		acceptDownloads: true,
		ignoreHTTPSErrors: true,
		viewport: { width: 1000, height: 900 },
		args: chromiumArgs,
	}));
}
