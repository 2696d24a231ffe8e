// SPDX-License-Identifier: Apache-2.0
//
// An SSL Business (OV) certificate from order to download, in headless
// Debian Chromium against a real `certdesk serve`: the customer orders
// Business in the portal (key made in the browser); the customer cannot
// reach the back office (404); a validation agent logs in through the
// portal's login page and lands in the back office, finds the case in the
// queue, takes it, records evidence step by step (one bad date is refused),
// asks the customer for information, which the customer sees on the
// overview and answers there; the agent approves (the domain is not
// validated yet: nothing is issued); the operator validates the domain
// (`certdesk admin validate --method operator`) and the certificate is
// issued; the customer downloads it and openssl shows O= from the agent's
// evidence (not what the customer typed). Screenshots:
// tests/artifacts/bo-ov-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";

import { Rig, OV_STEPS, cli } from "./backoffice_rig.mjs";

describe("back office: an OV certificate from order to download", () => {
	const rig = new Rig("bo-ov", "business", "shop.beispiel.test");
	let customer, agent, orderId, caseId;

	before(async () => {
		await rig.start([["ann", "Ann Agent"]]);
		customer = await rig.person("customer");
		agent = await rig.person("ann");
	});

	after(async () => {
		await rig.stop();
	});

	test("the customer orders SSL Business", async () => {
		await rig.login(customer, rig.customerEmail);
		orderId = await rig.order(customer,
		    { legal_name: "Beispiel Shop GmbH" });
		await rig.screenshot(customer, "customer-overview-pending");
	});

	test("the customer cannot reach the back office", async () => {
		const r = await customer.goto(rig.url("/backoffice/"));
		assert.equal(r.status(), 404);
		assert.doesNotMatch(await customer.textContent("main"),
		    /back office|validation queue/i);
		await rig.screenshot(customer, "customer-backoffice-404");
	});

	test("the agent logs in and finds the case in the queue",
	    async () => {
		await rig.login(agent, rig.agents.ann);
		assert.match(agent.url(), /\/backoffice\/$/);
		const row = agent.locator("tr[data-case]");
		assert.equal(await row.count(), 1);
		assert.equal(await row.getAttribute("data-state"), "open");
		assert.match(await row.textContent(), /shop\.beispiel\.test/);
		assert.match(await row.textContent(), /Beispiel Shop GmbH/);
		await rig.screenshot(agent, "agent-queue");
		// the product filter: no Premium cases
		await agent.click("a.chip:has-text('SSL Premium')");
		assert.equal(await agent.locator("tr[data-case]").count(), 0);
		await rig.screenshot(agent, "agent-queue-filtered");
		caseId = await rig.openCase(agent);
		const main = await agent.textContent("main");
		assert.match(main, /Ada Admin/);
		assert.match(main, /\+49 721 654321/);
		assert.match(main, /Beispiel Shop GmbH/);
		await rig.screenshot(agent, "agent-case-open");
	});

	test("the agent takes the case and records evidence", async () => {
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-take")]);
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "in_review");
		// a call in the future is refused, with the field named
		const form = agent.locator("#step-telephone form");
		for (const [k, v] of Object.entries(OV_STEPS.telephone)) {
			const sel = form.locator(`[name="${k}"]`);
			if (await sel.evaluate((e) => e.tagName) === "SELECT")
				await sel.selectOption(v);
			else
				await sel.fill(k === "called_at" ?
				    "2099-01-01 10:00" : v);
		}
		await Promise.all([agent.waitForNavigation(),
		    form.locator("button[type=submit]").click()]);
		assert.match(await agent.textContent("#flash"),
		    /not recorded.*Called at.*not in the future/);
		// the form comes back as typed, the field marked
		assert.equal(await agent.inputValue("#s3-number"),
		    OV_STEPS.telephone.number);
		assert.equal(await agent.inputValue("#s3-called_at"),
		    "2099-01-01 10:00");
		assert.match(await agent.textContent(
		    "#step-telephone .field.invalid"), /not in the future/);
		await rig.screenshot(agent, "agent-evidence-refused");
		for (const [step, fields] of Object.entries(OV_STEPS))
			await rig.evidence(agent, step, fields);
		await rig.screenshot(agent, "agent-checklist-done");
	});

	test("the agent asks; the customer answers on the overview",
	    async () => {
		await agent.fill("#t-request-info", "Please send a current " +
		    "register extract.");
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-request-info")]);
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "info_requested");
		await rig.screenshot(agent, "agent-info-requested");
		await customer.goto(rig.url("/portal/overview"));
		const card = customer.locator(`#org-info-${orderId}`);
		assert.match(await card.textContent(),
		    /current register extract/);
		await rig.screenshot(customer, "customer-info-request");
		await card.locator("textarea").fill("Sent by post today.");
		await Promise.all([customer.waitForNavigation(),
		    card.locator("button[type=submit]").click()]);
		assert.match(await customer.textContent("#flash"),
		    /answer was sent/);
		assert.equal(await customer.locator(`#org-info-${orderId}`)
		    .count(), 0);
		await agent.reload();
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "in_review");
		assert.match(await agent.textContent(
		    "#case-thread .bo-thread-answer blockquote"),
		    /Sent by post today/);
	});

	test("approved before the domain is validated: nothing issued",
	    async () => {
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-approve")]);
		assert.match(await agent.textContent("#flash"),
		    /issued when every domain/);
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "approved");
		await rig.screenshot(agent, "agent-approved");
		await customer.goto(rig.url("/portal/overview"));
		assert.equal(await customer.locator("tr[data-order]")
		    .getAttribute("data-state"), "org_validation_pending");
	});

	test("the domain is validated: issued, downloaded, O= verified",
	    async () => {
		assert.equal(cli(["admin", "validate", "--data", rig.data,
		    "--order", orderId, "--method", "operator"]), "issued");
		await customer.goto(rig.url("/portal/overview"));
		assert.equal(await customer.locator("tr[data-order]")
		    .getAttribute("data-state"), "issued");
		await rig.screenshot(customer, "customer-overview-issued");
		const text = await rig.downloadCert(customer, orderId);
		assert.match(text, /Subject: .*O=Beispiel Shop Handels GmbH,/);
		assert.match(text, /Subject: .*L=Karlsruhe,/);
		assert.match(text, /Subject: C=DE,/);
		assert.match(text, /2\.23\.140\.1\.2\.2/);	/* OV policy */
		assert.doesNotMatch(text, /O=Beispiel Shop GmbH,/);
		await rig.screenshot(customer, "customer-certificate");
		// the back office's queue shows it approved
		await agent.goto(rig.url("/backoffice/queue/approved/any"));
		assert.equal(await agent.locator("tr[data-case]").count(), 1);
		await rig.screenshot(agent, "agent-queue-approved");
		assert.deepEqual(rig.errors, []);
	});
});
