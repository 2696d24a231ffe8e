// SPDX-License-Identifier: Apache-2.0
//
// Browser test of web/dist/portal.js: drives Debian's headless Chromium
// through playwright-core against a loopback HTTP server started here, which
// serves web/dist and tests/browser/keygen_page.html and records every
// request. For each key type the page makes the key pair and the CSR in the
// browser and posts the CSR; the key is downloaded as PEM and as PKCS#12.
// Everything is then checked in Node with the openssl command line: the CSR
// verifies and carries the names and key type, the downloaded key matches
// the CSR, the PKCS#12 opens with its password (PBES2/AES-256/SHA-256 only)
// and not with another, and no request ever carried the private key.
// Run: node --test tests/browser/ (after scripts/web.sh).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const top = process.env.CERTDESK_SRCDIR || path.resolve(here, "..", "..");
const dist = path.join(top, "web", "dist");
const artifacts = path.join(top, "tests", "artifacts");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const require = createRequire(path.join(top, "web", "package.json"));
const { chromium } = require("playwright-core");

const NAMES = ["example.test", "www.example.test"];
const PASSWORD = "correct horse Äpfel ✓ battery";

const CASES = [
	{ alg: "ECDSA-P256", bits: 256, text: /NIST CURVE: P-256/,
	    sig: /ecdsa-with-SHA256/ },
	{ alg: "RSA-2048", bits: 2048, text: /Exponent: 65537/,
	    sig: /sha256WithRSAEncryption/ },
	{ alg: "RSA-3072", bits: 3072, text: /Exponent: 65537/,
	    sig: /sha256WithRSAEncryption/ },
];

function openssl(args, input) {
	const r = spawnSync("openssl", args, { input, maxBuffer: 1 << 24 });
	return { status: r.status, out: r.stdout.toString("latin1"),
	    err: r.stderr.toString("latin1"), stdout: r.stdout };
}

