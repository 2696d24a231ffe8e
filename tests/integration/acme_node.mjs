// SPDX-License-Identifier: Apache-2.0
/*
 * node-acme-client (npm "acme-client", pinned in web/package.json), the
 * ACME library of many Node.js applications, driven as its README shows,
 * for test_acme_clients.py:
 *
 *   node acme_node.mjs issue DIRECTORY_URL NAME WEBROOT OUT
 *       a P-256 account (written to OUT/account.pem) and certificate key
 *       (OUT/key.pem), client.auto() over http-01 with the token file
 *       written into WEBROOT/.well-known/acme-challenge/ (its own check of
 *       the file is skipped: NAME need not resolve here); the chain goes to
 *       OUT/cert.pem
 *   node acme_node.mjs revoke DIRECTORY_URL OUT REASON
 *       revokes OUT/cert.pem with the account of OUT/account.pem
 *
 * The server's root comes from NODE_EXTRA_CA_CERTS. Exit status 0 on
 * success; the library's error otherwise.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web",
    "package.json"));
const acme = require("acme-client");

const [mode, directoryUrl, ...args] = process.argv.slice(2);

async function issue(name, webroot, out) {
	const dir = path.join(webroot, ".well-known", "acme-challenge");
	const accountKey = await acme.crypto.createPrivateEcdsaKey("P-256");
	const client = new acme.Client({ directoryUrl, accountKey });
	const [key, csr] = await acme.crypto.createCsr({ commonName: name,
	    altNames: [name] }, await acme.crypto.createPrivateEcdsaKey("P-256"));
	fs.mkdirSync(dir, { recursive: true });
	const cert = await client.auto({
		csr,
		email: "hostmaster@example.com",
		termsOfServiceAgreed: true,
		challengePriority: ["http-01"],
		skipChallengeVerification: true,
		challengeCreateFn: async (authz, challenge, keyAuthorization) => {
			fs.writeFileSync(path.join(dir, challenge.token),
			    keyAuthorization);
		},
		challengeRemoveFn: async (authz, challenge) => {
			fs.rmSync(path.join(dir, challenge.token), { force: true });
		},
	});
	fs.writeFileSync(path.join(out, "account.pem"), accountKey);
	fs.writeFileSync(path.join(out, "key.pem"), key);
	fs.writeFileSync(path.join(out, "cert.pem"), cert);
}

async function revoke(out, reason) {
	const client = new acme.Client({ directoryUrl,
	    accountKey: fs.readFileSync(path.join(out, "account.pem")) });
	await client.createAccount({ onlyReturnExisting: true });
	await client.revokeCertificate(fs.readFileSync(path.join(out,
	    "cert.pem")), { reason: Number(reason) });
}

if (mode === "issue")
	await issue(...args);
else if (mode === "revoke")
	await revoke(...args);
else
	throw new Error(`unknown mode ${mode}`);
