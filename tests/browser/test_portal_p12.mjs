// SPDX-License-Identifier: Apache-2.0
//
// "Make a PKCS#12 file (Windows, IIS, Java)" on an issued certificate's
// page, in headless Debian Chromium (playwright-core) against a real
// `certdesk serve`: a Starter certificate is set up through the portal
// (the key saved from the setup form both as PEM and as PKCS#12) and
// issued with `certdesk admin validate`; on its page the browser builds a
// PKCS#12 file from each saved key file, which openssl (`pkcs12 -info`,
// `pkcs12 -nodes`) and keytool (when installed) read: key, certificate and
// chain, PBES2/AES-256-CBC with PBKDF2-SHA256, MAC SHA-256, the domain as
// friendly name, the key that of the certificate. Another key, a wrong
// password, a file that holds no key and a short password each get their
// message; no request leaves the page while it works, and none carries
// the key. Without script the page names the openssl command. Screenshots
// go to tests/artifacts/p12-*.png.
//
// Needs the certdesk binary: $CERTDESK_BIN, or the newest
// build*/src/daemon/certdesk of the source tree.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { artifacts, cli, launchPersistent, openssl } from "./lib.mjs";
import { makeData, startServe } from "./dv_rig.mjs";

const DOMAIN = "p12-shop.test";
const KEY_P12_PASS = "setup-p12-pass";
const NEW_PASS = "windows-import-pass";
const PEM_CERT = new RegExp("-----BEGIN CERTIFICATE-----[\\s\\S]+?" +
    "-----END CERTIFICATE-----\n", "g");
// (the markers are split so that no one mistakes this file for a key)
const PEM_KEY = new RegExp("-----BEGIN " + "PRIVATE KEY-----[\\s\\S]+?" +
    "-----END " + "PRIVATE KEY-----\n");

// openssl pkcs12 prints -info on stderr: both streams, asserting success
function pkcs12(args) {
	const r = spawnSync("openssl", ["pkcs12", ...args],
	    { maxBuffer: 1 << 24 });
	assert.equal(r.status, 0, `openssl pkcs12 ${args.join(" ")}: ` +
	    r.stderr.toString());
	return { out: r.stdout.toString("latin1"),
		err: r.stderr.toString("latin1") };
}

function hasKeytool() {
	return spawnSync("keytool", ["-help"]).status !== null &&
	    spawnSync("sh", ["-c", "command -v keytool"]).status === 0;
}

