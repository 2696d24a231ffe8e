// SPDX-License-Identifier: Apache-2.0
//
// The portal pages' behaviour, bundled into web/dist/portal.js (no inline
// script: the CSP allows same-origin scripts only). Runs in the customer's
// browser.
//
// Setup form (#setup-form): makes the key pair in the browser as soon as
// the page has loaded (again when the key type changes). On "Set up SSL
// certificate" it first checks every field it can, with the server's rules
// and messages (checks.js), shown next to the fields and in a summary that
// takes the focus; only then does it ask for the key download ("Download
// Private Key": PEM, or PKCS#12 with a password; the file is named after
// the domain, so the domain is checked before that too). Then it builds
// the CSR for the product's names and submits only the CSR (hidden field
// "csr"). The key never leaves the page; it is never put into a form
// field. Alternatively the customer pastes or uploads a CSR.
//
// A key the customer saved stays usable when the form comes back: after a
// refusal the server offers the same CSR again (#key-kept, the CSR in the
// hidden field; the server verifies it again when it is sent), and the page
// sends it as long as the names are the same. For other names the customer
// chooses the key file they saved (read here, never sent) and the page
// signs a new CSR with it, provided it is that key (its public key's
// fingerprint); or makes a new key. Before sending, the form's text and
// the CSR (never the key) are kept as a draft in this tab's sessionStorage,
// so that a form refused because the session ended is filled in again when
// it is opened after the login; the confirmation page forgets it.
//
// Nothing here talks to the network (the key lives in this bundle): pages
// with something pending reload themselves with a meta refresh.

import * as keygen from "./keygen.js";
import * as checks from "./checks.js";

const $ = (id) => document.getElementById(id);

// Drafts older than a session's longest life (12 h) are not used.
const DRAFT_MAX_AGE = 12 * 3600 * 1000;
const draftKey = (slot) => `certdesk.setup.${slot}`;

// The names a product's certificate covers for the typed domain
// (normalised as the server reads them), or [] when it is no domain.
export function productNames(product, domain) {
	const r = checks.domainCheck(product, domain);
	return r.names || [];
}

// The key file's name: the certificate's first name ("*.x" as
// "wildcard.x"), as the portal's downloads name its files; bounded so
// that every file system takes it.
function fileBase(names) {
	let n = names[0] || "certificate";
	if (n.startsWith("*."))
		n = "wildcard." + n.slice(2);
	if (n.length > 200)
		n = n.slice(0, 200).replace(/[.-]+$/, "");
	return n;
}

const sameNames = (a, b) => a.length === b.length &&
    a.every((n) => b.includes(n));

function readDraft(slot) {
	try {
		const d = JSON.parse(sessionStorage.getItem(draftKey(slot)));
		if (d && d.v === 1 && Date.now() - d.t < DRAFT_MAX_AGE)
			return d;
	} catch {
		// no storage, or not ours
	}
	return null;
}

function dropDraft(slot) {
	try {
		sessionStorage.removeItem(draftKey(slot));
	} catch {
		// no storage
	}
}

