// SPDX-License-Identifier: Apache-2.0
//
// Domain validation through the hostmaster's email, in headless Debian
// Chromium against a real `certdesk serve` and a real SMTP server
// (python3-aiosmtpd, tests/browser/smtp_sink.py, started here): the
// customer sets up a Starter certificate for a domain that is not hosted
// with us (key made in the browser and downloaded); the overview says
// where the mail went, with "Resend" (disabled, with the time, while
// rate-limited) and the choice of address; the mail arrives at the SMTP
// server; the test takes the link out of it and opens it in another
// browser (the hostmaster's): the page shows what is being confirmed and a
// "Confirm" button, sent with Referrer-Policy: no-referrer and
// Cache-Control: no-store; a GET changes nothing; "Confirm" confirms; the
// link then says it was used (410); unknown and malformed links are 404.
// The customer's overview shows "Issued", the certificate is downloaded
// and checked. An admin sees every mail on "Outgoing mail" and can read it
// without the confirmation token, gone once delivered (and the CAs on
// "Certificate authority");
// the customer gets a 404 there and no link to it.
// Screenshots: tests/artifacts/dv-email-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import { addConf, bodyOf, cli, downloadAndCheck, freePort, launch,
	launchOther, login, makeData, orderOf, serveClean, setUp, shot,
	startServe, top, until } from "./dv_rig.mjs";

const DOMAIN = "mail-shop.test";

