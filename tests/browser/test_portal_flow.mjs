// SPDX-License-Identifier: Apache-2.0
//
// The customer's whole path through the portal in headless Debian Chromium
// (playwright-core), against a real `certdesk serve`: a temporary data
// directory is initialised and seeded with the certdesk CLI (customer,
// contract, hosted domain, a Starter slot, a customer user), then the
// browser logs in, opens the portfolio, uses the gear menu "Set up SSL
// certificate", lets the page make the key, saves it with "Download Private
// Key", submits ("Set up SSL certificate"), goes to the overview; the test
// completes validation with `certdesk admin validate`, the overview refreshes
// itself to "Issued", the certificate is downloaded and checked with openssl
// to match the downloaded key, and revoked (after its confirmation page).
// Every step leaves a screenshot in tests/artifacts/portal-*.png.
// Afterwards the data directory, the database and the server log are
// searched for the private key.
//
// Needs the certdesk binary: $CERTDESK_BIN, or the newest
// build*/src/daemon/certdesk of the source tree.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, certdeskBin, certdeskEnv, cli, freePort, httpsPortOf,
    launchPersistent, openssl } from "./lib.mjs";

const DOMAIN = "shop-flow.test";
const EMAIL = "demo@shop-flow.test";
const PASSWORD = "correct horse battery staple";

function* walk(dir) {
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory())
			yield* walk(p);
		else if (e.isFile())
			yield p;
	}
}

