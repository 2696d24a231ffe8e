// SPDX-License-Identifier: Apache-2.0
//
// Domain validation through DNS, in headless Debian Chromium against a
// real `certdesk serve` and a real Knot DNS (tests/browser/knot.mjs),
// authoritative for `test.` and taking TSIG-signed RFC 2136 updates:
//
// 1. dns-auto: the domain auto-shop.test is in the contract as hosted on
//    our nameservers ([dnsupdate] points at the Knot). The customer sets
//    up a Starter certificate (key made in the browser and downloaded);
//    the overview says that we add the record on our nameservers and
//    check it; certdesk publishes _acme-challenge TXT records in Knot,
//    validates, removes them; the overview turns to "Issued" by itself
//    and the certificate is downloaded and checked with openssl.
// 2. dns by the customer: own-shop.test is not hosted with us. The
//    customer switches each name to "A DNS record you add", sees the exact
//    record (screenshot), adds it at "their DNS host" (the same Knot, with
//    knsupdate), presses "Check now" and sees it confirmed; the order is
//    issued and downloaded. "Check now" before the record exists shows the
//    failure in words with what to do next.
// Another customer's order is a 404 for the DV forms, like a missing one.
// Screenshots: tests/artifacts/dv-dns-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { addConf, cli, downloadAndCheck, launch, login, makeData,
	orderOf, serveClean, setUp, shot, spoolLinks, startServe, until }
	from "./dv_rig.mjs";
import { dnsupdateConf, startKnot, tsigKey, zoneText } from "./knot.mjs";

/* The names of an order's card as one reading of the page: [] once the
 * card is gone. The page reloads itself (meta refresh), which can destroy the
 * context under an evaluate; then read the new page. */
async function snapshot(page, sel) {
	for (let i = 0; ; i++) {
		try {
			await page.waitForLoadState("domcontentloaded");
			return await page.evaluate((s) => {
				const el = document.querySelector(s);
				return el ? [...el.querySelectorAll(".dv-name")]
				    .map((n) => ({ name: n.dataset.name,
				    status: n.dataset.status,
				    method: n.dataset.method,
				    text: n.textContent })) : [];
			}, sel);
		} catch (e) {
			if (i >= 5 || !/context was destroyed|navigat/i
			    .test(String(e)))
				throw e;
		}
	}
}

const AUTO = "auto-shop.test";
const OWN = "own-shop.test";

