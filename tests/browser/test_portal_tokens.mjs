// SPDX-License-Identifier: Apache-2.0
//
// API tokens in the portal, in headless Debian Chromium (playwright-core)
// against a real `certdesk serve`: the customer opens "API tokens" from
// the navigation, is told what is missing when the label is empty (the
// title starting "Error: ", the focus on the message), makes
// a token (shown once, with its Copy button, on the page the form
// redirects to), reloads that page (no second token, the text not shown
// again, a message why), goes back (listed, never used) and revokes it.
// Screenshots in tests/artifacts/tokens-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";

import { customerSession, endCustomer, login, shot, shownOnce }
    from "./dv_rig.mjs";

describe("portal: API tokens", () => {
	let s, page, token;
	let n = 0;

	const screenshot = (name) => shot(page,
	    `tokens-${String(++n).padStart(2, "0")}-${name}`);

	before(async () => {
		// the one refusal the test provokes: the empty label (422)
		s = await customerSession("tok", "Scripted Example AG",
		    "SCR-0007", (what) => /(status of |^)422/.test(what));
		({ page } = s);
	});

	after(async () => {
		if (s)
			await endCustomer(s);
	});

	test("open API tokens; an empty label is refused", async () => {
		await login(page, s.serve.url, s.d.email, s.d.password);
		await Promise.all([page.waitForURL(/\/portal\/tokens$/),
		    page.click("nav >> text=API tokens")]);
		assert.match(await page.textContent("main"), /No API tokens yet/);
		// the browser itself insists (required); past it, the server
		await page.$eval("#t-label", (e) => { e.required = false; });
		await page.fill("#t-label", "   ");
		await page.click("text=Create API token");
		await page.waitForSelector("#t-label-error");
		assert.match(await page.textContent("#t-label-error"),
		    /say what the token is for/);
		// GOV.UK's pattern: the title says so first, and the
		// keyboard focus is on why, not on the page's body
		assert.match(await page.title(), /^Error: /);
		assert.equal(await page.evaluate(() =>
		    document.activeElement.id), "t-label-error");
		await screenshot("label-missing");
	});

	test("Create API token: shown once", async () => {
		await page.fill("#t-label", "nightly deploy");
		await Promise.all([page.waitForURL(
		    /\/portal\/tokens\/new\/\d+$/),
		    page.click("text=Create API token")]);
		token = (await page.textContent("#api-token")).trim();
		assert.match(token, /^cdt_[0-9a-f]{64}$/);
		await page.waitForSelector(
		    "button[data-copy=api-token]:not([hidden])");
		await screenshot("token");
	});

	test("a reload makes no second token and does not show it",
	    async () => {
		await shownOnce(page, token, /\/portal\/tokens$/, async () => {
			assert.equal(await page.locator("#tokens tbody tr")
			    .count(), 1);
			await screenshot("reloaded");
		});
	});

	test("listed, then revoked", async () => {
		const main = await page.textContent("main");
		assert.match(main, /nightly deploy/);
		assert.match(main, /never/);
		assert.ok(!main.includes(token), "the token is shown again");
		await screenshot("listed");
		await Promise.all([page.waitForURL(/\/portal\/tokens$/),
		    page.click(`button:has-text("Revoke")`)]);
		assert.match(await page.textContent("#flash"), /revoked/);
		assert.match(await page.textContent("#tokens"), /Revoked/);
		await screenshot("revoked");
		assert.deepEqual(s.errors, []);
	});
});
