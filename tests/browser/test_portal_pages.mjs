// SPDX-License-Identifier: Apache-2.0
//
// The portal's portfolio and certificate pages in headless Debian
// Chromium (playwright-core) against a real `certdesk serve`, at desktop
// width and at 390 px: the gear menus of the portfolio (one open at a
// time, closed by Escape and by a click elsewhere, never covering the
// next row's gear); a mail's link to a certificate followed logged out
// (the login leads back to it); revoking with the keyboard, and without
// JavaScript, through the confirmation page; the page of a certificate a
// renewal replaced; a pending order's page with the domain validation.
// A customer with several Starter slots; certificates are ordered through
// the portal's JSON API with the browser's session and issued with
// `certdesk admin validate`. Screenshots in tests/artifacts/pages-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, cli, makeData, openssl, startServe } from "./dv_rig.mjs";
import { launchBrowser, launchPersistent } from "./lib.mjs";

const DOMAINS = ["alpha-pages.test", "beta-pages.test", "gamma-pages.test",
    "delta-pages.test"];
const PENDING = "waiting-pages.test";

describe("portal: portfolio and certificate pages", () => {
	let tmp, profile, d, srv, ctx, page, csrf;
	const slots = [], orders = {};
	const consoleErrors = [];
	let shot = 0;

	async function screenshot(name) {
		shot++;
		const n = String(shot).padStart(2, "0");

		await page.screenshot({ fullPage: true,
		    path: path.join(artifacts, `pages-${n}-${name}.png`) });
	}

	// an order of slot for domain through the API (the browser's
	// session and CSRF token); its id
	async function order(slot, domain) {
		const csr = openssl(["req", "-new", "-newkey", "ec",
		    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
		    "/dev/null", "-subj", `/CN=${domain}`, "-addext",
		    `subjectAltName=DNS:${domain},DNS:www.${domain}`]);
		const r = await page.request.post(srv.url(
		    `/api/v1/slots/${slot}/orders`), {
			headers: { "X-CSRF-Token": csrf,
			    "Content-Type": "application/json" },
			data: JSON.stringify({ domain, purpose: "server",
			    terms_accepted: true, csr }),
		});
		assert.equal(r.status(), 201, await r.text());
		return String((await r.json()).id);
	}

	function validate(id) {
		assert.equal(cli(["admin", "validate", "--data", d.data,
		    "--order", id]), "issued");
	}

	before(async () => {
		fs.mkdirSync(artifacts, { recursive: true });
		for (const f of fs.readdirSync(artifacts))
			if (/^pages-\d+-.*\.png$/.test(f))
				fs.rmSync(path.join(artifacts, f));
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-pages-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(),
		    "certdesk-chr-"));
		d = await makeData(tmp, "Pages GmbH", "PAGES-1");
		for (const dom of DOMAINS)
			cli(["admin", "domain", "add", "--data", d.data,
			    "--contract", d.contract, "--name", dom]);
		for (let i = 0; i < 6; i++)
			slots.push(cli(["admin", "slot", "add", "--data",
			    d.data, "--contract", d.contract, "--product",
			    "starter"]));
		srv = await startServe(tmp, d.data, d.plainPort);
		ctx = await launchPersistent(profile);
		page = ctx.pages()[0] || await ctx.newPage();
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.on("console", (m) => {
			if (m.type() === "error")
				consoleErrors.push(m.text());
		});
		page.setDefaultTimeout(30000);
		await page.goto(srv.url("/portal/login"));
		await page.fill("#email", d.email);
		await page.fill("#password", d.password);
		await Promise.all([page.waitForURL(/\/portal\/$/),
		    page.click("button[type=submit]")]);
		const me = await page.request.get(srv.url("/api/v1/me"));
		csrf = (await me.json()).csrf_token;
		for (let i = 0; i < 3; i++) {
			orders[i] = await order(slots[i], DOMAINS[i]);
			validate(orders[i]);
		}
		// slot 4: a certificate and its renewal (validation reused)
		orders.old = await order(slots[4], DOMAINS[3]);
		validate(orders.old);
		orders.renewal = await order(slots[4], DOMAINS[3]);
		// slot 5: waits for the domain's validation
		orders.pending = await order(slots[5], PENDING);
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (srv)
			await srv.stop();
		for (const p of [profile, tmp])
			if (p)
				fs.rmSync(p, { recursive: true, force: true });
	});

	const gear = (i) => page.locator(`tr[data-slot="${slots[i]}"] ` +
	    "details.gear");
	const isOpen = (i) => gear(i).evaluate((e) => e.open);

	// the open menu of row i must leave row i + 1's gear free
	async function menuClearOfNext(i) {
		const menu = await gear(i).locator(".menu").boundingBox();
		const next = await gear(i + 1).locator("summary").boundingBox();
		assert.ok(menu && next);
		const overlap = menu.x < next.x + next.width &&
		    next.x < menu.x + menu.width &&
		    menu.y < next.y + next.height &&
		    next.y < menu.y + menu.height;
		assert.ok(!overlap, `menu ${JSON.stringify(menu)} covers ` +
		    `the next gear ${JSON.stringify(next)}`);
		// and it is clickable there: the next gear opens
	}

	for (const [label, width] of [["desktop", 1000], ["phone", 390]]) {
		test(`gear menus (${label})`, async () => {
			await page.setViewportSize({ width, height: 900 });
			await page.goto(srv.url("/portal/"));
			// the domain each slot is for
			for (let i = 0; i < 3; i++) {
				const cell = await page.textContent(
				    `tr[data-slot="${slots[i]}"] .slot-domain`);
				assert.ok(cell.includes(DOMAINS[i]), cell);
			}
			await gear(0).locator("summary").click();
			assert.equal(await isOpen(0), true);
			await menuClearOfNext(0);
			await screenshot(`gear-open-${label}`);
			assert.match(await gear(0).locator(".menu")
			    .textContent(), /View certificate/);
			// the next row's gear opens with one click; the first
			// closes
			await gear(1).locator("summary").click();
			assert.equal(await isOpen(1), true);
			assert.equal(await isOpen(0), false);
			await menuClearOfNext(1);
			// Escape closes it, focus back on its button
			await page.keyboard.press("Escape");
			assert.equal(await isOpen(1), false);
			assert.equal(await gear(1).locator("summary").evaluate(
			    (e) => e === document.activeElement), true);
			// by keyboard: Enter opens, Tab into the menu, Escape
			await page.keyboard.press("Enter");
			assert.equal(await isOpen(1), true);
			await page.keyboard.press("Tab");
			assert.equal(await page.evaluate(() =>
			    document.activeElement.textContent),
			    "View certificate");
			await page.keyboard.press("Escape");
			assert.equal(await isOpen(1), false);
			// a click elsewhere closes it
			await gear(2).locator("summary").click();
			assert.equal(await isOpen(2), true);
			await page.click("h1");
			assert.equal(await isOpen(2), false);
			// "View certificate" opens the certificate's page
			await gear(0).locator("summary").click();
			await Promise.all([page.waitForURL(
			    new RegExp(`/portal/orders/${orders[0]}$`)),
			    gear(0).locator("text=View certificate").click()]);
		});
	}

	// the page of order id in a fresh browser without a session: the
	// login leads back to it
	test("a mail's link, logged out: log in, back on the page",
	    async () => {
		const browser = await launchBrowser();
		try {
			const c = await browser.newContext({
			    ignoreHTTPSErrors: true });
			const p = await c.newPage();
			const target = `/portal/orders/${orders[1]}`;
			await p.goto(srv.url(target));
			assert.equal(new URL(p.url()).pathname,
			    "/portal/login");
			assert.equal(new URL(p.url()).searchParams.get("next"),
			    target);
			await p.fill("#email", d.email);
			await p.fill("#password", d.password);
			await Promise.all([p.waitForURL(srv.url(target)),
			    p.click("button[type=submit]")]);
			assert.match(await p.title(), new RegExp(
			    `^SSL certificate for ${DOMAINS[1]}, www\\.`));
		} finally {
			await browser.close();
		}
	});

	for (const [label, width] of [["desktop", 1000], ["phone", 390]]) {
		test(`certificate page (${label})`, async () => {
			await page.setViewportSize({ width, height: 900 });
			await page.goto(srv.url(`/portal/orders/${orders[1]}`));
			assert.match(await page.title(),
			    new RegExp(`SSL certificate for ${DOMAINS[1]}`));
			const w = await page.evaluate(() =>
			    document.documentElement.scrollWidth);
			assert.ok(w <= width, `page ${w} px wide`);
			await screenshot(`certificate-${label}`);
		});
	}

	test("revoke with the keyboard, after the confirmation", async () => {
		await page.setViewportSize({ width: 1000, height: 900 });
		const at = `/portal/orders/${orders[1]}`;
		await page.goto(srv.url(at));
		await page.focus("#reason");
		// "No longer needed": the fourth option
		for (let i = 0; i < 3; i++)
			await page.keyboard.press("ArrowDown");
		assert.equal(await page.inputValue("#reason"), "5");
		await page.keyboard.press("Tab");
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "revoke");
		await Promise.all([page.waitForURL(/\/revoke\?reason=5$/),
		    page.keyboard.press("Enter")]);
		const text = await page.textContent("main");
		assert.match(text, /Revoke this certificate\?/);
		assert.ok(text.includes(DOMAINS[1]));
		assert.match(text, /Serial number/);
		assert.match(text, /Revoking cannot be undone/);
		assert.equal(await page.inputValue("#reason"), "5");
		assert.match(await page.title(),
		    /^Revoke the certificate for /);
		await screenshot("revoke-confirm-desktop");
		await page.setViewportSize({ width: 390, height: 900 });
		assert.ok(await page.evaluate(() =>
		    document.documentElement.scrollWidth) <= 390);
		await screenshot("revoke-confirm-phone");
		await page.setViewportSize({ width: 1000, height: 900 });
		// Tab on to "Revoke certificate", Enter
		for (let i = 0; i < 30; i++) {
			await page.keyboard.press("Tab");
			if (await page.evaluate(() =>
			    document.activeElement.id) === "confirm-revoke")
				break;
		}
		await Promise.all([page.waitForURL(srv.url(at)),
		    page.keyboard.press("Enter")]);
		assert.match(await page.textContent("#flash"),
		    /was revoked .*no longer trusted/);
		assert.match(await page.textContent("#revoked-at"),
		    /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$/);
		assert.equal(await page.textContent("#revoked-reason"),
		    "No longer needed");
		const after = await page.textContent("main");
		assert.doesNotMatch(after, /Installing the certificate/);
		assert.equal(await page.$("#revoke"), null);
		assert.match(after, /This certificate is revoked/);
		await screenshot("revoked-desktop");
		await page.setViewportSize({ width: 390, height: 900 });
		await screenshot("revoked-phone");
		await page.setViewportSize({ width: 1000, height: 900 });
	});

	test("revoke without JavaScript", async () => {
		const browser = await launchBrowser();
		try {
			const c = await browser.newContext({
			    ignoreHTTPSErrors: true,
			    javaScriptEnabled: false });
			const p = await c.newPage();
			const at = `/portal/orders/${orders[2]}`;
			await p.goto(srv.url(at));
			await p.fill("#email", d.email);
			await p.fill("#password", d.password);
			await Promise.all([p.waitForURL(srv.url(at)),
			    p.click("button[type=submit]")]);
			await p.selectOption("#reason", "4");
			await Promise.all([p.waitForURL(/\/revoke\?reason=4$/),
			    p.click("#revoke")]);
			// Cancel: back, nothing revoked
			await Promise.all([p.waitForURL(srv.url(at)),
			    p.click("#cancel-revoke")]);
			assert.ok(await p.$("#revoke"));
			await p.selectOption("#reason", "4");
			await Promise.all([p.waitForURL(/\/revoke\?reason=4$/),
			    p.click("#revoke")]);
			await Promise.all([p.waitForURL(srv.url(at)),
			    p.click("#confirm-revoke")]);
			assert.equal(await p.textContent("#revoked-reason"),
			    "Replaced by a new certificate");
		} finally {
			await browser.close();
		}
	});

	test("a certificate its renewal replaced", async () => {
		await page.goto(srv.url(`/portal/orders/${orders.old}`));
		const text = await page.textContent("main");
		assert.match(text, /Replaced by its renewal: install the new /);
		assert.doesNotMatch(text, /Ready to install/);
		assert.doesNotMatch(text, /Installing the certificate/);
		await screenshot("replaced");
		await Promise.all([page.waitForURL(
		    srv.url(`/portal/orders/${orders.renewal}`)),
		    page.click("text=its renewal")]);
		assert.match(await page.textContent("main"),
		    /Ready to install/);
		await page.goto(srv.url("/portal/overview"));
		const rows = page.locator(`tr[data-order="${orders.old}"], ` +
		    `tr[data-order="${orders.renewal}"]`);
		assert.equal(await rows.count(), 2);
		assert.notEqual(await rows.nth(0).textContent(),
		    await rows.nth(1).textContent());
		await screenshot("overview");
	});

	test("a pending order's page: what to do, and it updates", async () => {
		for (const [label, width] of [["desktop", 1000],
		    ["phone", 390]]) {
			await page.setViewportSize({ width, height: 900 });
			await page.goto(srv.url(
			    `/portal/orders/${orders.pending}`));
			const text = await page.textContent("main");
			assert.match(text, new RegExp("Confirm your domain: " +
			    PENDING.replace(/\./g, "\\.")));
			assert.match(text, /This page updates itself/);
			assert.ok(await page.$("[data-reload], " +
			    "meta[http-equiv=refresh]"));
			await screenshot(`pending-${label}`);
		}
		await page.setViewportSize({ width: 1000, height: 900 });
	});

	test("no errors in the browser", () => {
		assert.deepEqual(consoleErrors, []);
	});
});
