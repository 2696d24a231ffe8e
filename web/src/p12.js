// SPDX-License-Identifier: Apache-2.0
//
// "Make a PKCS#12 file (Windows, IIS, Java)" on an issued certificate's
// page (#p12, in the Download card). Runs in the customer's browser,
// bundled into web/dist/portal.js.
//
// IIS, Windows and Java keystores import the certificate together with
// its private key, and the key exists only in the file the customer saved
// at setup. The customer chooses that file (PEM, or the PKCS#12 the setup
// form saved, with its password); the page checks that its public key is
// the certificate's (SHA-256 of the SubjectPublicKeyInfo, data-fp, the
// value the page shows) and builds a password-protected PKCS#12 with key,
// certificate and chain (the full chain PEM is in the page, #p12-chain),
// saved as a download. Nothing is sent anywhere: the key and both
// passwords stay in this page. Trusts the page for the certificate; the
// file the customer chooses is checked.

import * as keygen from "./keygen.js";

const $ = (id) => document.getElementById(id);

// The PKCS#12 file of the key file's bytes (password for a PKCS#12 key
// file) with the chain PEM (leaf first), protected with newPassword, when
// the key's public key has fingerprint fp. Resolves to its bytes; throws
// an Error fit for the customer (wrong file, wrong password, another key,
// short password).
export async function makePkcs12({ bytes, password, chainPem, fp,
    newPassword, friendlyName }) {
	if ([...(newPassword || "")].length < keygen.PKCS12_MIN_PASSWORD)
		throw new Error("Choose a password of at least " +
		    `${keygen.PKCS12_MIN_PASSWORD} characters for the new ` +
		    "file.");
	const key = await keygen.importPrivateKey({ data: bytes, password });
	const got = await keygen.spkiFingerprint(key);
	if (got !== fp)
		throw new Error("This key does not belong to this " +
		    "certificate: its public key's SHA-256 fingerprint is " +
		    `${got}, the certificate's is ${fp}. Choose the key file ` +
		    "you saved when you set up this certificate.");
	return keygen.exportPkcs12({ key, certPem: chainPem,
		password: newPassword, friendlyName });
}

export function start() {
	const box = $("p12");
	const form = $("p12-form");
	if (!box || !form)
		return;
	const file = $("p12-key");
	const passBox = $("p12-key-pass-box");
	const keyPass = $("p12-key-pass");
	const newPass = $("p12-pass");
	const make = $("p12-make");
	const status = $("p12-status");
	const say = (t) => { status.textContent = t; };
	let bytes = null;
	// the chosen file is read asynchronously: "Make" waits for it, so a
	// quick click never uses no file or the one chosen before
	let reading = Promise.resolve();
	form.hidden = false;

	const read = async (f) => {
		bytes = null;
		say("");
		if (!f)
			return;
		if (f.size > 65536) {
			say("This file is too large for a key file.");
			return;
		}
		const b = new Uint8Array(await f.arrayBuffer());
		if (!file.files || file.files[0] !== f)
			return;		// another file was chosen meanwhile
		bytes = b;
		// a PEM key has no password; a PKCS#12 file asks for it
		passBox.hidden = /-----BEGIN /.test(new TextDecoder("latin1")
		    .decode(bytes.subarray(0, 64)));
		if (!passBox.hidden)
			keyPass.focus();
	};
	file.addEventListener("change", () => {
		reading = read(file.files && file.files[0]);
	});
	make.addEventListener("click", async () => {
		await reading;
		if (!bytes) {
			say("Choose your private key file first.");
			file.focus();
			return;
		}
		make.disabled = true;
		say("Making the PKCS#12 file\u2026");
		try {
			const p12 = await makePkcs12({ bytes,
				password: passBox.hidden ? undefined :
				    keyPass.value,
				chainPem: $("p12-chain").textContent,
				fp: box.dataset.fp, newPassword: newPass.value,
				friendlyName: box.dataset.name });
			keygen.downloadFile(box.dataset.file, p12,
			    "application/x-pkcs12");
			say(`Downloaded ${box.dataset.file}: certificate, ` +
			    "chain and private key, protected with your " +
			    "password.");
		} catch (e) {
			say(e.message);
		} finally {
			make.disabled = false;
		}
	});
}