describe("domain validation through DNS (Knot)", () => {
	let tmp, profile, d, knot, key, serve, ctx, page, url;
	let slotAuto, slotOwn, keyAuto, keyOwn, orderAuto, orderOwn;
	const recs = [];
	const pems = [];
	const consoleErrors = [];

	before(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-dvdns-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		key = tsigKey();
		knot = await startKnot(path.join(tmp, "knot"), {
			"test.": zoneText("test.", `${AUTO}. A 127.0.0.1\n` +
			    `www.${AUTO}. A 127.0.0.1\n${OWN}. A 127.0.0.1\n` +
			    `www.${OWN}. A 127.0.0.1`) }, key);
		d = await makeData(tmp, "Auto Shop GmbH", "SHOP-0042");
		fs.writeFileSync(path.join(d.data, "dns-tsig.secret"),
		    key.secret + "\n", { mode: 0o600 });
		addConf(d.data, dnsupdateConf(knot, key, "dns-tsig.secret") +
		    "\n[dv]\nemail_resend_minutes = 0\n");
		cli(["admin", "domain", "add", "--data", d.data, "--contract",
		    d.contract, "--name", AUTO, "--hosted"]);
		cli(["admin", "domain", "add", "--data", d.data, "--contract",
		    d.contract, "--name", OWN]);
		slotAuto = cli(["admin", "slot", "add", "--data", d.data,
		    "--contract", d.contract, "--product", "starter"]);
		slotOwn = cli(["admin", "slot", "add", "--data", d.data,
		    "--contract", d.contract, "--product", "starter"]);
		serve = await startServe(tmp, d.data, d.plainPort,
		    ["--resolver", knot.endpoint]);
		url = serve.url;
		({ ctx, page } = await launch(profile));
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		// every error counts but the 410 of the replaced link the test
		// opens on purpose
		page.on("console", (m) => {
			if (m.type() === "error" && !/status of 410/.test(
			    m.text()))
				consoleErrors.push(m.text());
		});
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (serve)
			await serve.stop();
		if (knot)
			await knot.stop();
		for (const dir of [profile, tmp])
			if (dir)
				fs.rmSync(dir, { recursive: true, force: true });
	});

	test("dns-auto: set up, validated on our nameservers, issued",
	    async () => {
		await login(page, url, d.email, d.password);
		let pem;
		({ keyFile: keyAuto, keyPem: pem } = await setUp(page, url,
		    slotAuto, AUTO, tmp, true));
		pems.push(pem);
		orderAuto = await orderOf(page, AUTO);
		// still at work, one or both names confirmed while the
		// certificate is being issued, or done already on a fast
		// machine. One snapshot of the card: the page reloads itself, so
		// two reads could see two states.
		const blocks = await snapshot(page, `#order-${orderAuto}`);
		if (blocks.length)
			assert.deepEqual(blocks.map((b) => b.name).sort(),
			    [AUTO, `www.${AUTO}`]);
		for (const b of blocks) {
			assert.equal(b.method, "dns-auto", b.name);
			if (b.status === "valid") {
				assert.match(b.text, /Confirmed/);
				continue;
			}
			assert.equal(b.status, "pending", b.name);
			assert.match(b.text, /Checking/);
			// the exact record of this name, not another's
			assert.match(b.text, new RegExp("We are adding the record "
			    + `_acme-challenge\\.${b.name.replace(/\./g,
			    "\\.")} on our nameservers`));
		}
		if (blocks.some((b) => b.status === "pending"))
			await shot(page, "dv-dns-01-auto-checking");
		// the page reloads itself while we work
		await page.waitForSelector(
		    `tr[data-order="${orderAuto}"][data-state=issued]`,
		    { timeout: 120000 });
		await shot(page, "dv-dns-02-auto-issued");
		await downloadAndCheck(page, url, orderAuto, AUTO, keyAuto,
		    [AUTO, `www.${AUTO}`], d.data, tmp);
		// the temporary records are gone from our nameserver
		await until(() => knot.dig(`_acme-challenge.${AUTO}`, "TXT")
		    .length === 0 && knot.dig(`_acme-challenge.www.${AUTO}`,
		    "TXT").length === 0, 30000, "records removed");
	});

	test("dns by the customer: the exact record, Check now", async () => {
		let pem;
		({ keyFile: keyOwn, keyPem: pem } = await setUp(page, url,
		    slotOwn, OWN, tmp, false));
		pems.push(pem);
		orderOwn = await orderOf(page, OWN);
		const card = page.locator(`#order-${orderOwn}`);
		await card.waitFor();
		const names = card.locator(".dv-name");
		assert.equal(await names.count(), 2);
		// not hosted with us: no dns-auto offered
		assert.equal(await card.locator("input[value=dns-auto]").count(),
		    0);
		// it starts with the hostmaster's email (no SMTP server here:
		// the spool folder); "Resend" (no wait configured) sends a new
		// link and the old one then says so
		const first = card.locator(".dv-name[data-method=email]").first();
		assert.equal(await first.count(), 1);
		assert.match(await first.textContent(),
		    new RegExp(`hostmaster@${OWN.replace(".", "\\.")}`));
		const old = await until(() => spoolLinks(d.data)[0], 30000,
		    "the first confirmation mail in the spool folder");
		await Promise.all([page.waitForURL(/\/portal\/overview/),
		    first.locator("button[id^=dv-resend-]").click()]);
		assert.match(await page.textContent("#flash"),
		    /We sent an email to hostmaster@/);
		const fresh = await until(() => spoolLinks(d.data).find((l) =>
		    l !== old), 30000, "the second confirmation mail");
		let r = await page.goto(url(old));
		assert.equal(r.status(), 410);
		assert.match(await page.textContent("main"),
		    /A newer email was sent/);
		await shot(page, "dv-dns-03-replaced-link");
		r = await page.goto(url(fresh));
		assert.equal(r.status(), 200);
		assert.match(await page.textContent("main"), new RegExp(OWN));
		await page.goto(url("/portal/overview"));
		// another of the addresses: picking it in the list selects
		// "By email" (the bundle), the mail goes there
		const n0 = page.locator(`#order-${orderOwn} .dv-name`).first();
		await n0.locator("details.dv-switch summary").click();
		await n0.locator("input[name=method][value=dns]").check();
		await n0.locator("select[name=email_to]").selectOption(
		    `webmaster@${OWN}`);
		assert.equal(await n0.locator("input[name=method][value=email]")
		    .isChecked(), true);
		await Promise.all([page.waitForURL(/\/portal\/overview/),
		    n0.locator("button[id^=dv-choose-]").click()]);
		assert.match(await page.textContent("#flash"),
		    new RegExp(`We sent an email to webmaster@`));
		assert.match(await page.locator(`#order-${orderOwn} .dv-name`)
		    .first().textContent(), /webmaster@/);
		for (let i = 0; i < 2; i++) {
			const n = page.locator(`#order-${orderOwn} .dv-name`)
			    .nth(i);
			if (await n.getAttribute("data-method") === "dns")
				continue;
			await n.locator("details.dv-switch summary").click();
			await n.locator("input[name=method][value=dns]").check();
			await Promise.all([page.waitForURL(/\/portal\/overview/),
			    n.locator("button[id^=dv-choose-]").click()]);
			assert.match(await page.textContent("#flash"),
			    /Add the DNS record shown/);
		}
		const blocks = page.locator(`#order-${orderOwn} .dv-name`);
		for (let i = 0; i < 2; i++) {
			const n = blocks.nth(i);
			assert.equal(await n.getAttribute("data-method"), "dns");
			const owner = (await n.locator("code[id^=dv-owner-]")
			    .textContent()).trim();
			const value = (await n.locator("code[id^=dv-value-]")
			    .textContent()).trim();
			assert.match(owner, /^_acme-challenge\./);
			assert.ok(value.length >= 22, value);
			recs.push({ owner, value,
			    authz: await n.getAttribute("data-authz") });
			// the copy buttons are there (the bundle shows them)
			assert.equal(await n.locator("button.dv-copy:visible")
			    .count(), 2);
		}
		await shot(page, "dv-dns-04-own-instructions");
		// "Copy" puts the exact value on the clipboard
		await ctx.grantPermissions(["clipboard-read", "clipboard-write"],
		    { origin: url("").replace(/\/$/, "") });
		const copy = page.locator(
		    `button.dv-copy[data-copy="dv-value-${recs[0].authz}"]`);
		await copy.click();
		await page.waitForSelector(`button.dv-copy[data-copy=` +
		    `"dv-value-${recs[0].authz}"]:has-text("Copied")`);
		assert.equal(await page.evaluate(() =>
		    navigator.clipboard.readText()), recs[0].value);
		// Check now before the record exists: the failure in words
		await Promise.all([page.waitForURL(/\/portal\/overview/),
		    page.click(`#dv-check-${recs[0].authz}`)]);
		assert.match(await page.textContent("#flash"),
		    /not confirmed yet/);
		const prob = page.locator(`#dv-${recs[0].authz} .dv-problem`);
		assert.equal(await prob.count(), 1);
		assert.match(await prob.textContent(), /Check now|add|record/i);
		await shot(page, "dv-dns-05-own-not-found");
	});

	test("the JSON API: validations, choose, check, resend", async () => {
		const api = (p) => url(`/api/v1/orders/${orderOwn}/validations${p}`);
		const me = await (await page.request.get(url("/api/v1/me")))
		    .json();
		const headers = { "X-CSRF-Token": me.csrf_token,
		    "Content-Type": "application/json" };
		const post = (p, body) => page.request.post(api(p), { headers,
		    data: typeof body === "string" ? body :
		    JSON.stringify(body) });
		let r = await page.request.get(api(""));
		assert.equal(r.status(), 200);
		const doc = await r.json();
		assert.equal(String(doc.order_id), String(orderOwn));
		assert.equal(doc.validations.length, 2);
		for (const v of doc.validations) {
			const rec = recs.find((x) => x.authz === String(v.authz_id));
			assert.ok(rec, JSON.stringify(v));
			assert.equal(v.status, "pending");
			assert.equal(v.method, "dns");
			assert.equal(v.dns.owner, rec.owner);
			assert.equal(v.dns.value, rec.value);
			assert.equal(v.dns.type, "TXT");
			assert.ok(!v.methods.includes("dns-auto"));
			assert.ok(v.methods.includes("http"));
			assert.match(v.http.url, /^http:\/\/.*\/\.well-known\//);
		}
		const a = recs[1].authz;
		// the same choice again: 200 with the state
		r = await post("/choose", { authz_id: Number(a), method: "dns" });
		assert.equal(r.status(), 200);
		assert.equal((await r.json()).method, "dns");
		// bad bodies: 400 with a problem document
		for (const bad of ["[]", "{", "{\"authz_id\": \"1\"}",
		    JSON.stringify({ authz_id: Number(a), method: "smtp" }),
		    JSON.stringify({ authz_id: Number(a), method: "email",
		    email_local: "root" }),
		    JSON.stringify({ authz_id: Number(a), method: 7 })]) {
			r = await post("/choose", bad);
			assert.equal(r.status(), 400, bad);
			assert.equal(r.headers()["content-type"],
			    "application/problem+json");
		}
		// not hosted with us: dns-auto refused in words
		r = await post("/choose", { authz_id: Number(a),
		    method: "dns-auto" });
		assert.equal(r.status(), 422);
		assert.ok((await r.json()).detail);
		// resend without email: not in that state
		r = await post("/resend", { authz_id: Number(a) });
		assert.equal(r.status(), 409);
		// a name of another order: not found
		r = await post("/check", { authz_id: 999999 });
		assert.equal(r.status(), 404);
		// check now: still no record, valid false with the message
		r = await post("/check", { authz_id: Number(a) });
		assert.equal(r.status(), 200);
		const chk = await r.json();
		assert.equal(chk.valid, false);
		assert.ok(chk.problem && chk.message, JSON.stringify(chk));
		// no CSRF token: refused
		r = await page.request.post(api("/check"), { headers: {
		    "Content-Type": "application/json" },
		    data: JSON.stringify({ authz_id: Number(a) }) });
		assert.equal(r.status(), 403);
	});

	test("dns by the customer: add the records, Check now, issued",
	    async () => {
		// the customer adds the records at their DNS host
		for (const r of recs) {
			const u = knot.update("test.", [`update add ${r.owner}. ` +
			    `60 TXT "${r.value}"`]);
			assert.equal(u.status, 0, u.out);
		}
		for (const r of recs) {
			assert.ok(knot.dig(r.owner, "TXT").includes(
			    `"${r.value}"`));
			// a resolver may still hold the earlier "no such
			// record" for a moment: as a customer, press again
			await until(async () => {
				await page.goto(url("/portal/overview"));
				await Promise.all([
				    page.waitForURL(/\/portal\/overview/),
				    page.click(`#dv-check-${r.authz}`)]);
				return /is confirmed/.test(await page.textContent(
				    "#flash"));
			}, 30000, `Check now confirms ${r.owner}`);
		}
		await shot(page, "dv-dns-06-own-confirmed");
		await page.goto(url("/portal/overview"));
		await page.waitForSelector(
		    `tr[data-order="${orderOwn}"][data-state=issued]`,
		    { timeout: 60000 });
		await downloadAndCheck(page, url, orderOwn, OWN, keyOwn,
		    [OWN, `www.${OWN}`], d.data, tmp);
	});

	test("another customer's order is not found", async () => {
		const other = cli(["admin", "customer", "add", "--data", d.data,
		    "--name", "Other"]);
		cli(["admin", "user", "add", "--data", d.data, "--customer",
		    other, "--email", "eve@other.example", "--name", "Eve",
		    "--role", "customer", "--password-stdin"], "eve's password\n");
		const prof2 = fs.mkdtempSync(path.join(os.tmpdir(),
		    "certdesk-chr-"));
		const { page: p2, ctx: c2 } = await launch(prof2);
		try {
			await login(p2, url, "eve@other.example",
			    "eve's password");
			const csrf = await p2.getAttribute(
			    "form[action='/portal/logout'] input[name=csrf]",
			    "value");
			for (const id of [orderOwn, "999999"]) {
				const r = await p2.request.post(url(
				    `/portal/orders/${id}/dv/1/check`), {
				    form: { csrf }, headers: { Origin:
				    url("").replace(/\/$/, "") } });
				assert.equal(r.status(), 404);
				assert.match(await r.text(), /Page not found/);
			}
			const api = await p2.request.get(url(
			    `/api/v1/orders/${orderOwn}/validations`));
			assert.equal(api.status(), 404);
		} finally {
			await c2.close();
			fs.rmSync(prof2, { recursive: true, force: true });
		}
		assert.deepEqual(consoleErrors, []);
	});

	test("the server log is clean", async () => {
		await serveClean(serve, pems);
	});
});