describe("domain validation through the hostmaster's email", () => {
	let tmp, profile, d, smtp, smtpPort, inbox, serve, ctx, page, url;
	let slot, keyFile, keyPem, orderId, other;
	const consoleErrors = [];

	// the mails received so far: [{ rcpt, body }]
	const received = () => fs.readdirSync(inbox).filter((f) =>
	    f.endsWith(".eml")).sort().map((f) => ({
		rcpt: fs.readFileSync(path.join(inbox, f.replace(/\.eml$/,
		    ".rcpt")), "utf8").trim(),
		body: bodyOf(fs.readFileSync(path.join(inbox, f))),
	}));

	before(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-dvmail-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		inbox = path.join(tmp, "inbox");
		smtpPort = await freePort();
		smtp = spawn("/usr/bin/python3", [path.join(top, "tests",
		    "browser", "smtp_sink.py"), String(smtpPort), inbox],
		    { stdio: ["ignore", "pipe", "inherit"] });
		await new Promise((resolve, reject) => {
			const rl = readline.createInterface({ input: smtp.stdout });
			rl.on("line", (l) => {
				if (l === "ready")
					resolve();
			});
			smtp.on("exit", (c) => reject(new Error(
			    `smtp_sink.py exited ${c}`)));
		});
		d = await makeData(tmp, "Mail Shop GmbH", "SHOP-0077");
		addConf(d.data, `\n[mail]\nsmtp_url = smtp://127.0.0.1:` +
		    `${smtpPort}\nfrom = certdesk CA <ca@certdesk.test>\n` +
		    "retry_seconds = 1\n");
		cli(["admin", "domain", "add", "--data", d.data, "--contract",
		    d.contract, "--name", DOMAIN]);
		slot = cli(["admin", "slot", "add", "--data", d.data,
		    "--contract", d.contract, "--product", "starter"]);
		cli(["admin", "user", "add", "--data", d.data, "--email",
		    "root@certdesk.test", "--name", "Ada Admin", "--role",
		    "admin", "--password-stdin"], "admin password 1\n");
		serve = await startServe(tmp, d.data, d.plainPort);
		url = serve.url;
		({ ctx, page } = await launch(profile));
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.on("console", (m) => {
			if (m.type() === "error" && !/status of 4\d\d/.test(
			    m.text()))
				consoleErrors.push(m.text());
		});
	});

	after(async () => {
		if (other)
			await other.browser.close();
		if (ctx)
			await ctx.close();
		if (serve)
			await serve.stop();
		if (smtp && smtp.exitCode === null) {
			const done = new Promise((r) => smtp.on("exit", r));
			smtp.kill("SIGTERM");
			await done;
		}
		for (const dir of [profile, tmp])
			if (dir)
				fs.rmSync(dir, { recursive: true, force: true });
	});

	test("set up: the overview says where the mail went", async () => {
		await login(page, url, d.email, d.password);
		assert.equal(await page.locator("a[href='/portal/admin/mail']")
		    .count(), 0, "no admin link for a customer");
		({ keyFile, keyPem } = await setUp(page, url, slot, DOMAIN, tmp,
		    true));
		// waiting for the hostmaster: reloaded by the bundle while the
		// page is idle, not by a meta refresh under the customer's hands
		assert.equal(await page.$("meta[http-equiv=refresh]"), null);
		assert.equal(await page.getAttribute("#overview", "data-reload"),
		    "15");
		orderId = await orderOf(page, DOMAIN);
		const card = page.locator(`#order-${orderId}`);
		await card.waitFor();
		const blocks = card.locator(".dv-name[data-method=email]");
		assert.ok(await blocks.count() >= 1);
		const text = await card.textContent();
		assert.match(text, /We (sent|are sending) an email to/);
		assert.match(text, new RegExp(`hostmaster@`));
		// resend is rate-limited right after the first mail
		const resend = card.locator("button[id^=dv-resend-]").first();
		assert.equal(await resend.isDisabled(), true);
		assert.match(await card.locator("form[action$='/resend']")
		    .first().textContent(), /You can resend it from/);
		// the address can be changed among the five at each
		// Authorization Domain Name, the one the mail went to first
		await card.locator("details.dv-switch summary").first().click();
		const opts = await card.locator("select[name=email_to]")
		    .first().locator("option").allTextContents();
		assert.deepEqual(opts.slice(0, 5).map((o) => o.split("@")[0]),
		    ["admin", "administrator", "webmaster", "hostmaster",
		    "postmaster"]);
		assert.match(await card.locator("select[name=email_to]")
		    .first().inputValue(), /^hostmaster@/);
		await shot(page, "dv-email-01-overview-sent");
		await page.goto(url("/portal/overview"));
	});

	test("the hostmaster confirms from the link in the mail", async () => {
		other = await launchOther();
		const hp = other.page;
		const used = new Set();
		let first = true;
		// one mail per name waiting for it (or one for several): each
		// link confirmed once, until no name of the order waits
		for (;;) {
			await page.goto(url("/portal/overview"));
			const waiting = await page.locator(`#order-${orderId} ` +
			    ".dv-name[data-status=pending][data-method=email]")
			    .count();
			if (waiting === 0)
				break;
			const mails = await until(() => {
				const m = received().filter((x) =>
				    /^hostmaster@/.test(x.rcpt) &&
				    /\/confirm\/[A-Za-z0-9_-]+/.test(x.body) &&
				    !used.has(x.body));
				return m.length > 0 ? m : null;
			}, 60000, "a confirmation mail; received: " +
			    JSON.stringify(received().map((x) => x.rcpt)));
			const m = mails[0];
			used.add(m.body);
			const link = /https:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/
			    .exec(m.body)[0];
			const to = new URL(link);
			const target = url(to.pathname);
			const resp = await hp.goto(target);
			assert.equal(resp.status(), 200);
			const h = resp.headers();
			assert.equal(h["referrer-policy"], "no-referrer");
			assert.equal(h["cache-control"], "no-store");
			const text = await hp.textContent("main");
			assert.match(text, /Confirm a certificate request/);
			assert.match(text, /Mail Shop GmbH/);
			assert.match(text, new RegExp(m.rcpt.replace(".",
			    "\\.")));
			assert.match(text, /This link expires/);
			// a second GET (a mail scanner) changes nothing
			assert.equal((await hp.goto(target)).status(), 200);
			if (first)
				await shot(hp, "dv-email-02-confirm-page");
			await Promise.all([hp.waitForNavigation(),
			    hp.click("#confirm")]);
			assert.match(await hp.textContent("main"),
			    /Thank you: confirmed/);
			if (first)
				await shot(hp, "dv-email-03-confirmed");
			// used: 410, says so
			const again = await hp.goto(target);
			assert.equal(again.status(), 410);
			assert.match(await hp.textContent("main"),
			    /Already confirmed/);
			first = false;
		}
		assert.equal(first, false, "no mail was confirmed");
		for (const bad of ["/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		    "/confirm/short", "/confirm/" + "A".repeat(4000),
		    "/confirm/abc%2Fdefghijklmnopqrstuvwxyz",
		    "/confirm/abcdefghijklmnopqrst/uv"]) {
			const r = await hp.goto(url(bad));
			assert.ok([404, 414, 431].includes(r.status()),
			    `${bad.slice(0, 40)}: ${r.status()}`);
		}
		await shot(hp, "dv-email-04-unknown-link");
	});

	test("the overview shows issued; download", async () => {
		await page.goto(url("/portal/overview"));
		await page.waitForSelector(
		    `tr[data-order="${orderId}"][data-state=issued]`,
		    { timeout: 60000 });
		await shot(page, "dv-email-05-overview-issued");
		await downloadAndCheck(page, url, orderId, DOMAIN, keyFile,
		    [DOMAIN, `www.${DOMAIN}`], d.data, tmp);
	});

	test("Outgoing mail: admins only", async () => {
		// the customer: no such page
		const r = await page.goto(url("/portal/admin/mail"));
		assert.equal(r.status(), 404);
		const hp = other.page;
		await login(hp, url, "root@certdesk.test", "admin password 1");
		await Promise.all([hp.waitForURL(/\/portal\/admin\/mail$/),
		    hp.click("a[href='/portal/admin/mail']")]);
		const rows = hp.locator("tr[data-mail]");
		assert.ok(await rows.count() >= 1);
		const text = await hp.textContent("main");
		assert.match(text, /hostmaster@/);
		assert.match(text, /Sent/);
		await shot(hp, "dv-email-06-outgoing-mail");
		const row = hp.locator("tr[data-mail]", { hasText: "hostmaster@" })
		    .first();
		await Promise.all([hp.waitForURL(/\/portal\/admin\/mail\/\d+$/),
		    row.locator("a").click()]);
		// delivered through the SMTP server: the link is the
		// hostmaster's alone, its token gone from the outbox
		assert.match(await hp.textContent("#m-body"),
		    /\/confirm\/\[removed after delivery\]/);
		assert.doesNotMatch(await hp.textContent("#m-body"),
		    /\/confirm\/[A-Za-z0-9_-]/);
		assert.equal(await hp.locator("#m-body a[href*='/confirm/']")
		    .count(), 0);
		await shot(hp, "dv-email-07-mail-text");
		assert.deepEqual(consoleErrors, []);
	});

	test("Certificate authority: admins only", async () => {
		const r = await page.goto(url("/portal/admin/ca"));
		assert.equal(r.status(), 404);
		const hp = other.page;
		await Promise.all([hp.waitForURL(/\/portal\/admin\/ca$/),
		    hp.click("nav a[href='/portal/admin/ca']")]);
		assert.equal(await hp.locator("tr#ca-root").count(), 1);
		assert.match(await hp.textContent("tr#ca-issuing-1"),
		    /Issuing, active/);
		assert.match(await hp.textContent("#ca-keys"), /key files/);
		await shot(hp, "dv-email-08-certificate-authority");
	});

	test("the server log is clean", async () => {
		await serveClean(serve, [keyPem]);
	});
});
