// SPDX-License-Identifier: Apache-2.0
//
// The portal pages' behaviour, bundled into web/dist/portal.js (no inline
// script: the CSP allows same-origin scripts only). Runs in the customer's
// browser.
//
// Setup form (#setup-form): makes the key pair in the browser as soon as
// the page has loaded (again when the key type changes), offers "Download
// Private Key" (PEM, or PKCS#12 with a password), and on "Set up SSL
// certificate" builds the CSR for the product's names and submits only the
// CSR (hidden field "csr"). The key never leaves the page; it is never put
// into a form field. Alternatively the customer pastes or uploads a CSR.
//
// Nothing here talks to the network (the key lives in this bundle): pages
// with something pending reload themselves with a meta refresh.

import * as keygen from "./keygen.js";

const $ = (id) => document.getElementById(id);

// The names a product's certificate covers for the typed domain (mirrors
// the ra's rules; the server checks again).
export function productNames(product, domain) {
	let d = String(domain || "").trim().toLowerCase();
	if (d.startsWith("*.")) d = d.slice(2);
	if (product === "starter") {
		if (d.startsWith("www.")) d = d.slice(4);
		return [d, "www." + d];
	}
	if (product === "business_wildcard") return ["*." + d, d];
	return [d];
}

function fileBase(domain, product) {
	const names = productNames(product, domain);
	const n = names[0] || "certificate";
	return n.startsWith("*.") ? "wildcard." + n.slice(2) : n;
}

function setupForm(form) {
	const product = form.dataset.product;
	const csrField = $("csr");
	const alg = $("key-alg");
	const fmt = $("key-format");
	const passBox = $("p12-pass");
	const pass = $("key-password");
	const dl = $("download-key");
	const keyStatus = $("key-status");
	const dlStatus = $("download-status");
	const formStatus = $("setup-status");
	const browserBox = $("key-browser");
	const ownBox = $("key-own");
	const csrText = $("f-csr");
	const csrFile = $("csr-file");
	const domain = $("f-domain");
	let key = null;
	let making = null;

	const mode = () => {
		const r = form.querySelector("input[name=key_source]:checked");
		return r ? r.value : "browser";
	};
	const showMode = () => {
		const own = mode() === "own";
		browserBox.hidden = own;
		ownBox.hidden = !own;
	};
	const say = (el, text) => {
		el.textContent = text;
		el.hidden = !text;
	};

	// Which key was downloaded is kept with the key itself: a key made
	// later (another type chosen meanwhile, or a slower generation
	// finishing after a faster one) is never taken as downloaded, and
	// only the newest generation's key counts.
	let generation = 0;
	let downloadedKey = null;
	const isDownloaded = () => key !== null && downloadedKey === key;

	async function makeKey() {
		const mine = ++generation;
		key = null;
		dl.disabled = true;
		say(dlStatus, "");
		keyStatus.textContent = "Making your private key in this " +
		    "browser\u2026";
		const label = alg.options[alg.selectedIndex].text
		    .replace(/ \(recommended\)$/, "");
		try {
			const k = await keygen.generateKey({ alg: alg.value });
			if (mine !== generation) return; // superseded
			key = k;
			dl.disabled = false;
			keyStatus.textContent = `Your private key (${label}) ` +
			    "is ready. Download it now.";
		} catch (e) {
			if (mine !== generation) return;
			keyStatus.textContent = "This browser cannot make a " +
			    "key: " + e.message + " Use your own CSR instead.";
		}
	}

	form.querySelectorAll("input[name=key_source]").forEach((r) =>
	    r.addEventListener("change", showMode));
	showMode();
	alg.addEventListener("change", () => { making = makeKey(); });
	fmt.addEventListener("change", () => {
		passBox.hidden = fmt.value !== "p12";
	});
	dl.addEventListener("click", async () => {
		if (!key) return;
		const saving = key;	// the key this download is of
		const base = fileBase(domain.value, product);
		alg.disabled = true;	// no new key while it is saved
		try {
			if (fmt.value === "p12") {
				if ((pass.value || "").length <
				    keygen.PKCS12_MIN_PASSWORD) {
					say(dlStatus, "Choose a password of at " +
					    "least 8 characters first.");
					pass.focus();
					return;
				}
				dl.disabled = true;
				say(dlStatus, "Protecting the key with your " +
				    "password\u2026");
				const p12 = await keygen.exportPkcs12({
				    key: saving, password: pass.value,
				    friendlyName: base });
				keygen.downloadFile(base + ".p12", p12,
				    "application/x-pkcs12");
				dl.disabled = false;
			} else {
				const pem = await keygen.exportPrivateKeyPem(
				    saving);
				keygen.downloadFile(base + ".key", pem,
				    "application/x-pem-file");
			}
			downloadedKey = saving;
			if (saving === key) {
				say(dlStatus, "Downloaded. Keep this file safe.");
				say(formStatus, "");
			}
		} catch (e) {
			dl.disabled = false;
			say(dlStatus, "The key could not be saved: " + e.message);
		} finally {
			alg.disabled = false;
		}
	});
	if (csrFile) {
		csrFile.addEventListener("change", () => {
			const f = csrFile.files && csrFile.files[0];
			if (!f) return;
			if (f.size > 65536) {
				say(formStatus, "This file is too large for a CSR.");
				return;
			}
			f.text().then((t) => { csrText.value = t.trim(); });
		});
	}
	window.addEventListener("beforeunload", (ev) => {
		if (key && !isDownloaded() && mode() === "browser" &&
		    !form.dataset.submitting) {
			ev.preventDefault();
			ev.returnValue = "";
		}
	});
	form.addEventListener("submit", async (ev) => {
		say(formStatus, "");
		csrField.value = "";
		if (mode() !== "browser") {
			form.dataset.submitting = "1";
			return;	// the pasted CSR goes as it is
		}
		ev.preventDefault();
		if (making) await making;
		if (!key) {
			say(formStatus, "There is no key yet: wait a moment, " +
			    "or use your own CSR.");
			return;
		}
		if (!isDownloaded()) {
			say(formStatus, "Please download your private key " +
			    "first (Download Private Key): it cannot be " +
			    "recovered later.");
			dl.focus();
			return;
		}
		const names = productNames(product, domain.value);
		if (!names[0]) {
			// let the server say what is missing
			form.dataset.submitting = "1";
			form.submit();
			return;
		}
		const signing = key;	// the downloaded one, checked above
		try {
			csrField.value = await keygen.buildCsr({ key: signing,
			    names });
			if (signing !== key || !isDownloaded())
				throw new Error("The key changed meanwhile: " +
				    "download the new one, then set up again.");
		} catch (e) {
			say(formStatus, e.message);
			domain.focus();
			return;
		}
		form.dataset.submitting = "1";
		form.submit();
	});
	making = makeKey();
}

export function start() {
	const form = $("setup-form");
	if (form) setupForm(form);
}
