// SPDX-License-Identifier: Apache-2.0
//
// ACME credentials in the portal, in headless Debian Chromium
// (playwright-core) against a real `certdesk serve`: the customer opens
// "ACME" from the navigation, creates credentials for the contract, sees
// the key id and the HMAC key once with their Copy buttons and the
// certbot and lego commands, goes back (the key is listed, "Not used
// yet", the HMAC key no longer shown) and revokes it. Screenshots in
// tests/artifacts/acme-*.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, certdeskBin, certdeskEnv, cli, freePort, httpsPortOf,
    launchPersistent } from "./lib.mjs";

const EMAIL = "ops@acme-page.test";
const PASSWORD = "correct horse battery staple";

describe("portal: ACME credentials", () => {
	let tmp, data, profile, serve, httpsPort, ctx, page, kid, hmac;
	const errors = [];
	let shot = 0;

	async function screenshot(name) {
		shot++;
		await page.screenshot({ fullPage: true, path: path.join(artifacts,
		    `acme-${String(shot).padStart(2, "0")}-${name}.png`) });
	}

	before(async () => {
		fs.mkdirSync(artifacts, { recursive: true });
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-acme-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		data = path.join(tmp, "data");
		const port = await freePort();
		cli(["init", "--data", data, "--base-url",
		    `http://127.0.0.1:${port}`]);
		const cust = cli(["admin", "customer", "add", "--data", data,
		    "--name", "Hosting Example AG"]);
		cli(["admin", "contract", "add", "--data", data, "--customer",
		    cust, "--number", "HOST-0042"]);
		cli(["admin", "user", "add", "--data", data, "--customer", cust,
		    "--email", EMAIL, "--name", "Olga Ops", "--role",
		    "customer", "--password-stdin"], PASSWORD + "\n");
		const logFile = path.join(tmp, "serve.log");
		const log = fs.openSync(logFile, "a");
		serve = spawn(certdeskBin(), ["serve", "--data", data,
		    "--plain-listen", `127.0.0.1:${port}`, "--listen",
		    "127.0.0.1:0"], { stdio: ["ignore", log, log],
		    env: certdeskEnv() });
		httpsPort = await httpsPortOf(serve, logFile, 20000);
		ctx = await launchPersistent(profile);
		page = ctx.pages()[0] || await ctx.newPage();
		page.on("console", (m) => {
			if (m.type() === "error")
				errors.push(m.text());
		});
		page.on("pageerror", (e) => errors.push(String(e)));
		page.on("response", (r) => {
			if (r.status() >= 400)
				errors.push(`${r.status()} ${r.url()}`);
		});
		page.setDefaultTimeout(30000);
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (serve && serve.exitCode === null) {
			const done = new Promise((r) => serve.on("exit", r));
			serve.kill("SIGTERM");
			await done;
		}
		if (profile)
			fs.rmSync(profile, { recursive: true, force: true });
		if (tmp)
			fs.rmSync(tmp, { recursive: true, force: true });
	});

	const url = (p) => `https://127.0.0.1:${httpsPort}${p}`;

	test("log in, open ACME from the navigation", async () => {
		await page.goto(url("/portal/login"));
		await page.fill("#email", EMAIL);
		await page.fill("#password", PASSWORD);
		await Promise.all([page.waitForURL(/\/portal\/$/),
		    page.click("button[type=submit]")]);
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
		await Promise.all([page.waitForURL(/\/portal\/acme\/keys$/),
		    page.click("text=Create ACME credentials")]);
		kid = (await page.textContent("#acme-kid")).trim();
		hmac = (await page.textContent("#acme-hmac")).trim();
		assert.match(kid, /^[A-Za-z0-9_-]{22}$/);
		assert.match(hmac, /^[A-Za-z0-9_-]{43}$/);
		assert.match(await page.textContent("main"),
		    /shown only this once/);
		assert.match(await page.textContent("main"),
		    new RegExp(`--eab-kid ${kid} \\\\\\s+--eab-hmac-key ` +
		    hmac));
		await page.waitForSelector(
		    "button[data-copy=acme-hmac]:not([hidden])");
		await screenshot("credentials");
	});

	test("listed, not used yet; revoked", async () => {
		await Promise.all([page.waitForURL(/\/portal\/acme$/),
		    page.click("text=Back to ACME")]);
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
		assert.deepEqual(errors, []);
	});
});
