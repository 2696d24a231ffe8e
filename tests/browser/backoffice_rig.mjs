// SPDX-License-Identifier: Apache-2.0
//
// What the back office browser tests share (test_backoffice_ov.mjs,
// test_backoffice_ev.mjs): a data directory seeded with the certdesk CLI (a
// customer with a contract, a domain and one slot of the product, the
// customer's user and validation agents), a running `certdesk serve`,
// headless Debian Chromium (playwright-core) with one browser context per
// person, the customer's "Set up SSL certificate" with the key made in the
// browser, an agent's work through the case page, and screenshots in
// tests/artifacts/<prefix>-NN-<name>.png.
//
// Needs the certdesk binary: $CERTDESK_BIN, or the newest
// build*/src/daemon/certdesk of the source tree.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import * as lib from "./lib.mjs";
import { artifacts, certdeskBin, certdeskEnv, cli, freePort, httpsPortOf,
    launchBrowser } from "./lib.mjs";

export { artifacts, cli } from "./lib.mjs";

export const PASSWORD = "correct horse battery staple";

// openssl's output as UTF-8 (the subjects of OV and EV certificates).
export const openssl = (args, input) => lib.openssl(args, input, "utf8");

export class Rig {
	constructor(prefix, product, domain) {
		this.prefix = prefix;
		this.product = product;
		this.domain = domain;
		this.shot = 0;
		this.errors = [];
		this.people = {};
	}

	async start(agents) {
		fs.mkdirSync(artifacts, { recursive: true });
		const re = new RegExp(`^${this.prefix}-\\d+-.*\\.png$`);
		for (const f of fs.readdirSync(artifacts))
			if (re.test(f))
				fs.rmSync(path.join(artifacts, f));
		this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-bo-"));
		this.data = path.join(this.tmp, "data");
		const port = await freePort();
		const d = ["--data", this.data];
		cli(["init", ...d, "--base-url", `http://127.0.0.1:${port}`]);
		const cust = cli(["admin", "customer", "add", ...d, "--name",
		    "Beispiel Shop GmbH"]);
		const contract = cli(["admin", "contract", "add", ...d,
		    "--customer", cust, "--number", "BSP-0001"]);
		cli(["admin", "domain", "add", ...d, "--contract", contract,
		    "--name", this.domain]);
		this.slot = cli(["admin", "slot", "add", ...d, "--contract",
		    contract, "--product", this.product]);
		this.customerEmail = `dana@${this.domain}`;
		cli(["admin", "user", "add", ...d, "--customer", cust, "--email",
		    this.customerEmail, "--name", "Dana Demo", "--role",
		    "customer", "--password-stdin"], PASSWORD + "\n");
		this.agents = {};
		for (const [who, name] of agents) {
			this.agents[who] = `${who}@ca.example`;
			cli(["admin", "user", "add", ...d, "--email",
			    this.agents[who], "--name", name, "--role", "agent",
			    "--password-stdin"], PASSWORD + "\n");
		}
		this.logFile = path.join(this.tmp, "serve.log");
		const log = fs.openSync(this.logFile, "a");
		this.serve = spawn(certdeskBin(), ["serve", ...d,
		    "--plain-listen", `127.0.0.1:${port}`, "--listen",
		    "127.0.0.1:0"], { stdio: ["ignore", log, log],
		    env: certdeskEnv() });
		this.httpsPort = await httpsPortOf(this.serve, this.logFile,
		    20000);
		this.browser = await launchBrowser();
	}

	async stop() {
		if (this.browser)
			await this.browser.close();
		if (this.serve && this.serve.exitCode === null) {
			const done = new Promise((r) => this.serve.on("exit", r));
			this.serve.kill("SIGTERM");
			await done;
		}
		if (this.tmp)
			fs.rmSync(this.tmp, { recursive: true, force: true });
	}

	url(p) {
		return `https://127.0.0.1:${this.httpsPort}${p}`;
	}

	// A person's own browser (cookies apart) and page.
	async person(who) {
		const ctx = await this.browser.newContext({
			acceptDownloads: true,
			ignoreHTTPSErrors: true,
			viewport: { width: 1100, height: 900 },
		});
		const page = await ctx.newPage();
		page.setDefaultTimeout(30000);
		page.on("console", (m) => {
			if (m.type() === "error" && !/status of 4\d\d/.test(
			    m.text()))
				this.errors.push(`${who}: ${m.text()}`);
		});
		page.on("pageerror", (e) => this.errors.push(`${who}: ${e}`));
		this.people[who] = page;
		return page;
	}

	async screenshot(page, name) {
		this.shot++;
		await page.screenshot({ fullPage: true, path: path.join(artifacts,
		    `${this.prefix}-${String(this.shot).padStart(2, "0")}-` +
		    `${name}.png`) });
	}

	async login(page, email) {
		await page.goto(this.url("/portal/login"));
		await page.fill("#email", email);
		await page.fill("#password", PASSWORD);
		await Promise.all([page.waitForNavigation(),
		    page.click("button[type=submit]")]);
	}