describe("portal: a PKCS#12 file of the issued certificate, made in the " +
    "browser", () => {
	let tmp, data, profile, serve, ctx, page, EMAIL, PASSWORD;
	let slot, keyFile, keyP12, keyPem, orderId, certPem, fullchain;
	const consoleErrors = [];
	const requests = [];

	const url = (p) => serve.url(p);
	const screenshot = (name) => page.screenshot({ fullPage: true,
	    path: path.join(artifacts, `p12-${name}.png`) });

	before(async () => {
		fs.mkdirSync(artifacts, { recursive: true });
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-p12-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(),
		    "certdesk-chr-"));
		const d = await makeData(tmp, "P12 Shop GmbH", "P12-0001");
		({ data, email: EMAIL, password: PASSWORD } = d);
		cli(["admin", "domain", "add", "--data", data, "--contract",
		    d.contract, "--name", DOMAIN, "--hosted"]);
		slot = cli(["admin", "slot", "add", "--data", data,
		    "--contract", d.contract, "--product", "starter"]);
		serve = await startServe(tmp, data, d.plainPort);
		ctx = await launchPersistent(profile);
		page = ctx.pages()[0] || await ctx.newPage();
		page.on("console", (m) => {
			if (m.type() === "error")
				consoleErrors.push(m.text());
		});
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.on("request", (r) => requests.push({ url: r.url(),
			method: r.method(), body: r.postData() || "" }));
		page.setDefaultTimeout(30000);
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (serve)
			await serve.stop();
		if (profile)
			fs.rmSync(profile, { recursive: true, force: true });
		if (tmp)
			fs.rmSync(tmp, { recursive: true, force: true });
	});

	test("set up with the key saved as PEM and as PKCS#12, issued",
	    async () => {
		await page.goto(url("/portal/login"));
		await page.fill("#email", EMAIL);
		await page.fill("#password", PASSWORD);
		await Promise.all([page.waitForURL(/\/portal\/$/),
		    page.click("button[type=submit]")]);
		await page.goto(url(`/portal/slots/${slot}/setup`));
		await page.waitForSelector("#download-key:not([disabled])");
		await page.fill("#f-domain", DOMAIN);
		await page.check("input[name=purpose][value=hosting]");
		await page.check("input[name=terms]");
		// the same key twice: PEM, then the setup's PKCS#12
		let [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#download-key")]);
		keyFile = path.join(tmp, `${DOMAIN}.key`);
		await dl.saveAs(keyFile);
		keyPem = fs.readFileSync(keyFile, "utf8");
		await page.selectOption("#key-format", "p12");
		await page.fill("#key-password", KEY_P12_PASS);
		[dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#download-key")]);
		assert.equal(dl.suggestedFilename(), `${DOMAIN}.p12`);
		keyP12 = path.join(tmp, `setup-${DOMAIN}.p12`);
		await dl.saveAs(keyP12);
		await Promise.all([page.waitForURL(
		    /\/portal\/orders\/\d+\/placed$/),
		    page.click("#setup-submit")]);
		orderId = /orders\/(\d+)\//.exec(page.url())[1];
		assert.equal(cli(["admin", "validate", "--data", data,
		    "--order", orderId]), "issued");
	});

	test("the order page offers it; without script, openssl", async () => {
		await page.goto(url(`/portal/orders/${orderId}`));
		await page.waitForSelector("#p12-form:not([hidden])");
		assert.match(await page.textContent("#h-p12"),
		    /Make a PKCS#12 file \(Windows, IIS, Java\)/);
		assert.equal(await page.getAttribute("#p12", "data-fp"),
		    (await page.textContent("#key-fp")).trim());
		const inst = await page.textContent("main");
		assert.match(inst, /IIS and Windows/);
		assert.ok(inst.includes("Import-PfxCertificate -FilePath " +
		    `${DOMAIN}.p12`));
		assert.ok(inst.includes("keytool -list -storetype PKCS12 " +
		    `-keystore ${DOMAIN}.p12`));
		// the page as served, before the script: form hidden, the
		// command there
		const html = await (await page.request.get(
		    url(`/portal/orders/${orderId}`))).text();
		assert.match(html, /<div id="p12-form" hidden>/);
		assert.ok(html.includes("openssl pkcs12 -export -inkey " +
		    `${DOMAIN}.key -in ${DOMAIN}.fullchain.pem -name ` +
		    `${DOMAIN} -out ${DOMAIN}.p12`));
		for (const f of ["cert.pem", "fullchain.pem"]) {
			const r = await page.request.get(url(
			    `/portal/orders/${orderId}/download/${f}`));
			assert.equal(r.status(), 200);
			if (f === "cert.pem")
				certPem = await r.text();
			else
				fullchain = await r.text();
		}
		assert.equal(fullchain.match(/BEGIN CERTIFICATE/g).length, 2);
		await page.locator("#p12").scrollIntoViewIfNeeded();
		await screenshot("section");
	});

	// builds the file from keyPath (password for a PKCS#12 key file)
	async function make(keyPath, password, newPassword = NEW_PASS) {
		await page.setInputFiles("#p12-key", keyPath);
		if (password !== undefined) {
			await page.waitForSelector(
			    "#p12-key-pass-box:not([hidden])");
			await page.fill("#p12-key-pass", password);
		} else {
			// a PEM file: no password asked (once it is read)
			await page.waitForSelector("#p12-key-pass-box",
			    { state: "hidden" });
		}
		await page.fill("#p12-pass", newPassword);
	}

	// openssl and keytool read the file: key of the certificate, chain
	function check(file) {
		const info = pkcs12(["-info", "-nokeys", "-in", file,
		    "-passin", `pass:${NEW_PASS}`]);
		const all = info.out + info.err;
		assert.match(all, /MAC: sha256, Iteration 600000/);
		assert.ok(all.includes("PBES2, PBKDF2, AES-256-CBC, " +
		    "Iteration 600000, PRF hmacWithSHA256"), all);
		assert.equal(info.out.match(/BEGIN CERTIFICATE/g).length, 2);
		assert.ok(info.out.includes(`friendlyName: ${DOMAIN}\n`));
		const certs = info.out.match(PEM_CERT);
		assert.equal(certs.join(""), fullchain);
		const full = pkcs12(["-in", file, "-nodes", "-passin",
		    `pass:${NEW_PASS}`]).out;
		const key = PEM_KEY.exec(full)[0];
		assert.equal(openssl(["pkey", "-pubout"], key),
		    openssl(["x509", "-noout", "-pubkey"], certPem));
		assert.equal(openssl(["pkey", "-pubout"], key),
		    openssl(["pkey", "-in", keyFile, "-pubout"]));
		if (hasKeytool()) {
			const r = spawnSync("keytool", ["-list", "-v",
			    "-storetype", "PKCS12", "-keystore", file,
			    "-storepass", NEW_PASS]);
			const out = r.stdout.toString();
			assert.equal(r.status, 0, out + r.stderr.toString());
			assert.match(out, /PrivateKeyEntry/);
			assert.match(out, /Certificate chain length: 2/);
			assert.ok(out.includes(`Alias name: ${DOMAIN}\n`));
		} else {
			process.stderr.write("# keytool not installed: " +
			    "skipped\n");
		}
	}

	test("from the PEM key file: openssl and keytool read it", async () => {
		const before = requests.length;
		await make(keyFile);
		const [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#p12-make")]);
		assert.equal(dl.suggestedFilename(), `${DOMAIN}.p12`);
		const out = path.join(tmp, "from-pem.p12");
		await dl.saveAs(out);
		assert.match(await page.textContent("#p12-status"),
		    /Downloaded p12-shop\.test\.p12/);
		await screenshot("made");
		check(out);
		// nothing left the page but the download (a blob: URL)
		assert.deepEqual(requests.slice(before).filter((r) =>
		    !r.url.startsWith("blob:")), []);
	});

	test("from the setup's PKCS#12 key file and its password",
	    async () => {
		const before = requests.length;
		await make(keyP12, KEY_P12_PASS);
		const [dl] = await Promise.all([page.waitForEvent("download"),
		    page.click("#p12-make")]);
		const out = path.join(tmp, "from-p12.p12");
		await dl.saveAs(out);
		check(out);
		assert.deepEqual(requests.slice(before).filter((r) =>
		    !r.url.startsWith("blob:")), []);
	});

	test("wrong password, another key, no key, short password",
	    async () => {
		const say = async (re) => {
			await page.click("#p12-make");
			await page.waitForFunction((s) => new RegExp(s).test(
			    document.getElementById("p12-status").textContent),
			    re.source);
		};
		await make(keyP12, "not the password");
		await say(/The password does not open this PKCS#12 file/);
		const other = path.join(tmp, "other.key");
		openssl(["genpkey", "-algorithm", "EC", "-pkeyopt",
		    "ec_paramgen_curve:P-256", "-out", other]);
		await make(other);
		await say(/This key does not belong to this certificate/);
		await screenshot("other-key");
		const cert = path.join(tmp, "cert.pem");
		fs.writeFileSync(cert, certPem);
		await make(cert);
		await say(/This PEM file holds no unencrypted private key/);
		const junk = path.join(tmp, "notes.txt");
		fs.writeFileSync(junk, "not a key at all\n");
		await make(junk, "whatever1");
		await say(/neither a PEM key file nor a PKCS#12 file/);
		await make(keyFile, undefined, "short");
		await say(/at least 8 characters for the new file/);
	});

	test("no request carried the key or a password", async () => {
		const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g,
		    ""), "base64").toString("base64");
		const p12b64 = fs.readFileSync(keyP12).toString("base64");
		for (const r of requests) {
			const s = r.url + "\n" + r.body;
			assert.ok(!s.includes(der.slice(8, 48)), r.url);
			assert.ok(!s.includes(p12b64.slice(8, 48)), r.url);
			assert.ok(!/PRIVATE KEY/.test(decodeURIComponent(s)),
			    r.url);
			for (const p of [KEY_P12_PASS, NEW_PASS])
				assert.ok(!s.includes(p), r.url);
		}
		// the only POSTs: the login and the setup form
		assert.equal(requests.filter((r) => r.method === "POST")
		    .length, 2);
		assert.deepEqual(consoleErrors, []);
	});
});
