// SPDX-License-Identifier: Apache-2.0
//
// An SSL Premium (EV) certificate with the two-person rule, in headless
// Debian Chromium against a real `certdesk serve`: the customer orders
// Premium in the portal (key made in the browser); the operator validates
// the domain first (`certdesk admin validate --method operator`): nothing
// is issued; agent Ann takes the case, records the evidence of all seven
// steps and gives the first approval: still nothing issued; Ann is offered
// no second approval, and a hand-made POST of one is refused; agent Bob
// finds the case under "Awaiting second approval", reviews it and gives
// the second approval: the certificate is issued; the customer downloads
// it and openssl shows the EV subject (O=, serialNumber=, businessCategory=,
// jurisdictionC=) from the agents' evidence and the EV policy OID.
// Screenshots: tests/artifacts/bo-ev-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";

import { Rig, EV_STEPS, cli } from "./backoffice_rig.mjs";

describe("back office: an EV certificate needs two agents", () => {
	const rig = new Rig("bo-ev", "premium", "bank.beispiel.test");
	let customer, ann, bob, orderId, caseId;

	before(async () => {
		await rig.start([["ann", "Ann Agent"], ["bob", "Bob Agent"]]);
		customer = await rig.person("customer");
		ann = await rig.person("ann");
		bob = await rig.person("bob");
	});

	after(async () => {
		await rig.stop();
	});

	test("the customer orders SSL Premium; the domain is validated",
	    async () => {
		await rig.login(customer, rig.customerEmail);
		orderId = await rig.order(customer,
		    { legal_name: "Beispiel Shop GmbH", ev: true });
		assert.equal(cli(["admin", "validate", "--data", rig.data,
		    "--order", orderId, "--method", "operator"]), "validated");
		await customer.goto(rig.url("/portal/overview"));
		assert.equal(await customer.locator("tr[data-order]")
		    .getAttribute("data-state"), "org_validation_pending");
		await rig.screenshot(customer, "customer-overview-pending");
	});

	test("Ann takes the case and records the EV evidence", async () => {
		await rig.login(ann, rig.agents.ann);
		assert.match(ann.url(), /\/backoffice\/$/);
		await rig.screenshot(ann, "ann-queue");
		caseId = await rig.openCase(ann);
		assert.match(await ann.textContent("main"),
		    /two approvals by two different agents/);
		await Promise.all([ann.waitForNavigation(),
		    ann.click("#do-take")]);
		assert.equal(await ann.locator("li.bo-step").count(), 7);
		await rig.screenshot(ann, "ann-case-taken");
		for (const [step, fields] of Object.entries(EV_STEPS))
			await rig.evidence(ann, step, fields);
		await rig.screenshot(ann, "ann-checklist-done");
	});

	test("Ann's first approval issues nothing", async () => {
		await Promise.all([ann.waitForNavigation(),
		    ann.click("#do-approve")]);
		assert.match(await ann.textContent("#flash"),
		    /First approval recorded/);
		assert.equal(await ann.getAttribute("#case-state",
		    "data-state"), "awaiting_second_approval");
		await customer.goto(rig.url("/portal/overview"));
		assert.equal(await customer.locator("tr[data-order]")
		    .getAttribute("data-state"), "org_validation_pending");
	});

	test("Ann cannot give the second approval", async () => {
		await ann.reload();
		assert.equal(await ann.locator("#do-approve").count(), 0);
		assert.match(await ann.textContent("main"),
		    /the second must come from another agent/);
		await rig.screenshot(ann, "ann-awaiting-second");
		// a hand-made POST of the approval, with Ann's valid CSRF token
		const csrf = await ann.getAttribute("input[name=csrf]", "value");
		const html = await ann.evaluate(async ([id, token]) => {
			const r = await fetch(`/backoffice/cases/${id}/approve`, {
				method: "POST",
				headers: { "Content-Type":
				    "application/x-www-form-urlencoded" },
				body: new URLSearchParams({ csrf: token }),
			});
			return await r.text();
		}, [caseId, csrf]);
		assert.match(html, /another agent/);
		assert.match(html, /data-state="awaiting_second_approval"/);
		await ann.reload();
		assert.equal(await ann.getAttribute("#case-state",
		    "data-state"), "awaiting_second_approval");
	});

	test("Bob gives the second approval: issued", async () => {
		await rig.login(bob, rig.agents.bob);
		await bob.click("a.chip:has-text('Awaiting second approval')");
		const row = bob.locator("tr[data-case]");
		assert.equal(await row.count(), 1);
		assert.match(await row.textContent(), /Ann Agent/);
		await rig.screenshot(bob, "bob-queue-awaiting");
		await Promise.all([bob.waitForURL(/\/backoffice\/cases\/\d+$/),
		    row.locator("a").click()]);
		assert.match(await bob.textContent("main"),
		    /First approval by Ann Agent/);
		// Bob reviews, he does not edit: no evidence forms
		assert.equal(await bob.locator("li.bo-step form").count(), 0);
		await rig.screenshot(bob, "bob-case");
		await Promise.all([bob.waitForNavigation(),
		    bob.click("#do-approve")]);
		assert.match(await bob.textContent("#flash"),
		    /Approved\. The certificate was issued/);
		assert.match(await bob.textContent("main"),
		    /by Ann Agent and Bob Agent/);
		await rig.screenshot(bob, "bob-approved");
	});

	test("the customer downloads the EV certificate", async () => {
		await customer.goto(rig.url("/portal/overview"));
		assert.equal(await customer.locator("tr[data-order]")
		    .getAttribute("data-state"), "issued");
		await rig.screenshot(customer, "customer-overview-issued");
		const text = await rig.downloadCert(customer, orderId);
		assert.match(text, /Subject: .*O=Beispiel Shop Handels GmbH,/);
		assert.match(text, /serialNumber=HRB 700001/);
		assert.match(text, /businessCategory=Private Organization/);
		assert.match(text, /jurisdictionC=DE/);
		assert.match(text, /Policy: 2\.23\.140\.1\.1\b/);
		await rig.screenshot(customer, "customer-certificate");
		assert.deepEqual(rig.errors, []);
	});
});
