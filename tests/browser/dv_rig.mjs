// SPDX-License-Identifier: Apache-2.0
//
// What the domain validation browser tests (test_dv_dns.mjs,
// test_dv_email.mjs) share: the certdesk binary and CLI, a data directory
// with a customer, a contract and a customer user, `certdesk serve` on free
// loopback ports, headless Debian Chromium (playwright-core), the portal's
// setup path as a customer walks it (key made in the browser, "Download
// Private Key", "Set up SSL certificate", "Go to overview"), and the
// certificate download checked with openssl against the downloaded key.
// Every process started here is stopped by the test that started it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, certdeskBin, certdeskEnv, cli, freePort, httpsPortOf,
    launchBrowser, launchPersistent, openssl } from "./lib.mjs";

export { artifacts, certdeskBin, cli, freePort, openssl, top }
    from "./lib.mjs";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns something truthy (or throws after timeout).
export async function until(fn, timeout, what) {
	const deadline = Date.now() + timeout;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		assert.ok(Date.now() < deadline, `timed out: ${what}`);
		await sleep(200);
	}
}

// A data directory with one customer, contract and customer user.
// Returns { data, plainPort, customer, contract, email, password }.
export async function makeData(tmp, customerName, number) {
	const data = path.join(tmp, "data");
	const plainPort = await freePort();
	cli(["init", "--data", data, "--base-url",
	    `http://127.0.0.1:${plainPort}`]);
	const customer = cli(["admin", "customer", "add", "--data", data,
	    "--name", customerName]);
	const contract = cli(["admin", "contract", "add", "--data", data,
	    "--customer", customer, "--number", number]);
	const email = `dana@${number.toLowerCase()}.example`;
	const password = "correct horse battery staple";
	cli(["admin", "user", "add", "--data", data, "--customer", customer,
	    "--email", email, "--name", "Dana Demo", "--role", "customer",
	    "--password-stdin"], password + "\n");
	return { data, plainPort, customer, contract, email, password };
}

export function addConf(data, text) {
	fs.appendFileSync(path.join(data, "certdesk.conf"), text);
}

// `certdesk serve` on free ports; resolves to { proc, httpsPort, log,
// url(path), stop() }.
export async function startServe(tmp, data, plainPort, extra = []) {
	const log = path.join(tmp, "serve.log");
	const fd = fs.openSync(log, "a");
	const proc = spawn(certdeskBin(), ["serve", "--data", data,
	    "--plain-listen", `127.0.0.1:${plainPort}`, "--listen",
	    "127.0.0.1:0", ...extra], { stdio: ["ignore", fd, fd],
	    env: certdeskEnv() });
	fs.closeSync(fd);
	const httpsPort = await httpsPortOf(proc, log, 30000);
	return {
		proc, httpsPort, log,
		url: (p) => `https://127.0.0.1:${httpsPort}${p}`,
		async stop() {
			if (proc.exitCode !== null)
				return;
			const done = new Promise((r) => proc.on("exit", r));
			proc.kill("SIGTERM");
			await done;
		},
	};
}

export async function launch(profile) {
	const ctx = await launchPersistent(profile);
	const page = ctx.pages()[0] || await ctx.newPage();
	page.setDefaultTimeout(30000);
	return { ctx, page };
}

// A second, separate browser (the hostmaster's, the admin's): no cookies
// shared with the customer's.
export async function launchOther() {
	const browser = await launchBrowser();
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
	    viewport: { width: 1000, height: 900 }, acceptDownloads: true });
	const page = await ctx.newPage();
	page.setDefaultTimeout(30000);
	return { browser, ctx, page };
}

export async function login(page, url, email, password) {
	await page.goto(url("/portal/login"));
	await page.fill("#email", email);
	await page.fill("#password", password);
	await Promise.all([page.waitForURL(/\/portal\/$/),
	    page.click("button[type=submit]")]);
}

// The setup form of a slot as the customer fills it: the key made in the
// browser and downloaded, the terms accepted, "Set up SSL certificate",
// then "Go to overview". Returns { keyFile, keyPem }.
export async function setUp(page, url, slot, domain, tmp, viaGear) {
	if (viaGear) {
		await page.goto(url("/portal/"));
		await page.click("details.gear summary");
		await Promise.all([page.waitForURL(/\/setup$/),
		    page.click("text=Set up SSL certificate")]);
	} else {
		await page.goto(url(`/portal/slots/${slot}/setup`));
	}
	assert.match(page.url(), new RegExp(`/portal/slots/${slot}/setup$`));
	await page.waitForSelector("#download-key:not([disabled])");
	await page.fill("#f-domain", domain);
	await page.check("input[name=purpose][value=server]");
	const [dl] = await Promise.all([page.waitForEvent("download"),
	    page.click("#download-key")]);
	const keyFile = path.join(tmp, `${domain}.key`);
	await dl.saveAs(keyFile);
	const keyPem = fs.readFileSync(keyFile, "utf8");
	openssl(["pkey", "-in", keyFile, "-noout"]);
	await page.waitForSelector("#download-status:has-text('Downloaded')");
	await page.check("input[name=terms]");
	await Promise.all([page.waitForSelector("text=Go to overview"),
	    page.click("#setup-submit")]);
	await Promise.all([page.waitForURL(/\/portal\/overview$/),
	    page.click("text=Go to overview")]);
	return { keyFile, keyPem };
}