describe("portal: set up, validate, download and revoke a Starter " +
    "certificate", () => {
	let tmp, data, profile, serve, logFile, httpsPort, ctx, page;
	let slot, keyFile, keyPem, orderId;
	const consoleErrors = [];
	let shot = 0;

	async function screenshot(name) {
		shot++;
		await page.screenshot({ fullPage: true, path: path.join(artifacts,
		    `portal-${String(shot).padStart(2, "0")}-${name}.png`) });
	}

	before(async () => {
		fs.mkdirSync(artifacts, { recursive: true });
		for (const f of fs.readdirSync(artifacts))
			if (/^portal-\d+-.*\.png$/.test(f))
				fs.rmSync(path.join(artifacts, f));
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-flow-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		data = path.join(tmp, "data");
		const port = await freePort();
		cli(["init", "--data", data, "--base-url",
		    `http://127.0.0.1:${port}`]);
		const cust = cli(["admin", "customer", "add", "--data", data,
		    "--name", "Demo Shop GmbH"]);
		const contract = cli(["admin", "contract", "add", "--data", data,
		    "--customer", cust, "--number", "SHOP-0001"]);
		cli(["admin", "domain", "add", "--data", data, "--contract",
		    contract, "--name", DOMAIN, "--hosted"]);
		slot = cli(["admin", "slot", "add", "--data", data,
		    "--contract", contract, "--product", "starter"]);
		cli(["admin", "user", "add", "--data", data, "--customer", cust,
		    "--email", EMAIL, "--name", "Dana Demo", "--role",
		    "customer", "--password-stdin"], PASSWORD + "\n");

		logFile = path.join(tmp, "serve.log");
		const log = fs.openSync(logFile, "a");
		serve = spawn(certdeskBin(), ["serve", "--data", data,
		    "--plain-listen", `127.0.0.1:${port}`, "--listen",
		    "127.0.0.1:0"], { stdio: ["ignore", log, log],
		    env: certdeskEnv() });
		httpsPort = await httpsPortOf(serve, logFile, 20000);
		ctx = await launchPersistent(profile);
		page = ctx.pages()[0] || await ctx.newPage();
		// every error counts
		page.on("console", (m) => {
			if (m.type() === "error")
				consoleErrors.push(m.text());
		});
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.on("response", (r) => {
			if (r.status() >= 400)
				consoleErrors.push(`${r.status()} ${r.url()}`);
		});
		page.setDefaultTimeout(30000);
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (serve && serve.exitCode === null) {
			const done = new Promise((r) => serve.on("exit", r));
			serve.kill("SIGTERM");
			await done;
		}
		if (profile)
			fs.rmSync(profile, { recursive: true, force: true });
		if (tmp)
			fs.rmSync(tmp, { recursive: true, force: true });
	});

	const url = (p) => `https://127.0.0.1:${httpsPort}${p}`;

	test("log in and open the portfolio", async () => {
		await page.goto(url("/portal/"));
		assert.match(page.url(), /\/portal\/login$/);
		await screenshot("login");
		await page.fill("#email", EMAIL);
		await page.fill("#password", PASSWORD);
		await Promise.all([page.waitForURL(/\/portal\/$/),
		    page.click("button[type=submit]")]);
		assert.match(await page.textContent("main"),
		    /SSL Starter/);
		await screenshot("portfolio");
	});

	test("gear menu: Set up SSL certificate", async () => {
		await page.click("details.gear summary");
		await screenshot("gear-menu");
		await Promise.all([page.waitForURL(/\/setup$/),
		    page.click("text=Set up SSL certificate")]);
		assert.match(page.url(), new RegExp(`/portal/slots/${slot}/setup$`));
		// the key is made in the browser: the download button comes on
		await page.waitForSelector("#download-key:not([disabled])");
		assert.match(await page.textContent("#key-status"),
		    /private key .* is ready/);
		await page.fill("#f-domain", DOMAIN);
		await page.check("input[name=purpose][value=hosting]");
		// the terms are left unchecked: the page says so below
		await screenshot("setup-form");
	});

	test("Download Private Key, then Set up SSL certificate", async () => {
		const posted = [];
		page.on("request", (r) => {
			if (r.method() === "POST")
				posted.push(r.postData() || "");
		});
		// the terms are left unchecked: the page says so, next to the
		// field and in a summary that takes the focus, before it asks
		// for the key and without sending anything
		await page.click("#setup-submit");
		await page.waitForSelector("#error-summary");
		assert.match(await page.textContent("#error-summary"),
		    /Please accept the terms of use/);
		assert.match(await page.textContent("#e-terms"),
		    /Please accept the terms of use/);
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "error-summary");
		assert.match(await page.title(), /^Error: /);
		assert.equal(await page.inputValue("#f-domain"), DOMAIN);
		assert.equal(posted.length, 0);
		await screenshot("setup-error");
		// complete: now the key download, before anything is sent
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		assert.match(await page.textContent("#setup-status"),
		    /download your private key/);
		assert.equal(await page.$("#error-summary"), null);
		assert.equal(posted.length, 0);
		const saveKey = async () => {
			await page.waitForSelector(
			    "#download-key:not([disabled])");
			const [dl] = await Promise.all([
			    page.waitForEvent("download"),
			    page.click("#download-key")]);
			assert.equal(dl.suggestedFilename(), `${DOMAIN}.key`);
			keyFile = path.join(tmp, `${DOMAIN}.key`);
			await dl.saveAs(keyFile);
			keyPem = fs.readFileSync(keyFile, "utf8");
			assert.match(keyPem, /^-----BEGIN PRIVATE[ ]KEY-----/);
			openssl(["pkey", "-in", keyFile, "-noout"]);
			await page.waitForSelector("#download-status:has-text(" +
			    "'Downloaded')");
			assert.equal(await page.isHidden("#setup-status"), true);
		};
		// another key type, then the first again at once: the slower
		// RSA key, made second, never replaces the one downloaded (the
		// certificate is checked against the downloaded key below)
		await page.selectOption("#key-alg", "RSA-3072");
		await page.selectOption("#key-alg", "ECDSA-P256");
		await saveKey();
		await screenshot("key-downloaded");
		await page.waitForTimeout(3000);	// the RSA key is made
		assert.match(keyPem, /^-----BEGIN PRIVATE[ ]KEY-----/);
		assert.match(openssl(["pkey", "-in", keyFile, "-noout",
		    "-text"]), /ASN1 OID: prime256v1/);
		await page.check("input[name=terms]");
		// POST-redirect-GET: the order's confirmation page
		await Promise.all([page.waitForURL(
		    /\/portal\/orders\/\d+\/placed$/),
		    page.waitForSelector("text=Go to overview"),
		    page.click("#setup-submit")]);
		assert.match(await page.textContent("main"),
		    /Validation pending/);
		// only the CSR went to the server, never the key
		const body = decodeURIComponent(posted.join("\n")
		    .replace(/\+/g, " "));
		assert.match(body, /BEGIN CERTIFICATE REQUEST/);
		assert.doesNotMatch(body, /PRIVATE KEY/);
		const keyB64 = keyPem.split("\n").slice(2, -2).join("");
		assert.ok(keyB64.length > 20);
		assert.ok(!body.includes(keyB64.slice(0, 40)));
		await screenshot("ordered");
		// a reload shows it again and sends nothing (the overview
		// below has one order)
		const n = posted.length;
		assert.equal((await page.reload()).status(), 200);
		assert.match(await page.textContent("main"),
		    /Validation pending/);
		assert.equal(posted.length, n);
	});

	test("overview shows validation pending", async () => {
		await Promise.all([page.waitForURL(/\/portal\/overview$/),
		    page.click("text=Go to overview")]);
		const row = page.locator("tr[data-order]");
		assert.equal(await row.count(), 1);
		assert.equal(await row.getAttribute("data-state"),
		    "validation_pending");
		orderId = await row.getAttribute("data-order");
		assert.ok(await page.$("meta[http-equiv=refresh]"));
		await screenshot("overview-pending");
	});

	test("admin validate: the overview refreshes itself to issued",
	    async () => {
		assert.equal(cli(["admin", "validate", "--data", data, "--order",
		    orderId]), "issued");
		// no reload by the test: the page refreshes itself
		await page.waitForSelector("tr[data-state=issued]",
		    { timeout: 30000 });
		assert.match(await page.textContent("main"), /Issued/);
		await screenshot("overview-issued");
	});

	test("certificate details, download and openssl checks", async () => {
		await Promise.all([page.waitForURL(/\/portal\/orders\/\d+$/),
		    page.click(`tr[data-order="${orderId}"] th a`)]);
		const text = await page.textContent("main");
		assert.match(text, /SHA-256 fingerprint/);
		assert.match(text, new RegExp(`/etc/ssl/certs/${DOMAIN}` +
		    "\\.fullchain\\.pem"));
		await screenshot("certificate");
		const files = {};
		for (const f of ["cert.pem", "fullchain.pem", "fullchain.p7b",
		    "cert.der"]) {
			const [dl] = await Promise.all([
			    page.waitForEvent("download"),
			    page.click(`a[href$="/download/${f}"]`)]);
			assert.equal(dl.suggestedFilename(), `${DOMAIN}.${f}`);
			files[f] = path.join(tmp, `${DOMAIN}.${f}`);
			await dl.saveAs(files[f]);
		}
		const certKey = openssl(["x509", "-in", files["cert.pem"],
		    "-noout", "-pubkey"]);
		const ourKey = openssl(["pkey", "-in", keyFile, "-pubout"]);
		assert.equal(certKey, ourKey, "the certificate is for the " +
		    "downloaded key");
		const text2 = openssl(["x509", "-in", files["cert.pem"],
		    "-noout", "-ext", "subjectAltName"]);
		assert.match(text2, new RegExp(`DNS:${DOMAIN}`));
		assert.match(text2, new RegExp(`DNS:www\\.${DOMAIN}`));
		openssl(["verify", "-CAfile", path.join(data, "ca", "root.pem"),
		    "-untrusted", files["fullchain.pem"], files["cert.pem"]]);
		const p7 = openssl(["pkcs7", "-inform", "DER", "-in",
		    files["fullchain.p7b"], "-print_certs"]);
		assert.equal(p7.match(/BEGIN CERTIFICATE/g).length, 2);
		openssl(["x509", "-inform", "DER", "-in", files["cert.der"],
		    "-noout"]);
	});

	test("revoke with a reason", async () => {
		await page.selectOption("#reason", "1");
		await screenshot("revoke");
		// a confirmation first, with the reason chosen
		await Promise.all([page.waitForURL(/\/revoke\?reason=1$/),
		    page.click("#revoke")]);
		assert.match(await page.textContent("main"),
		    /Revoking cannot be undone/);
		assert.equal(await page.inputValue("#reason"), "1");
		await screenshot("revoke-confirm");
		await Promise.all([page.waitForURL(/\/portal\/orders\/\d+$/),
		    page.click("#confirm-revoke")]);
		assert.match(await page.textContent("#flash"), /was revoked/);
		assert.match(await page.textContent("main"), /Revoked/);
		assert.equal(await page.$("#revoke"), null);
		await screenshot("revoked");
		await page.goto(url("/portal/overview"));
		assert.equal(await page.locator("tr[data-order]")
		    .getAttribute("data-state"), "revoked");
		await screenshot("overview-revoked");
		await page.goto(url("/portal/"));
		await screenshot("portfolio-after");
	});

	test("the private key is nowhere on the server", async () => {
		const lines = keyPem.split("\n").filter((l) => l &&
		    !l.startsWith("-----")).slice(1);
		const der = Buffer.from(keyPem.split("\n").filter((l) => l &&
		    !l.startsWith("-----")).join(""), "base64");
		assert.ok(lines.length > 0 && der.length > 60);
		const files = [...walk(data), logFile];
		assert.ok(files.some((f) => f.endsWith("certdesk.db")));
		for (const f of files) {
			const bytes = fs.readFileSync(f);
			assert.ok(!bytes.includes(der), `key DER in ${f}`);
			for (const l of lines)
				assert.ok(!bytes.includes(Buffer.from(l)),
				    `key PEM line in ${f}`);
		}
		assert.ok(!fs.readFileSync(logFile, "utf8")
		    .includes("PRIVATE KEY"));
		assert.deepEqual(consoleErrors, []);
	});
});