// Field messages next to the fields, as the server renders them
// (src/portal/orders.c field_error: p.field-error#e-<name>), and the
// summary on top (#error-summary) that takes the focus; the title starts
// with "Error: " while any is shown (WCAG 3.3.1).
function errorsUi(form, section) {
	const baseTitle = document.title.replace(/^Error: /, "");
	const target = (field) => $(`f-${field}`);
	const holder = (field) => {
		const t = target(field);
		if (!t)
			return null;
		return t.tagName === "FIELDSET" ? t : t.closest(".field");
	};
	function clear() {
		form.querySelectorAll("p.field-error").forEach((p) => {
			if (p.id !== "key-load-why")
				p.remove();
		});
		form.querySelectorAll(".field.invalid").forEach((d) =>
		    d.classList.remove("invalid"));
		form.querySelectorAll("[aria-invalid]").forEach((i) => {
			i.removeAttribute("aria-invalid");
			const d = (i.getAttribute("aria-describedby") || "")
			    .split(" ").filter((x) => x && !x.startsWith("e-"));
			if (d.length)
				i.setAttribute("aria-describedby", d.join(" "));
			else
				i.removeAttribute("aria-describedby");
		});
		const old = $("error-summary");
		if (old)
			old.remove();
		document.title = baseTitle;
	}
	let shown = [];
	function show(list) {
		clear();
		shown = list;
		if (list.length === 0)
			return;
		for (const { field, msg } of list) {
			const h = holder(field);
			if (!h)
				continue;
			const p = document.createElement("p");
			p.className = "field-error";
			p.id = `e-${field}`;
			p.textContent = msg;
			if (h.tagName === "FIELDSET") {
				h.querySelector("legend").after(p);
			} else {
				// where the server puts it: above the input
				const i = target(field);
				h.classList.add("invalid");
				i.before(p);
				i.setAttribute("aria-invalid", "true");
				const d = (i.getAttribute("aria-describedby") ||
				    "").split(" ").filter((x) => x);
				d.push(p.id);
				i.setAttribute("aria-describedby", d.join(" "));
			}
		}
		const box = document.createElement("div");
		box.className = "alert";
		box.id = "error-summary";
		box.setAttribute("role", "alert");
		box.tabIndex = -1;
		const head = document.createElement("p");
		const strong = document.createElement("strong");
		strong.textContent = "Please check the following:";
		head.append(strong);
		const ul = document.createElement("ul");
		for (const { field, msg } of list) {
			const li = document.createElement("li");
			const a = document.createElement("a");
			a.href = `#f-${field}`;
			a.textContent = msg;
			li.append(a);
			ul.append(li);
		}
		box.append(head, ul);
		form.before(box);
		document.title = "Error: " + baseTitle;
		box.focus();
		box.scrollIntoView({ block: "start" });
	}
	// the summary's links move the focus to the field, not just the view
	section.addEventListener("click", (ev) => {
		const a = ev.target.closest("#error-summary a[href^='#f-']");
		if (!a)
			return;
		const t = $(a.getAttribute("href").slice(1));
		if (!t)
			return;
		ev.preventDefault();
		const f = t.tagName === "FIELDSET" ?
		    t.querySelector("input") : t;
		t.scrollIntoView({ block: "center" });
		(f || t).focus();
	});
	// one field's message, the others shown before kept
	const showField = (field, msg) => show([{ field, msg },
	    ...shown.filter((e) => e.field !== field)]);
	return { clear, show, showField };
}

