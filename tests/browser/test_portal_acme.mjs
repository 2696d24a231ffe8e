// SPDX-License-Identifier: Apache-2.0
//
// ACME credentials in the portal, in headless Debian Chromium
// (playwright-core) against a real `certdesk serve`: the customer opens
// "ACME" from the navigation, creates credentials for the contract, sees
// the key id and the HMAC key once with their Copy buttons and the
// certbot and lego commands (on the page the form redirects to), reloads
// that page (no second key, the HMAC key not shown again, a message why),
// asks for it again as the back button does (the same), sees the key listed
// ("Not used yet") and revokes it. Screenshots in
// tests/artifacts/acme-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";

import { customerSession, endCustomer, login, shot, shownOnce }
    from "./dv_rig.mjs";

describe("portal: ACME credentials", () => {
	let s, page, url, kid, hmac;
	let n = 0;

	const screenshot = (name) => shot(page,
	    `acme-${String(++n).padStart(2, "0")}-${name}`);

	before(async () => {
		s = await customerSession("acme", "Hosting Example AG",
		    "HOST-0042");
		({ page } = s);
		url = s.serve.url;
	});

	after(async () => {
		if (s)
			await endCustomer(s);
	});

	test("log in, open ACME from the navigation", async () => {
		await login(page, url, s.d.email, s.d.password);
		await Promise.all([page.waitForURL(/\/portal\/acme$/),
		    page.click("nav >> text=ACME")]);
		const main = await page.textContent("main");
		assert.match(main, /Contract HOST-0042/);
		assert.match(main, /No ACME credentials yet/);
		assert.equal(await page.textContent("#acme-directory"),
		    url("/acme/directory"));
		// the bundle shows the Copy button
		await page.waitForSelector(
		    "button[data-copy=acme-directory]:not([hidden])");
		await screenshot("page");
	});

	test("Create ACME credentials: shown once", async () => {
		await Promise.all([page.waitForURL(
		    /\/portal\/acme\/keys\/new\/\d+\/[A-Za-z0-9_-]{22}$/),
		    page.click("text=Create ACME credentials")]);
		kid = (await page.textContent("#acme-kid")).trim();
		hmac = (await page.textContent("#acme-hmac")).trim();
		assert.match(kid, /^[A-Za-z0-9_-]{22}$/);
		assert.match(hmac, /^[A-Za-z0-9_-]{43}$/);
		assert.match(await page.textContent("main"),
		    /shown only this once/);
		assert.match(await page.textContent("main"),
		    new RegExp(`--eab-kid=${kid} \\\\\\s+--eab-hmac-key=` +
		    hmac));
		assert.ok(page.url().endsWith(`/${kid}`));
		await page.waitForSelector(
		    "button[data-copy=acme-hmac]:not([hidden])");
		await screenshot("credentials");
	});

	test("a reload makes no second key and does not show it",
	    async () => {
		const rows = page.locator("table.acme-keys tbody tr");

		await shownOnce(page, hmac, /\/portal\/acme$/, async () => {
			assert.equal(await rows.count(), 1);
			await screenshot("reloaded");
		});
		assert.equal(await rows.count(), 1);
	});

	test("listed, not used yet; revoked", async () => {
		const main = await page.textContent("main");
		assert.match(main, new RegExp(kid));
		assert.match(main, /Not used yet/);
		assert.ok(!main.includes(hmac), "the HMAC key is shown again");
		await screenshot("listed");
		await Promise.all([page.waitForURL(/\/portal\/acme$/),
		    page.click(`button:has-text("Revoke")`)]);
		assert.match(await page.textContent("#flash"),
		    new RegExp(`${kid} are revoked`));
		assert.match(await page.textContent("main"),
		    /No ACME credentials yet/);
		await screenshot("revoked");
		assert.deepEqual(s.errors, []);
	});
});