	// The customer sets up the slot's certificate with the key made in
	// the browser; returns the order id (from the overview).
	async order(page, org) {
		await page.goto(this.url(`/portal/slots/${this.slot}/setup`));
		await page.waitForSelector("#download-key:not([disabled])");
		await page.fill("#f-domain", this.domain);
		await page.check("input[name=purpose][value=server]");
		const fields = {
			admin_name: "Ada Admin", admin_email:
			    `ada@${this.domain}`, admin_phone: "+49 721 123456",
			tech_name: "Tom Tech", tech_email: `tom@${this.domain}`,
			tech_phone: "+49 721 654321",
			org_legal_name: org.legal_name, org_street: "Hauptstr. 1",
			org_postal_code: "76131", org_locality: "Karlsruhe",
			org_country: "DE",
		};
		if (org.ev) {
			fields.org_registration_number = "HRB 700001";
			fields.org_jurisdiction = "DE";
		}
		for (const [k, v] of Object.entries(fields))
			await page.fill(`#f-${k}`, v);
		if (org.ev)
			await page.selectOption("#f-org_business_category",
			    "Private Organization");
		const [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#download-key")]);
		this.keyFile = path.join(this.tmp, `${this.domain}.key`);
		await dl.saveAs(this.keyFile);
		openssl(["pkey", "-in", this.keyFile, "-noout"]);
		await page.check("input[name=terms]");
		await this.screenshot(page, "customer-setup-form");
		await Promise.all([page.waitForSelector("text=Go to overview"),
		    page.click("#setup-submit")]);
		await Promise.all([page.waitForURL(/\/portal\/overview$/),
		    page.click("text=Go to overview")]);
		const row = page.locator("tr[data-order]");
		assert.equal(await row.count(), 1);
		assert.equal(await row.getAttribute("data-state"),
		    "org_validation_pending");
		return await row.getAttribute("data-order");
	}

	// The agent opens the case of the queue's only row.
	async openCase(page) {
		await page.goto(this.url("/backoffice/"));
		const link = page.locator("tr[data-case] a").first();
		await Promise.all([page.waitForURL(/\/backoffice\/cases\/\d+$/),
		    link.click()]);
		return page.url().replace(/.*\/cases\//, "");
	}

	// Fills and saves one step's evidence form on the case page.
	async evidence(page, step, fields) {
		const form = page.locator(`#step-${step} form`);
		for (const [k, v] of Object.entries(fields)) {
			const sel = form.locator(`[name="${k}"]`);
			if (await sel.evaluate((e) => e.tagName) === "SELECT")
				await sel.selectOption(v);
			else
				await sel.fill(v);
		}
		await Promise.all([page.waitForNavigation(),
		    form.locator("button[type=submit]").click()]);
		assert.match(await page.textContent("#flash"), /recorded/);
		assert.equal(await page.getAttribute(`#step-${step}`,
		    "data-status"), "done");
	}

	// Downloads the certificate from the order page; returns its text
	// as `openssl x509 -text` prints it (UTF-8 subject).
	async downloadCert(page, orderId) {
		await page.goto(this.url(`/portal/orders/${orderId}`));
		const [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click('a[href$="/download/cert.pem"]')]);
		const f = path.join(this.tmp, `${this.domain}.cert.pem`);
		await dl.saveAs(f);
		const certKey = openssl(["x509", "-in", f, "-noout", "-pubkey"]);
		const ourKey = openssl(["pkey", "-in", this.keyFile, "-pubout"]);
		assert.equal(certKey, ourKey, "the certificate is for the key " +
		    "made in the browser");
		openssl(["verify", "-CAfile", path.join(this.data, "ca",
		    "root.pem"), "-untrusted", path.join(this.data, "ca",
		    "issuing-1.pem"), f]);
		return openssl(["x509", "-in", f, "-noout", "-text",
		    "-nameopt", "utf8,sep_comma_plus_space"]);
	}
}

// evidence is of yesterday: organisation data counts from when it was
// obtained, and older than the BR allow is refused (BR 4.2.1)
const DAY = new Date(Date.now() - 86400000).toISOString().slice(0, 10);

export const OV_STEPS = {
	legal_existence: { source: "Handelsregister Mannheim",
	    registration_number: "HRB 700001", date_checked: DAY,
	    legal_name: "Beispiel Shop Handels GmbH" },
	address: { source: "Register extract", street: "Hauptstr. 1",
	    postal_code: "76131", locality: "Karlsruhe",
	    state: "Baden-Wuerttemberg", country: "DE" },
	domain_registrant: { source: "RDAP rdap.denic.de",
	    registrant: "Beispiel Shop Handels GmbH", matches: "yes",
	    date_checked: DAY },
	telephone: { number: "+49 721 555000",
	    number_source: "Deutsche Telekom directory",
	    person: "Ada Admin, managing director",
	    called_at: DAY + " 10:30", outcome: "confirmed" },
};

export const EV_STEPS = {
	...OV_STEPS,
	ev_jurisdiction: { source: "Handelsregister",
	    jurisdiction_country: "DE" },
	ev_business_category: { source: "Handelsregister",
	    business_category: "Private Organization" },
	ev_registration: { source: "Handelsregister Mannheim",
	    registration_number: "HRB 700001", date_checked: DAY },
};
