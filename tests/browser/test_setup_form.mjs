// SPDX-License-Identifier: Apache-2.0
//
// The setup form in headless Debian Chromium (playwright-core) against a
// real `certdesk serve`: the browser checks every field it can before it
// asks for the key download, with the server's messages word for word
// (each hostile domain and bad OV field is also posted to the server and
// the two texts compared); a 300-character domain is not cut and its
// message wraps; the key file is named after the normalised domain; a key
// the customer saved stays usable when the form comes back (the server
// offers its CSR again; for other names the saved file signs a new one,
// only if it is that key); a form sent after the session ended says so and
// comes back filled in after the login, without a new download; a form
// from before the last login comes back as sent; the renew form starts
// from the certificate's order and warns before a reissue for other names;
// an order issued at once says so; the setup form's POST redirects to the
// confirmation, which a reload shows again without sending anything; the
// key file of a long name is named as the pages name it (200 characters),
// and its CSR (no CN: the name is too long for one) is taken; the
// certificate's page shows the key's fingerprint as openssl computes it.
// Screenshots (desktop and 390 px wide) go to tests/artifacts/setup-*.png.
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
    launchBrowser, openssl } from "./lib.mjs";

const PASSWORD = "correct horse battery staple";
const EMAIL = "dana@setup-form.test";
const DOMAIN = "setup-form.test";

// the fingerprint of a key file's public key, as the pages tell the
// customer to compute it
function keyFp(file) {
	const der = openssl(["pkey", "-in", file, "-pubout", "-outform",
	    "DER"], undefined, "latin1");
	return openssl(["dgst", "-sha256"], Buffer.from(der, "latin1"))
	    .trim().replace(/^.*= /, "");
}

