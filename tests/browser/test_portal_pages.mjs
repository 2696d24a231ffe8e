// SPDX-License-Identifier: Apache-2.0
//
// The portal's portfolio and certificate pages in headless Debian
// Chromium (playwright-core) against a real `certdesk serve`, at desktop
// width and at 390 px: the gear menus of the portfolio (one open at a
// time, closed by Escape and by a click elsewhere, never covering the
// next row's gear). A customer with several Starter slots; certificates
// are ordered through the portal's JSON API with the browser's session
// and issued with `certdesk admin validate`. Screenshots in
// tests/artifacts/pages-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, cli, makeData, openssl, startServe } from "./dv_rig.mjs";
import { launchPersistent } from "./lib.mjs";

const DOMAINS = ["alpha-pages.test", "beta-pages.test", "gamma-pages.test"];

describe("portal: portfolio and certificate pages", () => {
	let tmp, profile, d, srv, ctx, page, csrf;
	const slots = [], orders = {};
	const consoleErrors = [];
	let shot = 0;

	async function screenshot(name) {
		shot++;
		await page.screenshot({ fullPage: true, path: path.join(artifacts,
		    `pages-${String(shot).padStart(2, "0")}-${name}.png`) });
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
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		d = await makeData(tmp, "Pages GmbH", "PAGES-1");
		for (const dom of DOMAINS)
			cli(["admin", "domain", "add", "--data", d.data,
			    "--contract", d.contract, "--name", dom]);
		for (let i = 0; i < 4; i++)
			slots.push(cli(["admin", "slot", "add", "--data", d.data,
			    "--contract", d.contract, "--product", "starter"]));
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
			for (let i = 0; i < 3; i++)
				assert.match(await page.textContent(
				    `tr[data-slot="${slots[i]}"] .slot-domain`),
				    new RegExp(DOMAINS[i].replace(/\./g, "\\.")));
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

	test("no errors in the browser", () => {
		assert.deepEqual(consoleErrors, []);
	});
});