function opensslOk(args, input) {
	const r = openssl(args, input);
	assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.err}`);
	return r;
}

const types = {
	".js": "text/javascript", ".map": "application/json",
	".html": "text/html; charset=utf-8", ".txt": "text/plain",
};

// Loopback server: / is the test page, /dist/* the bundle, POST /api/csr
// records the CSR. Every request (with its body) is kept in seen.
function startServer(seen) {
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			const body = Buffer.concat(chunks);
			seen.push({ url: req.url, method: req.method,
			    headers: JSON.stringify(req.headers), body });
			const u = new URL(req.url, "http://x");
			let file = null;
			if (u.pathname === "/")
				file = path.join(here, "keygen_page.html");
			else if (u.pathname.startsWith("/dist/") &&
			    /^[a-z0-9.]+$/i.test(u.pathname.slice(6)))
				file = path.join(dist, u.pathname.slice(6));
			if (req.method === "POST" && u.pathname === "/api/csr") {
				res.writeHead(201, { "content-type": "text/plain" });
				res.end("ok");
			} else if (req.method === "GET" && file &&
			    fs.existsSync(file)) {
				res.writeHead(200, { "content-type":
				    types[path.extname(file)] || "application/octet-stream",
				    "cache-control": "no-store" });
				fs.createReadStream(file).pipe(res);
			} else {
				res.writeHead(404);
				res.end();
			}
		});
	});
	return new Promise((resolve) => {
		server.listen(0, "127.0.0.1", () => resolve(server));
	});
}

describe("browser key, CSR and PKCS#12", () => {
	let server, ctx, page, base, tmp, profile;
	const seen = [];      // requests as the server received them
	const observed = [];  // requests as the browser reported them
	const consoleErrors = [];

	before(async () => {
		assert.ok(fs.existsSync(path.join(dist, "portal.js")),
		    "web/dist/portal.js missing: run scripts/web.sh first");
		assert.ok(fs.existsSync(chromiumPath),
		    `${chromiumPath} missing: apt-get install chromium`);
		fs.mkdirSync(artifacts, { recursive: true });
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-web-"));
		profile = fs.mkdtempSync(path.join(os.tmpdir(), "certdesk-chr-"));
		server = await startServer(seen);
		base = `http://127.0.0.1:${server.address().port}`;
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: chromiumPath,
			headless: true,
			acceptDownloads: true,
			viewport: { width: 900, height: 1100 },
			args: ["--headless", "--no-sandbox", "--disable-gpu",
			    "--disable-quic", "--no-first-run",
			    "--disable-background-networking",
			    "--disable-component-update", "--disable-sync"],
		});
		ctx.on("request", (r) => observed.push({ url: r.url(),
		    body: r.postDataBuffer() || Buffer.alloc(0) }));
		page = ctx.pages()[0] || await ctx.newPage();
		page.on("console", (m) => {
			if (m.type() === "error")
				consoleErrors.push(m.text());
		});
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.setDefaultTimeout(20000);
	});

	after(async () => {
		if (ctx)
			await ctx.close();
		if (server)
			server.close();
		for (const d of [tmp, profile])
			if (d)
				fs.rmSync(d, { recursive: true, force: true });
	});

	async function download(buttonId, file) {
		const [dl] = await Promise.all([
			page.waitForEvent("download"),
			page.click(buttonId),
		]);
		const to = path.join(tmp, file);
		await dl.saveAs(to);
		return { to, name: dl.suggestedFilename() };
	}

	async function waitStatus(re) {
		await page.waitForFunction((src) =>
		    new RegExp(src).test(document.getElementById("status")
		    .textContent), re.source);
		return page.textContent("#status");
	}

	// the private key's bytes in the forms a leak could take
	function keyForms(keyPem) {
		const der = opensslOk(["pkey", "-in", keyPem, "-outform",
		    "DER"]).stdout;
		const pem = fs.readFileSync(keyPem, "latin1");
		const lines = pem.split("\n").filter((l) => l.length >= 40 &&
		    !l.startsWith("-----"));
		const priv = opensslOk(["pkey", "-in", keyPem, "-noout",
		    "-text"]).out;
		// EC "priv:" / RSA "privateExponent:" hex block
		const m = priv.match(/(?:priv|privateExponent):\s*\n((?:\s+[0-9a-f:]+\n)+)/);
		assert.ok(m, "private scalar not found in openssl pkey -text");
		const scalar = Buffer.from(m[1].replace(/[\s:]/g, ""), "hex");
		const strip = scalar[0] === 0 ? scalar.subarray(1) : scalar;
		const core = strip.subarray(0, 24);
		return [der, core, Buffer.from(core.toString("hex")),
		    Buffer.from(core.toString("hex").toUpperCase()),
		    Buffer.from(der.toString("base64").slice(40, 100)),
		    Buffer.from(der.toString("base64url").slice(40, 100)),
		    ...lines.map((l) => Buffer.from(l))];
	}

	for (const c of CASES) {
		test(`${c.alg}: key and CSR made in the browser`, async () => {
			const t0 = Date.now();
			seen.length = 0;
			observed.length = 0;
			await page.goto(`${base}/`);
			await page.selectOption("#alg", c.alg);
			await page.fill("#names", NAMES.join(", "));
			await page.click("#make");
			assert.match(await waitStatus(/CSR sent|[Ee]rror|not/),
			    /CSR sent/);

			// the CSR as the server received it
			const posts = seen.filter((s) => s.method === "POST");
			assert.equal(posts.length, 1);
			const csrPem = posts[0].body.toString("latin1");
			assert.equal(csrPem, await page.inputValue("#csr"));
			const csrFile = path.join(tmp, `${c.alg}.csr`);
			fs.writeFileSync(csrFile, csrPem);
			const req = opensslOk(["req", "-in", csrFile, "-verify",
			    "-noout", "-text"]);
			assert.match(req.out + req.err, /verify OK/);
			assert.match(req.out, /Subject: CN\s?=\s?example\.test\n/);
			assert.match(req.out, /DNS:example\.test, DNS:www\.example\.test/);
			assert.match(req.out, new RegExp(`Public-Key: \\(${c.bits} bit\\)`));
			assert.match(req.out, c.text);
			assert.match(req.out, c.sig);

			// "Download Private Key": PKCS#8 PEM that matches the CSR
			const pem = await download("#dlpem", `${c.alg}.key`);
			assert.equal(pem.name, "example.test.key");
			const keyText = fs.readFileSync(pem.to, "latin1");
			assert.match(keyText, /^-----BEGIN PRIVATE[ ]KEY-----\n/);
			const keyPub = opensslOk(["pkey", "-in", pem.to,
			    "-pubout"]).out;
			const csrPub = opensslOk(["req", "-in", csrFile, "-pubkey",
			    "-noout"]).out;
			assert.equal(keyPub, csrPub);
			assert.match(keyPub, /BEGIN PUBLIC KEY/);

			// PKCS#12 with the key only; a short password is refused
			await page.fill("#pw", "short");
			await page.click("#dlp12");
			assert.match(await waitStatus(/characters|saved/),
			    /at least 8 characters/);
			await page.fill("#pw", PASSWORD);
			const p12 = await download("#dlp12", `${c.alg}.p12`);
			assert.equal(p12.name, "example.test.p12");
			const info = opensslOk(["pkcs12", "-in", p12.to, "-info",
			    "-nodes", "-passin", `pass:${PASSWORD}`]);
			const all = info.out + info.err;
			assert.match(all, /MAC: sha256, Iteration 600000/);
			assert.match(all, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256/);
			// the algorithm lines only (key bytes could spell anything)
			const algs = all.split("\n").filter((l) =>
			    /^(MAC|Shrouded Keybag|PKCS7 Encrypted data):/.test(l));
			assert.equal(algs.length, 2, all);
			for (const l of algs)
				assert.doesNotMatch(l, /RC2|3DES|DES-EDE|RC4|SHA1|MD5/i);
			assert.doesNotMatch(all, /BEGIN CERTIFICATE/);
			assert.match(all, /friendlyName: example\.test/);
			const p12Pub = opensslOk(["pkey", "-pubout"],
			    info.stdout).out;
			assert.equal(p12Pub, csrPub);

			const bad = openssl(["pkcs12", "-in", p12.to, "-info",
			    "-nodes", "-passin", "pass:wrong password"]);
			assert.notEqual(bad.status, 0);
			assert.match(bad.err, /[Mm]ac verify error|invalid password/);
			assert.doesNotMatch(bad.out, /PRIVATE KEY/);

			// the private key was never sent anywhere
			const forms = keyForms(pem.to);
			const reqs = [...seen.map((s) => [s.url, s.headers, s.body]),
			    ...observed.map((o) => [o.url, "", o.body])];
			assert.ok(reqs.length >= 3);
			for (const [url, headers, body] of reqs) {
				const blob = Buffer.concat([Buffer.from(url),
				    Buffer.from(headers), body]);
				for (const f of forms)
					assert.equal(blob.indexOf(f), -1,
					    `private key material in request ${url}`);
			}
			assert.ok(observed.every((o) =>
			    o.url.startsWith(base) || o.url.startsWith("blob:") ||
			    o.url.startsWith("data:")),
			    `request left the test server: ${observed.map((o) => o.url)}`);

			await page.screenshot({ fullPage: true,
			    path: path.join(artifacts, `browser_keygen_${c.alg}.png`) });
			assert.deepEqual(consoleErrors, []);
			process.stderr.write(`# ${c.alg}: ${Date.now() - t0} ms\n`);

			// PKCS#12 with the issued certificate and chain (issued here
			// by a throw-away CA from the CSR the browser made)
			if (c.alg !== "ECDSA-P256")
				return;
			const caKey = path.join(tmp, "ca.key");
			const caCrt = path.join(tmp, "ca.crt");
			const leaf = path.join(tmp, "leaf.crt");
			opensslOk(["req", "-x509", "-newkey", "ec", "-pkeyopt",
			    "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey,
			    "-out", caCrt, "-subj", "/CN=certdesk test CA",
			    "-days", "2"]);
			opensslOk(["x509", "-req", "-in", csrFile, "-CA", caCrt,
			    "-CAkey", caKey, "-CAcreateserial", "-days", "1",
			    "-copy_extensions", "copy", "-out", leaf]);
			const chain = fs.readFileSync(leaf, "latin1") +
			    fs.readFileSync(caCrt, "latin1");

			// a certificate that is not the key's is refused
			await page.fill("#cert", fs.readFileSync(caCrt, "latin1"));
			await page.click("#dlp12");
			assert.match(await waitStatus(/belong|saved/),
			    /does not belong to this private key/);

			await page.fill("#cert", chain);
			const full = await download("#dlp12", "full.p12");
			const fi = opensslOk(["pkcs12", "-in", full.to, "-info",
			    "-nodes", "-passin", `pass:${PASSWORD}`]);
			const fall = fi.out + fi.err;
			const falgs = fall.split("\n").filter((l) =>
			    /^(MAC|Shrouded Keybag|PKCS7 Encrypted data):/.test(l));
			assert.equal(falgs.length, 3, fall);
			for (const l of falgs)
				assert.match(l, /^MAC: sha256, Iteration 600000|AES-256-CBC, Iteration 600000, PRF hmacWithSHA256/);
			assert.match(fall, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256/);
			assert.equal((fall.match(/BEGIN CERTIFICATE/g) || []).length, 2);
			const leafOnly = opensslOk(["pkcs12", "-in", full.to,
			    "-nokeys", "-clcerts", "-passin", `pass:${PASSWORD}`]).out;
			assert.match(leafOnly, /subject=CN ?= ?example\.test/);
			const leafPub = opensslOk(["x509", "-pubkey", "-noout"],
			    leafOnly).out;
			const fullKeyPub = opensslOk(["pkey", "-pubout"],
			    opensslOk(["pkcs12", "-in", full.to, "-nocerts",
			    "-nodes", "-passin", `pass:${PASSWORD}`]).stdout).out;
			assert.equal(leafPub, keyPub);
			assert.equal(fullKeyPub, keyPub);
			const caOnly = opensslOk(["pkcs12", "-in", full.to,
			    "-nokeys", "-cacerts", "-passin", `pass:${PASSWORD}`]).out;
			assert.match(caOnly, /subject=CN ?= ?certdesk test CA/);
			await page.screenshot({ fullPage: true,
			    path: path.join(artifacts, "browser_keygen_pkcs12_chain.png") });
		});
	}

	test("bad names are refused in the browser", async () => {
		seen.length = 0;
		await page.goto(`${base}/`);
		for (const bad of ["exa mple.test", "-a.test", "localhost",
		    "a..test", "x".repeat(64) + ".test", "1.2.3.4",
		    "bü.example/x.test", "ü@evil.test", "ü.test:443",
		    "a_b.test"]) {
			await page.fill("#names", bad);
			await page.click("#make");
			assert.match(await waitStatus(/valid|sent/),
			    /is not a valid domain name/, bad);
		}
		const r = await page.evaluate(async () => {
			const cd = window.certdesk;
			const out = {};
			out.idn = cd.normalizeName("Bücher.Example");
			out.wild = cd.normalizeName("*.Example.test.");
			try {
				await cd.generateKey({ alg: "DSA" });
			} catch (e) {
				out.alg = e.message;
			}
			return out;
		});
		assert.equal(r.idn, "xn--bcher-kva.example");
		assert.equal(r.wild, "*.example.test");
		assert.match(r.alg, /Unknown key type/);
		assert.equal(seen.filter((s) => s.method === "POST").length, 0);
	});

	test("a pasted CSR is described in the browser", async () => {
		const mk = (name, keyArgs, subj, san) => {
			const f = path.join(tmp, `${name}.csr`);
			opensslOk(["req", "-new", "-nodes", ...keyArgs, "-keyout",
			    path.join(tmp, `${name}.key`), "-out", f, "-subj", subj,
			    "-addext", `subjectAltName=${san}`]);
			return fs.readFileSync(f, "latin1");
		};
		const rsa = mk("own-rsa", ["-newkey", "rsa:2048"],
		    "/CN=shop.example.test",
		    "DNS:shop.example.test,DNS:example.test");
		const ec = mk("own-ec", ["-newkey", "ec", "-pkeyopt",
		    "ec_paramgen_curve:P-384"], "/CN=a.example.test",
		    "DNS:a.example.test");
		// flip one bit of the signature
		const der = Buffer.from(ec.replace(/-----[^-]+-----|\s/g, ""),
		    "base64");
		der[der.length - 3] ^= 1;
		const bad = "-----BEGIN CERTIFICATE REQUEST-----\n" +
		    der.toString("base64").replace(/.{64}/g, "$&\n") +
		    "\n-----END CERTIFICATE REQUEST-----\n";
		const r = await page.evaluate(async (inp) => {
			const cd = window.certdesk;
			const out = [];
			for (const pem of inp) {
				try {
					out.push(await cd.describeCsr(pem));
				} catch (e) {
					out.push(e.message);
				}
			}
			return out;
		}, [rsa, ec, bad, "hello", ec + ec]);
		assert.deepEqual(r[0], { valid: true, cn: "shop.example.test",
		    names: ["shop.example.test", "example.test"], keyType: "RSA",
		    curve: null, bits: 2048 });
		assert.deepEqual(r[1], { valid: true, cn: "a.example.test",
		    names: ["a.example.test"], keyType: "EC", curve: "P-384",
		    bits: 384 });
		assert.equal(r[2].valid, false);
		assert.match(r[3], /exactly one PEM certificate signing request/);
		assert.match(r[4], /exactly one PEM certificate signing request/);
	});

	// A key file saved from the setup form comes back into the browser to
	// sign a CSR for other names (never sent anywhere): PEM or PKCS#12,
	// the page's own files and OpenSSL's; its fingerprint is openssl's.
	test("a saved key file comes back: PEM, PKCS#12, its fingerprint",
	    async () => {
		seen.length = 0;
		observed.length = 0;
		const fpOf = (file) => opensslOk(["dgst", "-sha256"],
		    opensslOk(["pkey", "-in", file, "-pubout", "-outform",
		    "DER"]).stdout).out.trim().replace(/^.*= /, "");
		const ec = path.join(tmp, "import-ec.key");
		opensslOk(["genpkey", "-algorithm", "EC", "-pkeyopt",
		    "ec_paramgen_curve:P-256", "-out", ec]);
		const rsa = path.join(tmp, "import-rsa.key");
		opensslOk(["genpkey", "-algorithm", "RSA", "-pkeyopt",
		    "rsa_keygen_bits:2048", "-out", rsa]);
		const p384 = path.join(tmp, "import-p384.key");
		opensslOk(["genpkey", "-algorithm", "EC", "-pkeyopt",
		    "ec_paramgen_curve:P-384", "-out", p384]);
		const p12 = path.join(tmp, "import-ec.p12");
		opensslOk(["pkcs12", "-export", "-nocerts", "-inkey", ec,
		    "-out", p12, "-passout", `pass:${PASSWORD}`]);
		const bytes = (f) => [...fs.readFileSync(f)];
		await page.goto(`${base}/`);
		const r = await page.evaluate(async (inp) => {
			const cd = window.certdesk;
			const out = {};
			const one = async (data, password) => {
				try {
					const k = await cd.importPrivateKey({
					    data: new Uint8Array(data),
					    password });
					const csr = await cd.buildCsr({ key: k,
					    names: ["example.test"] });
					return { alg: k.alg, fp: await
					    cd.spkiFingerprint(k), csr };
				} catch (e) {
					return e.message;
				}
			};
			out.ec = await one(inp.ec);
			out.rsa = await one(inp.rsa);
			out.p12 = await one(inp.p12, inp.pw);
			out.p12bad = await one(inp.p12, "wrong password");
			out.p12none = await one(inp.p12, "");
			out.p384 = await one(inp.p384);
			out.junk = await one([104, 101, 108, 108, 111], "x");
			out.pub = await one(inp.pub);
			// the page's own PKCS#12, back again
			const k = await cd.generateKey();
			const own = await cd.exportPkcs12({ key: k,
			    password: inp.pw });
			out.own = await one([...own], inp.pw);
			out.ownFp = await cd.spkiFingerprint(k);
			return out;
		}, { ec: bytes(ec), rsa: bytes(rsa), p12: bytes(p12),
		    p384: bytes(p384), pw: PASSWORD,
		    pub: [...Buffer.from(opensslOk(["pkey", "-in", ec,
		    "-pubout"]).out)] });
		assert.equal(r.ec.alg, "ECDSA-P256");
		assert.equal(r.ec.fp, fpOf(ec));
		assert.equal(r.rsa.alg, "RSA-2048");
		assert.equal(r.rsa.fp, fpOf(rsa));
		assert.equal(r.p12.alg, "ECDSA-P256");
		assert.equal(r.p12.fp, fpOf(ec));
		assert.equal(r.own.fp, r.ownFp);
		// the CSR it signs is for that key
		const csrFile = path.join(tmp, "import.csr");
		fs.writeFileSync(csrFile, r.p12.csr);
		assert.match(opensslOk(["req", "-in", csrFile, "-verify",
		    "-noout"]).err, /verify OK/);
		assert.equal(opensslOk(["req", "-in", csrFile, "-pubkey",
		    "-noout"]).out, opensslOk(["pkey", "-in", ec,
		    "-pubout"]).out);
		assert.match(r.p12bad, /password does not open/);
		assert.match(r.p12none, /Enter the password/);
		assert.match(r.p384, /not one this page makes/);
		assert.match(r.junk, /neither a PEM key file nor a PKCS#12/);
		assert.match(r.pub, /no unencrypted private key/);
		// nothing went anywhere
		assert.equal(seen.filter((x) => x.method === "POST").length, 0);
		assert.deepEqual(consoleErrors, []);
	});

	test("CSR edge cases: wildcard, chosen CN, long name, limits",
	    async () => {
		const long = `${"a".repeat(60)}.example.test`;
		const r = await page.evaluate(async (longName) => {
			const cd = window.certdesk;
			const key = await cd.generateKey();
			const out = { alg: key.alg };
			out.wild = await cd.buildCsr({ key,
			    names: ["*.Example.test", "example.test", "EXAMPLE.test"] });
			out.cn = await cd.buildCsr({ key, cn: "www.example.test",
			    names: ["example.test", "www.example.test"] });
			out.long = await cd.buildCsr({ key,
			    names: [longName, "example.test"] });
			const errs = [];
			for (const args of [
				{ key, names: [] },
				{ key, names: ["a.test"], cn: "b.test" },
				{ key, names: Array.from({ length: 101 },
				    (_, i) => `n${i}.test`) },
				{ key: { privateKey: key.privateKey }, names: ["a.test"] },
			]) {
				try {
					await cd.buildCsr(args);
					errs.push("accepted");
				} catch (e) {
					errs.push(e.message);
				}
			}
			out.errs = errs;
			const t0 = performance.now();
			await cd.exportPkcs12({ key, password: "12345678" });
			out.p12ms = Math.round(performance.now() - t0);
			return out;
		}, long);
		assert.equal(r.alg, "ECDSA-P256");
		const text = (pem) => {
			const f = path.join(tmp, "edge.csr");
			fs.writeFileSync(f, pem);
			const o = opensslOk(["req", "-in", f, "-verify", "-noout",
			    "-text"]);
			assert.match(o.out + o.err, /verify OK/);
			return o.out;
		};
		const wild = text(r.wild);
		assert.match(wild, /Subject: CN\s?=\s?\*\.example\.test\n/);
		assert.match(wild, /DNS:\*\.example\.test, DNS:example\.test\n/);
		const cn = text(r.cn);
		assert.match(cn, /Subject: CN\s?=\s?www\.example\.test\n/);
		assert.match(cn, /DNS:example\.test, DNS:www\.example\.test\n/);
		const lg = text(r.long);
		assert.match(lg, /Subject: ?\n/);
		// an empty Name: an empty SEQUENCE after the version, not one
		// empty RDN (SEQUENCE { SET {} }), which the CA refuses
		const lgDer = Buffer.from(r.long.replace(/-----[^-]+-----|\s/g,
		    ""), "base64");
		const hex = (h) => Buffer.from(h, "hex");
		assert.ok(lgDer.includes(hex("0201003000")));
		assert.ok(!lgDer.includes(hex("02010030023100")));
		assert.match(lg, new RegExp(`DNS:${long.replace(/\./g, "\\.")}, DNS:example\\.test\\n`));
		assert.match(r.errs[0], /At least one domain name/);
		assert.match(r.errs[1], /common name must be one of the names/);
		assert.match(r.errs[2], /At most 100/);
		assert.match(r.errs[3], /needs a key made by generateKey/);
		process.stderr.write(`# PKCS#12 (key only) in ${r.p12ms} ms\n`);
		assert.ok(r.p12ms < 15000, `PKCS#12 took ${r.p12ms} ms`);
	});
});

// No storage that outlives the tab either. The setup form keeps a draft of
// its text and CSR in the tab's sessionStorage (never a key: the key is in
// no form field; test_setup_form.mjs looks into the storage).
test("the bundle has no way to send data and no eval", () => {
	const js = fs.readFileSync(path.join(dist, "portal.js"), "utf8");
	assert.ok(js.length > 10000);
	assert.match(js, /sourceMappingURL=portal\.js\.map/);
	assert.ok(fs.existsSync(path.join(dist, "portal.js.map")));
	for (const re of [/\bfetch\s*\(/, /XMLHttpRequest/, /sendBeacon/,
	    /WebSocket/, /EventSource/, /importScripts/, /\beval\s*\(/,
	    /new Function\s*\(/, /localStorage|indexedDB|caches\.open/,
	    /document\.cookie/])
		assert.doesNotMatch(js, re);
});
