// SPDX-License-Identifier: Apache-2.0
//
// The pages on a phone, in headless Debian Chromium (playwright-core)
// against a real `certdesk serve`: a browser window 390 CSS pixels wide
// (a common phone), then 320 (the narrowest), and every page the
// customer, the validation agent and the admin reach on the way of an OV
// certificate, with every <details> opened. On none of them does the page
// scroll sideways (document.documentElement.scrollWidth at most the
// width): long select options (the key type), long domain names in
// headings, file names and fingerprints wrap (a fingerprint only between
// two bytes), the navigation wraps without cutting a link over two lines,
// and the back office's wide tables scroll in a box of their own.
// Screenshots in tests/artifacts/phone-NN-<name>.png (-320 at 320 px).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";

import { Rig, OV_STEPS, cli, PASSWORD } from "./backoffice_rig.mjs";

const WIDTH = 390;
// and the narrowest phone still sold (iPhone SE 1st gen., small Androids)
const WIDTHS = [WIDTH, 320];

describe("phone width: no page scrolls sideways", () => {
	// a long name: headings, file names and table cells must wrap it
	const rig = new Rig("phone", "business",
	    "certificates-for-phones.beispiel-shop.test");
	let customer, agent, admin, orderId, caseId;

	// The page at path in a phone-sized window: opens every <details>
	// (menus, "Use another method", evidence forms) and asserts that
	// nothing is wider than the window; a screenshot either way.
	async function fits(page, path, name) {
		if (path !== null) {
			const r = await page.goto(rig.url(path));
			assert.ok(r.status() < 400, `${path}: ${r.status()}`);
		}
		await page.$$eval("details", (ds) => ds.forEach((d) => {
			d.open = true;
		}));
		for (const w of WIDTHS) {
			await page.setViewportSize({ width: w, height: 844 });
			await fitsAt(page, w, w === WIDTH ? name :
			    `${name}-${w}`);
		}
		await page.setViewportSize({ width: WIDTH, height: 844 });
	}

	// Whether the page fits w pixels: nothing wider, fingerprints
	// broken between bytes only, the header's lines whole.
	async function fitsAt(page, WIDTH, name) {
		const wide = await page.evaluate((w) => {
			const out = [];
			for (const e of document.querySelectorAll("body *")) {
				const b = e.getBoundingClientRect();
				const what = `${e.tagName} ${e.className} ` +
				    Math.round(b.right);

				if (b.width > 0 && b.right > w + 0.5)
					out.push(what);
			}
			return { sw: document.documentElement.scrollWidth,
			    out: out.slice(0, 5) };
		}, WIDTH);
		await rig.screenshot(page, name);
		assert.ok(wide.sw <= WIDTH, `${name} (${page.url()}) is ` +
		    `${wide.sw} px wide: ${wide.out.join("; ")}`);
		// a fingerprint's line ends after a whole byte ("AB:" or, one
		// without colons, an even number of digits), never in one
		const cut = await page.$$eval("code.fp", (cs) => {
			const bad = [];
			for (const c of cs) {
				const t = c.textContent, r = document
				    .createRange();
				const colons = t.includes(":");
				let top = null, at = 0;
				const walk = document.createTreeWalker(c,
				    NodeFilter.SHOW_TEXT);
				for (let n; (n = walk.nextNode());) {
					for (let i = 0; i < n.length; i++,
					    at++) {
						r.setStart(n, i);
						r.setEnd(n, i + 1);
						const y = Math.round(r
						    .getBoundingClientRect()
						    .top);
						if (top !== null && y > top &&
						    (colons ? t[at - 1] !==
						    ":" : at % 2 !== 0))
							bad.push(`${c.id}: ` +
							    t.slice(0, at));
						top = y;
					}
				}
			}
			return bad;
		});
		assert.deepEqual(cut, [], `${name}: a fingerprint breaks ` +
		    "inside a byte");
		// the header: no link, button, name or role cut over two
		// lines ("Log" / "out"); its text's line boxes, counted
		const head = await page.evaluate(() => {
			const out = [];
			for (const e of document.querySelectorAll(
			    "header a, header button, header .user, " +
			    "header .bo-role")) {
				const r = document.createRange();
				r.selectNodeContents(e);
				// a box starting below the line so far
				// starts a new line (a pill's own box
				// is higher, on the same line)
				const bs = [...r.getClientRects()]
				    .filter((b) => b.width > 0)
				    .sort((a, b) => a.top - b.top);
				let lines = 0, bottom = -Infinity;
				for (const b of bs) {
					if (b.top >= bottom - 2)
						lines++;
					bottom = Math.max(bottom,
					    b.bottom);
				}
				if (lines > 1)
					out.push(e.textContent.trim());
			}
			return out;
		});
		assert.deepEqual(head, [], `${name}: header text wraps`);
	}

	async function phone(who) {
		const ctx = await rig.browser.newContext({
			acceptDownloads: true, ignoreHTTPSErrors: true,
			viewport: { width: WIDTH, height: 844 },
			deviceScaleFactor: 1, isMobile: true, hasTouch: true,
		});
		const page = await ctx.newPage();
		page.setDefaultTimeout(30000);
		page.on("pageerror", (e) => rig.errors.push(`${who}: ${e}`));
		return page;
	}

	before(async () => {
		await rig.start([["ann", "Ann Agent"]]);
		cli(["admin", "user", "add", "--data", rig.data, "--email",
		    "root@ca.example", "--name", "Ada Admin", "--role",
		    "admin", "--password-stdin"], PASSWORD + "\n");
		customer = await phone("customer");
		agent = await phone("ann");
		admin = await phone("admin");
	});

	after(async () => {
		await rig.stop();
	});

	test("the customer's pages", async () => {
		await rig.login(customer, rig.customerEmail);
		await fits(customer, "/portal/", "portfolio");
		// the setup form once the key is made: the key type's select
		await customer.goto(rig.url(`/portal/slots/${rig.slot}/setup`));
		await customer.waitForSelector(
		    "#download-key:not([disabled])");
		await fits(customer, null, "setup-form");
		orderId = await rig.order(customer,
		    { legal_name: "Beispiel Shop GmbH" });
		await fits(customer, "/portal/overview", "overview-pending");
		await fits(customer, `/portal/orders/${orderId}`,
		    "order-pending");
		await fits(customer, "/portal/acme", "acme");
		await fits(customer, "/portal/tokens", "tokens");
		await fits(customer, "/portal/terms", "terms");
	});

	test("the agent's pages", async () => {
		await rig.login(agent, rig.agents.ann);
		await fits(agent, "/backoffice/", "queue");
		caseId = await rig.openCase(agent);
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-take")]);
		for (const [step, fields] of Object.entries(OV_STEPS))
			await rig.evidence(agent, step, fields);
		// a step corrected: the history has a row it replaced
		await agent.click("#step-address summary");
		await rig.evidence(agent, "address", OV_STEPS.address);
		await fits(agent, `/backoffice/cases/${caseId}`, "case");
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-approve")]);
		await fits(agent, null, "case-approved");
		await fits(agent, "/backoffice/queue/all", "queue-all");
		await fits(agent, "/portal/tokens", "agent-tokens");
	});

	test("the issued certificate's page", async () => {
		assert.equal(cli(["admin", "validate", "--data", rig.data,
		    "--order", orderId, "--method", "operator"]), "issued");
		await fits(customer, "/portal/overview", "overview-issued");
		await fits(customer, `/portal/orders/${orderId}`,
		    "order-issued");
		// the file names and the fingerprint wrap, but no normal word
		// is broken a letter a line
		const h = await customer.$eval("table.downloads a",
		    (a) => a.getBoundingClientRect().width);
		assert.ok(h > 100, `a file name is ${h} px wide`);
	});

	test("the admin's pages", async () => {
		await rig.login(admin, "root@ca.example");
		await fits(admin, "/portal/", "staff-home");
		for (const p of ["/portal/admin/mail", "/portal/admin/ca",
		    "/portal/admin/acme", "/backoffice/",
		    `/backoffice/cases/${caseId}`])
			await fits(admin, p, "admin" + p.replace(
			    /[^a-z0-9]+/g, "-").replace(/-$/, ""));
		// the header's last line: the name by its role, log out right
		const gap = await admin.evaluate(() => {
			const r = (s) => document.querySelector(s)
			    .getBoundingClientRect();
			return [r(".who .bo-role").left - r(".who .user").right,
			    innerWidth - r(".who form").right];
		});
		assert.ok(gap[0] < 20 && gap[1] < 40, `header gaps ${gap}`);
		assert.deepEqual(rig.errors, []);
	});
});