function setupForm(form) {
	const product = form.dataset.product;
	const slot = form.dataset.slot;
	const section = form.closest("section") || form.parentElement;
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
	const makeBox = $("key-make");
	const csrText = $("f-csr");
	const csrFile = $("csr-file");
	const domain = $("f-domain");
	const ui = errorsUi(form, section);
	let key = null;
	let making = null;
	// the CSR of a key saved earlier, offered again: { pem, names, fp }
	let kept = null;

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
	const value = (name) => {
		const els = form.elements.namedItem(name);
		if (!els)
			return "";
		if (els instanceof RadioNodeList) {
			const c = [...els].find((e) => e.checked);
			return c ? c.value : "";
		}
		if (els.type === "checkbox")
			return els.checked ? els.value : "";
		return els.value;
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
			    "is ready.";
		} catch (e) {
			if (mine !== generation) return;
			keyStatus.textContent = "This browser cannot make a " +
			    "key: " + e.message + " Use your own CSR instead.";
		}
	}

	// ---- the key saved earlier: its CSR again, or the file itself ----

	const keptBox = $("key-kept");
	const loadBox = $("key-load");
	function useKept(k) {
		kept = k;
		keptBox.hidden = false;
		keptBox.dataset.names = k.names.join(" ");
		keptBox.dataset.fp = k.fp;
		$("key-kept-names").textContent = k.names.length ? " for " +
		    k.names.join(", ") : "";
		$("key-kept-fp").textContent = k.fp;
		makeBox.hidden = true;
		csrField.value = k.pem;
	}
	function dropKept() {
		kept = null;
		csrField.value = "";
		if (keptBox)
			keptBox.hidden = true;
		if (loadBox)
			loadBox.hidden = true;
		makeBox.hidden = false;
		if (!key && !making)
			making = makeKey();
	}
	if (keptBox) {
		// offered by the server after a refusal
		if (!keptBox.hidden && keptBox.dataset.fp)
			kept = { pem: csrField.value, fp: keptBox.dataset.fp,
				names: (keptBox.dataset.names || "").split(" ")
				    .filter((n) => n) };
		$("key-new").addEventListener("click", () => {
			dropKept();
			alg.focus();
		});
	}
	// The saved key file: when it is the key of the kept CSR, it becomes
	// the page's key, as if just made and downloaded, and the form is sent
	// with a CSR it signs for the names of now.
	async function openKeyFile(bytes, password, status) {
		const k = await keygen.importPrivateKey({ data: bytes,
		    password });
		const fp = await keygen.spkiFingerprint(k);
		if (fp !== kept.fp)
			throw new Error("This is not the key saved for this " +
			    "form (its public key's fingerprint is " +
			    `${fp}, not ${kept.fp}).`);
		generation++;
		key = k;
		downloadedKey = k;
		kept = null;
		csrField.value = "";
		loadBox.hidden = true;
		keptBox.hidden = true;
		say(formStatus, "");
		say(status, "");
		makeBox.hidden = false;
		dl.disabled = true;
		keyStatus.textContent = "Your saved private key is read: it " +
		    "signs the request for the new names.";
		say(dlStatus, "");
		form.requestSubmit();
	}
	if (loadBox) {
		const file = $("key-file");
		const pw = $("key-file-pass");
		const pwBox = $("key-file-pass-box");
		const open = $("key-file-open");
		const status = $("key-load-status");
		let bytes = null;
		const tryOpen = async () => {
			if (!bytes || !kept)
				return;
			say(status, "Reading the key file\u2026");
			open.disabled = true;
			try {
				await openKeyFile(bytes, pw.value, status);
			} catch (e) {
				say(status, e.message);
			} finally {
				open.disabled = false;
			}
		};
		file.addEventListener("change", async () => {
			const f = file.files && file.files[0];
			bytes = null;
			if (!f)
				return;
			if (f.size > 65536) {
				say(status, "This file is too large for a key " +
				    "file.");
				return;
			}
			bytes = new Uint8Array(await f.arrayBuffer());
			const pem = /-----BEGIN /.test(new TextDecoder("latin1")
			    .decode(bytes.subarray(0, 64)));
			pwBox.hidden = pem;
			open.hidden = pem;
			if (pem)
				tryOpen();
			else
				pw.focus();
		});
		open.addEventListener("click", tryOpen);
	}

	// ---- renew: which certificate a reissue for other names revokes ----

	const warn = $("names-warning");
	const current = form.dataset.current || "";
	function namesWarning() {
		if (!warn || !current)
			return;
		const names = productNames(product, domain.value);
		const gone = names.length ?
		    checks.uncovered(current, names) : [];
		say(warn, gone.length ? "The new certificate does not cover " +
		    `${gone.join(", ")}: your current certificate will be ` +
		    "revoked 72 hours after the new one is issued. Install " +
		    "the new one before then." : "");
	}
	domain.addEventListener("input", namesWarning);
	domain.addEventListener("change", namesWarning);

	// ---- the draft of this tab ----

	function saveDraft(csrPem, names, fp) {
		const fields = {};
		for (const el of form.elements) {
			if (!el.name || ["csrf", "csr"].includes(el.name) ||
			    el.type === "file" || el.type === "password")
				continue;
			if ((el.type === "radio" || el.type === "checkbox") &&
			    !el.checked)
				continue;
			fields[el.name] = el.value;
		}
		const d = { v: 1, t: Date.now(), fields };
		if (typeof csrPem === "string" && names && fp)
			d.kept = { pem: csrPem, names, fp };
		try {
			sessionStorage.setItem(draftKey(slot),
			    JSON.stringify(d));
		} catch {
			// no storage: nothing kept
		}
	}
	function restoreDraft(d) {
		for (const el of form.elements) {
			if (!el.name || !(el.name in d.fields) ||
			    ["csrf", "csr"].includes(el.name))
				continue;
			if (el.type === "radio" || el.type === "checkbox")
				el.checked = d.fields[el.name] === el.value;
			else if (el.type !== "file" && el.type !== "password")
				el.value = d.fields[el.name];
		}
		for (const el of form.querySelectorAll(
		    "input[type=radio], input[type=checkbox]"))
			if (!(el.name in d.fields) && el.type === "checkbox")
				el.checked = false;
		const k = d.kept;
		if (k && keptBox && typeof k.pem === "string" &&
		    Array.isArray(k.names) && /^[0-9a-f]{64}$/.test(k.fp))
			useKept(k);
		const note = $("setup-restored");
		if (note)
			say(note, "What you entered before in this tab is " +
			    "filled in again (nothing was ordered yet). Check " +
			    "it, then set up the certificate." + (kept ?
			    " Your private key is still valid: no need to " +
			    "download a new one." : ""));
	}
	$("setup-cancel")?.addEventListener("click", () => dropDraft(slot));

	// ---- wiring ----

	form.querySelectorAll("input[name=key_source]").forEach((r) =>
	    r.addEventListener("change", showMode));
	showMode();
	alg.addEventListener("change", () => { making = makeKey(); });
	fmt.addEventListener("change", () => {
		passBox.hidden = fmt.value !== "p12";
	});
	dl.addEventListener("click", async () => {
		if (!key) return;
		// the file is named after the domain: it must be one
		const d = checks.domainCheck(product, domain.value);
		if (d.msg) {
			ui.showField("domain", d.msg);
			return;
		}
		const saving = key;	// the key this download is of
		const base = fileBase(d.names);
		alg.disabled = true;	// no new key while it is saved
		try {
			let name;
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
				name = base + ".p12";
				keygen.downloadFile(name, p12,
				    "application/x-pkcs12");
				dl.disabled = false;
			} else {
				const pem = await keygen.exportPrivateKeyPem(
				    saving);
				name = base + ".key";
				keygen.downloadFile(name, pem,
				    "application/x-pem-file");
			}
			downloadedKey = saving;
			if (saving === key) {
				const fp = await keygen.spkiFingerprint(saving);
				say(dlStatus, `Downloaded ${name}. Keep ` +
				    "this file safe. Its public key's " +
				    `SHA-256 fingerprint is ${fp}: the ` +
				    "certificate's page shows the same.");
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
		if (key && !isDownloaded() && mode() === "browser" && !kept &&
		    !form.dataset.submitting) {
			ev.preventDefault();
			ev.returnValue = "";
		}
	});
	const send = (csrPem, names, fp) => {
		saveDraft(csrPem, names, fp);
		form.dataset.submitting = "1";
		form.submit();
	};
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		say(formStatus, "");
		// everything the browser can check, before any download
		const errs = checks.formErrors(product, value);
		if (mode() === "own" && csrText.value.trim() === "")
			errs.push({ field: "csr", msg: "No certificate " +
			    "signing request (CSR) was sent: generate the " +
			    "key in your browser, or paste or upload your " +
			    "own CSR." });
		if (errs.length) {
			ui.show(errs);
			return;
		}
		ui.clear();
		const names = productNames(product, domain.value);
		if (mode() === "own") {
			csrField.value = "";
			send(null);
			return;
		}
		if (kept) {
			// the CSR of the saved key, if it is for these names
			if (kept.pem && sameNames(kept.names, names)) {
				csrField.value = kept.pem;
				send(kept.pem, kept.names, kept.fp);
				return;
			}
			const now = names.join(", ");
			const was = kept.pem ? "Your saved key's request is " +
			    `for ${kept.names.join(", ")}; the certificate ` +
			    `is now for ${now}. ` : "";
			const why = $("key-load-why");
			if (why)
				why.textContent = was + "Choose the key file " +
				    `you saved to sign a request for ${now}, ` +
				    "or make a new key.";
			if (loadBox) {
				loadBox.hidden = false;
				$("key-file").focus();
			}
			return;
		}
		csrField.value = "";
		if (making) await making;
		if (!key) {
			say(formStatus, "There is no key yet: wait a moment, " +
			    "or use your own CSR.");
			return;
		}
		if (!isDownloaded()) {
			say(formStatus, "The form is complete. Now download " +
			    "your private key (Download Private Key): it " +
			    "cannot be recovered later. Then set up the " +
			    "certificate.");
			dl.focus();
			return;
		}
		const signing = key;	// the downloaded one, checked above
		let pem, fp;
		try {
			pem = await keygen.buildCsr({ key: signing, names });
			fp = await keygen.spkiFingerprint(signing);
			if (signing !== key || !isDownloaded())
				throw new Error("The key changed meanwhile: " +
				    "download the new one, then set up again.");
		} catch (e) {
			say(formStatus, e.message);
			domain.focus();
			return;
		}
		csrField.value = pem;
		send(pem, names, fp);
	});

	// ---- the page as it arrives ----

	const summary = $("error-summary");
	if (summary)
		summary.focus();
	if (!form.dataset.posted) {
		// a fresh form: this tab's draft, if any, is newer
		const d = readDraft(slot);
		if (d)
			restoreDraft(d);
	}
	namesWarning();
	if (!kept)
		making = makeKey();
}

export function start() {
	const placed = document.querySelector("[data-placed-slot]");
	if (placed)
		dropDraft(placed.dataset.placedSlot);
	const form = $("setup-form");
	if (form) setupForm(form);
}