// The order id of the overview row for domain.
export async function orderOf(page, domain) {
	const row = page.locator("tr[data-order]", { hasText: domain });
	assert.equal(await row.count(), 1);
	return row.getAttribute("data-order");
}

// Downloads the certificate of order id from its page and checks it with
// openssl: the downloaded key's, every name in the SAN, chain to the root.
export async function downloadAndCheck(page, url, id, domain, keyFile,
    names, data, tmp) {
	await page.goto(url(`/portal/orders/${id}`));
	const [dl] = await Promise.all([page.waitForEvent("download"),
	    page.click(`a[href$="/download/fullchain.pem"]`)]);
	const file = path.join(tmp, `${domain}.fullchain.pem`);
	await dl.saveAs(file);
	const certKey = openssl(["x509", "-in", file, "-noout", "-pubkey"]);
	const ourKey = openssl(["pkey", "-in", keyFile, "-pubout"]);
	assert.equal(certKey, ourKey, "the certificate is for the key");
	const san = openssl(["x509", "-in", file, "-noout", "-ext",
	    "subjectAltName"]);
	for (const n of names)
		assert.ok(san.includes(`DNS:${n}`), `${n} in ${san}`);
	openssl(["verify", "-CAfile", path.join(data, "ca", "root.pem"),
	    "-untrusted", file, file]);
	return file;
}

// The text/plain body of a raw RFC 5322 message (quoted-printable or
// 8bit, as certdesk's mail component writes it).
export function bodyOf(raw) {
	const text = raw.toString("latin1");
	const sep = text.indexOf("\r\n\r\n");
	const head = text.slice(0, sep);
	let body = text.slice(sep + 4);
	if (/content-transfer-encoding:\s*quoted-printable/i.test(head))
		body = Buffer.from(body.replace(/=\r?\n/g, "")
		    .replace(/=([0-9A-F]{2})/g, (_, h) =>
		    String.fromCharCode(parseInt(h, 16))), "latin1")
		    .toString("latin1");
	return Buffer.from(body, "latin1").toString("utf8");
}

// The confirmation links in the mails of the spool folder (no SMTP
// server configured), oldest first by file time.
export function spoolLinks(data) {
	const dir = path.join(data, "mail", "spool");
	if (!fs.existsSync(dir))
		return [];
	return fs.readdirSync(dir).filter((f) => f.endsWith(".eml"))
	    .map((f) => path.join(dir, f))
	    .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs)
	    .map((f) => /https:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/.exec(
		bodyOf(fs.readFileSync(f))))
	    .filter((m) => m).map((m) => new URL(m[0]).pathname);
}

// Stops serve and checks its log for sanitizer reports (ASan, UBSan,
// leaks at exit) and for the private key.
export async function serveClean(serve, keyPems = []) {
	await serve.stop();
	const log = fs.readFileSync(serve.log, "utf8");
	assert.doesNotMatch(log, /Sanitizer|runtime error:/, log.slice(-4000));
	assert.doesNotMatch(log, /PRIVATE KEY/);
	for (const k of keyPems) {
		const line = k.split("\n")[1];
		assert.ok(line && !log.includes(line));
	}
}

export async function shot(page, name) {
	fs.mkdirSync(artifacts, { recursive: true });
	await page.screenshot({ fullPage: true,
	    path: path.join(artifacts, `${name}.png`) });
}

// The page that showed a new secret once (a token, ACME credentials),
// reloaded, then asked for again as the back button does: each time it
// leads to the page whose URL matches `back`, which says why ("shown only
// once") and does not hold the secret. After the reload, then(): the
// test's own look at that page.
export async function shownOnce(page, secret, back, then) {
	const shown = page.url();
	await page.reload();
	assert.match(page.url(), back);
	assert.match(await page.textContent("#flash"), /shown only once/);
	assert.ok(!(await page.textContent("main")).includes(secret),
	    "the secret is shown again");
	await then();
	await page.goto(shown);
	assert.match(page.url(), back);
	assert.ok(!(await page.content()).includes(secret));
}

// One customer in their own browser against a fresh server (makeData,
// startServe, launch): { tmp, profile, d, serve, ctx, page, errors }, where
// errors collects page errors, console errors and answers of 400 or more
// (but those `allow` accepts). End it with endCustomer().
export async function customerSession(prefix, customerName, number,
    allow = () => false) {
	const s = { errors: [] };
	s.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `certdesk-${prefix}-`));
	s.profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
	s.d = await makeData(s.tmp, customerName, number);
	s.serve = await startServe(s.tmp, s.d.data, s.d.plainPort);
	({ ctx: s.ctx, page: s.page } = await launch(s.profile));
	s.page.on("pageerror", (e) => s.errors.push(String(e)));
	s.page.on("console", (m) => {
		if (m.type() === "error" && !allow(m.text()))
			s.errors.push(m.text());
	});
	s.page.on("response", (r) => {
		const what = `${r.status()} ${r.url()}`;
		if (r.status() >= 400 && !allow(what))
			s.errors.push(what);
	});
	return s;
}

// Closes the browser, stops the server (its log checked: serveClean) and
// removes the session's folders.
export async function endCustomer(s) {
	if (s.ctx)
		await s.ctx.close();
	if (s.serve)
		await serveClean(s.serve);
	for (const dir of [s.profile, s.tmp])
		if (dir)
			fs.rmSync(dir, { recursive: true, force: true });
}
