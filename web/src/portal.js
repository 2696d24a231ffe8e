// SPDX-License-Identifier: Apache-2.0
//
// Entry point of the portal's browser bundle (web/dist/portal.js, built by
// web/build.mjs). Runs in the customer's browser; exposes the key, CSR and
// PKCS#12 functions of keygen.js as window.certdesk and starts the portal
// pages' behaviour (setup.js, dv.js, gear.js, p12.js).
// Nothing here sends data anywhere: the pages post only the CSR.

import * as keygen from "./keygen.js";
import * as setup from "./setup.js";
import * as dv from "./dv.js";
import * as gear from "./gear.js";
import * as p12 from "./p12.js";

const api = Object.freeze({
	version: 1,
	KEY_ALGORITHMS: keygen.KEY_ALGORITHMS,
	DEFAULT_KEY_ALGORITHM: keygen.DEFAULT_KEY_ALGORITHM,
	PKCS12_MIN_PASSWORD: keygen.PKCS12_MIN_PASSWORD,
	generateKey: keygen.generateKey,
	buildCsr: keygen.buildCsr,
	describeCsr: keygen.describeCsr,
	exportPrivateKeyPem: keygen.exportPrivateKeyPem,
	exportPkcs12: keygen.exportPkcs12,
	downloadFile: keygen.downloadFile,
	importPrivateKey: keygen.importPrivateKey,
	spkiFingerprint: keygen.spkiFingerprint,
	normalizeName: keygen.normalizeName,
	toPem: keygen.toPem,
	fromPem: keygen.fromPem,
});

globalThis.certdesk = api;

// the portal pages' behaviour (setup form, overview refresh, gear menus,
// the certificate page's PKCS#12 file);
// the script is loaded with defer, so the document is parsed already
if (typeof document !== "undefined") {
	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", setup.start);
		document.addEventListener("DOMContentLoaded", dv.start);
		document.addEventListener("DOMContentLoaded", gear.start);
		document.addEventListener("DOMContentLoaded", p12.start);
	} else {
		setup.start();
		dv.start();
		gear.start();
		p12.start();
	}
}