// text of the HTML between the tags (the server's messages are escaped)
function unescape(h) {
	return h.replace(/<[^>]*>/g, "").replace(/&#39;/g, "'")
	    .replace(/&quot;/g, "\"").replace(/&lt;/g, "<")
	    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// The server's messages per field in a page it rendered.
function serverErrors(html) {
	const out = {};
	for (const m of html.matchAll(
	    /<p class="field-error" id="e-([a-z_]+)">([\s\S]*?)<\/p>/g))
		out[m[1]] = unescape(m[2]);
	return out;
}

describe("setup form: checks, the saved key, the session, renewal", () => {
	let tmp, data, serve, logFile, httpsPort, browser, ctx, page;
	const slots = {};
	const errors = [];
	const orders = {};
	let cust;
	let shot = 0;

	const url = (p) => `https://127.0.0.1:${httpsPort}${p}`;

	async function screenshot(name, p = page) {
		shot++;
		await p.screenshot({ fullPage: true, path: path.join(artifacts,
		    `setup-${String(shot).padStart(2, "0")}-${name}.png`) });
	}

	// a phone-wide look at the same page
	async function phoneShot(name) {
		const vp = page.viewportSize();
		await page.setViewportSize({ width: 390, height: 844 });
		await screenshot(name + "-390");
		const wide = await page.evaluate(() =>
		    document.documentElement.scrollWidth);
		await page.setViewportSize(vp);
		assert.ok(wide <= 390, `the page is ${wide} px wide at 390`);
	}

	async function login(p = page) {
		await p.goto(url("/portal/login"));
		await p.fill("#email", EMAIL);
		await p.fill("#password", PASSWORD);
		await Promise.all([p.waitForURL(/\/portal\/$/),
		    p.click("button[type=submit]")]);
	}

	async function open(slot) {
		await page.goto(url(`/portal/slots/${slot}/setup`));
		await page.waitForSelector("#setup-form");
	}

	async function waitKey() {
		await page.waitForSelector("#download-key:not([disabled])");
	}

	// what the browser says about the field(s), after a submit click
	async function browserErrors() {
		return await page.evaluate(() => {
			const out = {};
			for (const p of document.querySelectorAll(
			    "#setup-form p.field-error[id^='e-']"))
				if (p.id !== "key-load-why")
					out[p.id.slice(2)] = p.textContent;
			return out;
		});
	}

	// what the server says to the same form (the page's CSRF token, the
	// browser's cookies; no key, no CSR)
	async function postForm(slot, fields) {
		const csrf = await page.inputValue("input[name=csrf]");
		const r = await page.request.post(
		    url(`/portal/slots/${slot}/setup`), { form: { csrf,
			key_source: "browser", ...fields },
			headers: { Origin: url("") } });
		return { status: r.status(), html: await r.text() };
	}

	async function download() {
		const [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#download-key")]);
		const file = path.join(tmp, `${Date.now()}-` +
		    dl.suggestedFilename());
		await dl.saveAs(file);
		return { name: dl.suggestedFilename(), file };
	}

	before(async () => {
		fs.mkdirSync(artifacts, { recursive: true });
		for (const f of fs.readdirSync(artifacts))
			if (/^setup-\d+-.*\.png$/.test(f))
				fs.rmSync(path.join(artifacts, f));
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-setup-"));
		data = path.join(tmp, "data");
		const port = await freePort();
		const d = ["--data", data];
		cli(["init", ...d, "--base-url", `http://127.0.0.1:${port}`]);
		cust = cli(["admin", "customer", "add", ...d, "--name",
		    "Setup Form GmbH"]);
		const contract = cli(["admin", "contract", "add", ...d,
		    "--customer", cust, "--number", "SF-0001"]);
		for (const n of [DOMAIN, "other-form.test",
		    "xn--bcher-kva.test"])
			cli(["admin", "domain", "add", ...d, "--contract",
			    contract, "--name", n]);
		for (const [k, product] of [["starter", "starter"],
		    ["starter2", "starter"], ["starter3", "starter"],
		    ["long", "starter"], ["business", "business"],
		    ["wild", "business_wildcard"],
		    ["premium", "premium"]])
			slots[k] = cli(["admin", "slot", "add", ...d,
			    "--contract", contract, "--product", product]);
		cli(["admin", "user", "add", ...d, "--customer", cust,
		    "--email", EMAIL, "--name", "Dana Demo", "--role",
		    "customer", "--password-stdin"], PASSWORD + "\n");
		logFile = path.join(tmp, "serve.log");
		const log = fs.openSync(logFile, "a");
		serve = spawn(certdeskBin(), ["serve", ...d, "--plain-listen",
		    `127.0.0.1:${port}`, "--listen", "127.0.0.1:0"],
		    { stdio: ["ignore", log, log], env: certdeskEnv() });
		httpsPort = await httpsPortOf(serve, logFile, 20000);
		browser = await launchBrowser();
		ctx = await browser.newContext({ acceptDownloads: true,
			ignoreHTTPSErrors: true,
			viewport: { width: 1100, height: 900 } });
		page = await ctx.newPage();
		page.setDefaultTimeout(30000);
		page.on("pageerror", (e) => errors.push(String(e)));
		page.on("console", (m) => {
			if (m.type() === "error" &&
			    !/status of 4(22|03)/.test(m.text()))
				errors.push(m.text());
		});
		await login();
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (serve && serve.exitCode === null) {
			const done = new Promise((r) => serve.on("exit", r));
			serve.kill("SIGTERM");
			await done;
		}
		if (tmp)
			fs.rmSync(tmp, { recursive: true, force: true });
	});

	test("an empty form: the browser says what is missing, no key is " +
	    "asked for", async () => {
		await open(slots.starter);
		await waitKey();
		let posted = 0, downloads = 0;
		const onReq = (r) => { if (r.method() === "POST") posted++; };
		const onDl = () => downloads++;
		page.on("request", onReq);
		page.on("download", onDl);
		await page.click("#setup-submit");
		await page.waitForSelector("#error-summary");
		const got = await browserErrors();
		assert.equal(got.domain, "Please enter the domain the " +
		    "certificate is for.");
		assert.equal(got.terms, "Please accept the terms of use.");
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "error-summary");
		assert.match(await page.title(), /^Error: /);
		// the download needs a domain too: the file is named after it
		await page.click("#download-key");
		await page.waitForTimeout(300);
		assert.equal(downloads, 0);
		assert.equal(posted, 0);
		await screenshot("empty");
		await phoneShot("empty");
		// the server says the same
		const srv = serverErrors((await postForm(slots.starter, {}))
		    .html);
		assert.equal(srv.domain, got.domain);
		assert.equal(srv.terms, got.terms);
		page.off("request", onReq);
		page.off("download", onDl);
		// the summary's link takes the focus to the field
		await page.click("#error-summary a[href='#f-domain']");
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "f-domain");
	});

	test("hostile domains: the browser's messages are the server's",
	    async () => {
		const long300 = "d".repeat(296) + ".com";
		const label64 = "l".repeat(64) + ".example";
		let www250 = "";
		for (let i = 0; i < 5; i++)
			www250 += "w".repeat(49) + ".";
		www250 += "com";
		// fits a name, not with "*." before it
		const wild252 = ["x", "y", "z", "q"].map((c) =>
		    c.repeat(60)).join(".") + ".rrrr.com";
		const cases = [
			["starter", "   "], ["starter", "exa..mple.com"],
			["starter", ".example.com"],
			["starter", "example.com.."],
			["starter", "www.*.example.com"],
			["starter", "*.example.com"],
			["starter", "xn--zz.example"],
			["starter", "sn\u2603w.example"],
			["starter", "exa mple.com"], ["starter", "1.2.3.4"],
			["starter", "com"], ["starter", "-shop.example"],
			["starter", "sh_op.example"], ["starter", long300],
			["starter", label64], ["starter", www250],
			["starter", "www.com"],
			["wild", "*.*.example.com"],
			["wild", "foo*.example.com"],
			["wild", wild252],
			["business", "example.123"], ["business", "::1"],
			["business", "xn--n3h.example"],
			// good ones: neither side has a word about the domain
			["starter", " WWW.Setup-Form.TEST. "],
			["starter", "B\u00fccher.test"],
			["wild", "*.Other-Form.test."],
		];
		for (const [k, typed] of cases) {
			await open(slots[k]);
			await page.fill("#f-domain", typed);
			await page.click("#setup-submit");
			await page.waitForSelector("#error-summary");
			const b = (await browserErrors()).domain;
			const s = serverErrors((await postForm(slots[k],
			    { domain: typed })).html).domain;
			assert.equal(b, s, `${k} "${typed}"`);
			if (typed === long300) {
				const echo = "d".repeat(60) + "\u2026" +
				    "d".repeat(26) + ".com";
				assert.equal(b, "This domain is too long: " +
				    `"${echo}" has 300 characters, at most ` +
				    "253 are allowed.");
				// not cut to 253, and the page keeps its width
				const v = await page.inputValue("#f-domain");
				assert.equal(v.length, 300);
				await screenshot("300");
				await phoneShot("300");
			}
		}
		assert.ok(!(await browserErrors()).domain);
	});

	test("OV fields: the same messages on both sides, country codes " +
	    "as typed", async () => {
		await open(slots.premium);
		const bad = {
			domain: DOMAIN, admin_name: "A".repeat(129),
			admin_email: "ada@@example", admin_phone: "call me",
			tech_email: "tom@example", tech_phone: "1234",
			org_legal_name: "L".repeat(65),
			org_postal_code: "1".repeat(17),
			org_country: "Germany", org_jurisdiction: "deu",
		};
		for (const [k, v] of Object.entries(bad))
			await page.fill(`#f-${k}`, v);
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#error-summary");
		const b = await browserErrors();
		const s = serverErrors((await postForm(slots.premium, {
			...bad, purpose: "hosting", terms: "1" })).html);
		delete s.csr;	// the browser sends none before the download
		assert.deepEqual(b, s);
		for (const f of ["admin_email", "tech_email"])
			assert.match(b[f], new RegExp("^The email address of " +
			    "the (administrative|technical) contact is not " +
			    "valid"));
		assert.match(b.org_business_category, /business category/);
		assert.equal(await page.getAttribute("#f-admin_email",
		    "aria-invalid"), "true");
		await screenshot("premium-errors");
		// "de " and " dE" are DE for both
		await page.fill("#f-org_country", "de ");
		await page.fill("#f-org_jurisdiction", " dE");
		await page.click("#setup-submit");
		const b2 = await browserErrors();
		assert.ok(!b2.org_country && !b2.org_jurisdiction);
		const s2 = serverErrors((await postForm(slots.premium, {
			...bad, org_country: "de ", org_jurisdiction: " dE" }))
		    .html);
		assert.ok(!s2.org_country && !s2.org_jurisdiction);
	});

	// fills an OV form's contacts and organisation
	async function fillOv(country = " de") {
		const f = {
			admin_name: "Ada Admin",
			admin_email: "ada@setup-form.test",
			admin_phone: "+49 721 123456", tech_name: "Tom Tech",
			tech_email: "tom@setup-form.test",
			tech_phone: "+49 721 654321",
			org_legal_name: "Setup Form GmbH",
			org_street: "Hauptstr. 1",
			org_postal_code: "76131", org_locality: "Karlsruhe",
			org_country: country,
		};
		for (const [k, v] of Object.entries(f))
			await page.fill(`#f-${k}`, v);
	}

	// sends the form and waits for the page that answers
	async function submit() {
		const [resp] = await Promise.all([page.waitForNavigation(),
		    page.click("#setup-submit")]);
		return resp;
	}

	test("the key file is named after the domain as read; the pages " +
	    "show its fingerprint", async () => {
		await open(slots.starter);
		await waitKey();
		await page.fill("#f-domain", " WWW.Setup-Form.TEST. ");
		await page.check("input[name=terms]");
		// complete: now it asks for the download, and sends nothing
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		assert.match(await page.textContent("#setup-status"),
		    /The form is complete\. Now download your private key/);
		assert.equal(await page.$("#error-summary"), null);
		const key = await download();
		assert.equal(key.name, `${DOMAIN}.key`);
		const fp = keyFp(key.file);
		assert.match(await page.textContent("#download-status"),
		    new RegExp(`Downloaded ${DOMAIN}\\.key\\..*${fp}`));
		await screenshot("downloaded");
		const resp = await submit();
		// POST-redirect-GET: the order's confirmation page
		assert.equal(resp.status(), 200);
		assert.equal(resp.request().redirectedFrom()?.method(), "POST");
		assert.match(page.url(), /\/portal\/orders\/\d+\/placed$/);
		assert.match(await page.textContent("h1"), /being set up/);
		assert.equal(await page.textContent("#key-fp"), fp);
		assert.match(await page.textContent("main"),
		    /private key you downloaded/);
		// a reload shows it again and sends nothing
		const shown = await page.textContent("main section.done");
		let posted = 0;
		const onReq = (r) => { if (r.method() === "POST") posted++; };
		page.on("request", onReq);
		const again = await page.reload();
		page.off("request", onReq);
		assert.equal(again.status(), 200);
		assert.equal(posted, 0);
		assert.equal(await page.textContent("main section.done"),
		    shown);
		await page.click("text=Go to overview");
		orders.starter = await page.getAttribute(
		    "tr[data-order]", "data-order");
		assert.equal(cli(["admin", "validate", "--data", data,
		    "--order", orders.starter]), "issued");
		await page.goto(url(`/portal/orders/${orders.starter}`));
		assert.equal(await page.textContent("#key-fp"), fp);
		assert.match(await page.textContent("main"), new RegExp(
		    `openssl pkey -in ${DOMAIN}\\.key -pubout`));
		await screenshot("order-fingerprint");
		await phoneShot("order-fingerprint");
		orders.starterKey = key.file;
	});

	test("refused by the server: the saved key stays usable, for other " +
	    "names through its file", async () => {
		await open(slots.wild);
		await waitKey();
		// a wildcard on a public suffix: only the server knows the list
		await page.fill("#f-domain", "co.uk");
		await fillOv();
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		const key = await download();
		assert.equal(key.name, "wildcard.co.uk.key");
		const fp = keyFp(key.file);
		const resp = await submit();
		assert.equal(resp.status(), 422);
		assert.match(await page.textContent("#e-domain"),
		    /No wildcard certificate can be issued for "co\.uk"/);
		// its CSR cannot be sent again (the CA refuses its names), but
		// the key it proves is fine
		assert.ok((await page.textContent("main")).includes(
		    "Nothing was ordered. Your private key is still valid: " +
		    "no need to download a new one."));
		assert.equal(await page.isVisible("#key-kept"), true);
		assert.equal(await page.textContent("#key-kept-fp"), fp);
		assert.equal(await page.isVisible("#download-key"), false);
		assert.equal(await page.isVisible("#key-file"), true);
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "error-summary");
		assert.match(await page.title(), /^Error: /);
		assert.equal(await page.inputValue("#csr"), "");
		await screenshot("kept");
		await phoneShot("kept");
		// the corrected names: the saved file signs their request
		await page.fill("#f-domain", "other-form.test");
		await page.click("#setup-submit");
		await page.waitForSelector("#key-load:not([hidden])");
		assert.equal(await page.textContent("#key-load-why"),
		    "Choose the key file you saved to sign a request for " +
		    "*.other-form.test, other-form.test, or make a new key.");
		await screenshot("kept-other-names");
		// another key is not taken
		const other = path.join(tmp, "other.key");
		openssl(["genpkey", "-algorithm", "EC", "-pkeyopt",
		    "ec_paramgen_curve:P-256", "-out", other]);
		await page.setInputFiles("#key-file", other);
		await page.waitForFunction(() => /not the key saved/.test(
		    document.getElementById("key-load-status").textContent));
		// the saved one signs the request for the new names
		const posted = [];
		const onReq = (r) => {
			if (r.method() === "POST")
				posted.push(r.postData() || "");
		};
		page.on("request", onReq);
		await Promise.all([page.waitForNavigation(),
		    page.setInputFiles("#key-file", key.file)]);
		page.off("request", onReq);
		assert.match(await page.textContent("h1"), /being set up/);
		assert.equal(await page.textContent("#key-fp"), fp);
		const body = decodeURIComponent(posted.join("\n")
		    .replace(/\+/g, " "));
		assert.doesNotMatch(body, /PRIVATE KEY/);
		assert.match(body, /BEGIN CERTIFICATE REQUEST/);
		assert.deepEqual(errors, []);
	});

	test("the session ended: it says so, and the form comes back filled " +
	    "in with the saved key after the login", async () => {
		await open(slots.starter2);
		await waitKey();
		await page.fill("#f-domain", "other-form.test");
		await page.check("input[name=purpose][value=server]");
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		const key = await download();
		const fp = keyFp(key.file);
		await ctx.clearCookies();	// as after 30 idle minutes
		const resp = await submit();
		// the tab's draft: the form's text and the CSR, never the key
		const draftKey = `certdesk.setup.${slots.starter2}`;
		const draft = await page.evaluate((k) =>
		    sessionStorage.getItem(k), draftKey);
		const priv = Buffer.from(/priv:([\s0-9a-f:]+?)pub:/.exec(
		    openssl(["pkey", "-in", key.file, "-noout", "-text"]))[1]
		    .replace(/[\s:]/g, ""), "hex").subarray(-32);
		assert.match(draft, /BEGIN CERTIFICATE REQUEST/);
		assert.match(draft, /other-form\.test/);
		assert.doesNotMatch(draft, /PRIVATE KEY/);
		assert.ok(!draft.includes(priv.toString("hex")));
		const kept = JSON.parse(draft).kept;
		assert.equal(kept.fp, fp);
		assert.ok(!Buffer.from(kept.pem.replace(/-----[^-]+-----|\s/g,
		    ""), "base64").includes(priv));
		assert.equal(resp.status(), 403);
		assert.match(await page.title(),
		    /^Error: Your session has ended/);
		const text = await page.textContent("main");
		assert.match(text,
		    /logged out, after 30 minutes without activity/);
		assert.match(text, /nothing was ordered/);
		assert.doesNotMatch(text, /did not come from this site/);
		await screenshot("session-ended");
		await phoneShot("session-ended");
		await Promise.all([page.waitForURL(
		    /\/portal\/login\?next=\/portal\/slots\/\d+\/setup$/),
		    page.click("a.button:has-text('Log in again')")]);
		// the login leads back to the form
		await page.fill("#email", EMAIL);
		await page.fill("#password", PASSWORD);
		await Promise.all([page.waitForURL(
		    new RegExp(`/portal/slots/${slots.starter2}/setup$`)),
		    page.click("button[type=submit]")]);
		let downloads = 0;
		const onDl = () => downloads++;
		page.on("download", onDl);
		await open(slots.starter2);
		await page.waitForSelector("#setup-restored:not([hidden])");
		assert.equal(await page.inputValue("#f-domain"),
		    "other-form.test");
		assert.equal(await page.isChecked(
		    "input[name=purpose][value=server]"), true);
		assert.equal(await page.isVisible("#key-kept"), true);
		assert.equal(await page.textContent("#key-kept-fp"), fp);
		await screenshot("session-restored");
		const r2 = await submit();
		page.off("download", onDl);
		assert.equal(r2.status(), 200);
		assert.equal(downloads, 0);
		assert.equal(await page.textContent("#key-fp"), fp);
		// the confirmation forgot the draft
		await page.goto(url("/portal/"));
		assert.equal(await page.evaluate((k) =>
		    sessionStorage.getItem(k), draftKey), null);
	});

	test("a form from before the last login comes back as sent",
	    async () => {
		await open(slots.starter3);
		await waitKey();
		await page.fill("#f-domain", "B\u00fccher.test");
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		const key = await download();
		assert.equal(key.name, "xn--bcher-kva.test.key");
		const fp = keyFp(key.file);
		// logged out and in again in another tab
		const other = await ctx.newPage();
		await other.goto(url("/portal/"));
		await Promise.all([other.waitForURL(/\/portal\/login$/),
		    other.click(".who button")]);
		await login(other);
		await other.close();
		const resp = await submit();
		assert.equal(resp.status(), 403);
		assert.match(await page.textContent("main"),
		    /opened before you last logged in/);
		assert.equal(await page.inputValue("#f-domain"),
		    "B\u00fccher.test");
		assert.equal(await page.textContent("#key-kept-fp"), fp);
		await screenshot("stale-form");
		const r2 = await submit();
		assert.equal(r2.status(), 200);
		assert.equal(await page.textContent("#key-fp"), fp);
		assert.match(await page.textContent("main"),
		    /xn--bcher-kva\.test/);
	});

	test("renew: starts from the certificate's order, warns before a " +
	    "reissue for other names; issued at once says so", async () => {
		await open(slots.starter);
		assert.match(await page.textContent("h1"), /Renew or reissue/);
		assert.equal(await page.inputValue("#f-domain"), DOMAIN);
		assert.match(await page.textContent("#renew-hint"),
		    new RegExp(`covers ${DOMAIN}, www\\.${DOMAIN}`));
		assert.equal(await page.isHidden("#names-warning"), true);
		await page.fill("#f-domain", "other-form.test");
		await page.waitForSelector("#names-warning:not([hidden])");
		assert.match(await page.textContent("#names-warning"),
		    new RegExp(`does not cover ${DOMAIN}, www\\.${DOMAIN}: ` +
		    "your current certificate will be revoked 72 hours " +
		    "after the new one is issued"));
		await screenshot("renew-warning");
		await phoneShot("renew-warning");
		await page.fill("#f-domain", `www.${DOMAIN}`);
		await page.waitForSelector("#names-warning[hidden]",
		    { state: "attached" });
		// the same names: validated before, issued at once
		await page.check("input[name=terms]");
		await waitKey();
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		const key = await download();
		await submit();
		assert.match(await page.textContent("h1"),
		    /Your SSL certificate is issued/);
		assert.equal(await page.textContent("#key-fp"),
		    keyFp(key.file));
		// a reload issues no second certificate: it sends nothing
		let posted = 0;
		const onReq = (r) => { if (r.method() === "POST") posted++; };
		page.on("request", onReq);
		await page.reload();
		page.off("request", onReq);
		assert.equal(posted, 0);
		assert.match(await page.textContent("main"),
		    /Your domain was confirmed before, so the certificate /);
		await screenshot("issued-at-once");
		await Promise.all([page.waitForURL(/\/portal\/orders\/\d+$/),
		    page.click("text=View and download the certificate")]);
		assert.equal(await page.textContent("#key-fp"),
		    keyFp(key.file));
	});

	test("a long name: the key file and the pages name the same file, " +
	    "cut to 200 characters", async () => {
		const labels = ["a".repeat(63), "b".repeat(63), "c".repeat(63),
		    "d".repeat(7)];
		const name = [...labels, DOMAIN].join(".");
		const base = labels.join(".");	// the 200th character: "."
		assert.equal(base.length, 199);
		await open(slots.long);
		await waitKey();
		await page.fill("#f-domain", name);
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		const key = await download();
		assert.equal(key.name, `${base}.key`);
		await submit();
		assert.match(await page.textContent("h1"), /being set up/);
		assert.ok((await page.textContent("main")).includes(
		    `openssl pkey -in ${base}.key -pubout`));
		assert.equal(await page.textContent("#key-fp"),
		    keyFp(key.file));
	});

	test("renew an OV certificate: contacts and organisation come back",
	    async () => {
		cli(["admin", "org", "add", "--data", data, "--customer", cust,
		    "--legal-name", "Setup Form GmbH", "--country", "DE",
		    "--locality", "Karlsruhe", "--validated-by", "test",
		    "--evidence", "register extract"]);
		await open(slots.business);
		await waitKey();
		await page.fill("#f-domain", DOMAIN);
		await page.check("input[name=purpose][value=server]");
		await fillOv(" de ");
		await page.check("input[name=terms]");
		await page.click("#setup-submit");
		await page.waitForSelector("#setup-status:not([hidden])");
		await download();
		await submit();
		// the domain validated before and the organisation on file
		// (the country as typed, " de ", is DE): issued at once
		assert.match(await page.textContent("h1"),
		    /Your SSL certificate is issued/);
		await open(slots.business);
		assert.match(await page.textContent("h1"), /Renew or reissue/);
		const want = { domain: DOMAIN, admin_name: "Ada Admin",
			admin_email: "ada@setup-form.test",
			tech_phone: "+49 721 654321",
			org_legal_name: "Setup Form GmbH", org_country: "DE",
			org_locality: "Karlsruhe" };
		for (const [k, v] of Object.entries(want))
			assert.equal(await page.inputValue(`#f-${k}`), v, k);
		assert.equal(await page.isChecked(
		    "input[name=purpose][value=server]"), true);
		assert.equal(await page.isChecked("input[name=terms]"), false);
		await screenshot("renew-ov");
		assert.deepEqual(errors, []);
	});
});
