// SPDX-License-Identifier: Apache-2.0
//
// The subscriber's private key, made and kept in the customer's browser.
//
// Runs in the customer's browser only (bundled into web/dist/portal.js). It
// generates the key pair with WebCrypto, builds and signs the PKCS#10
// certificate signing request with PKI.js, and exports the private key as a
// PKCS#8 PEM file or a password-protected PKCS#12 file (PBES2 with
// PBKDF2-HMAC-SHA256 and AES-256-CBC, SHA-256 MAC; no RC2/3DES/RC4).
//
// The CA never generates or holds a subscriber's key (BR 6.1.1.3): nothing in
// this file talks to the network. Only the CSR PEM leaves this module for the
// server; the private key leaves it only as a file the customer downloads.
// Trusts: the browser's WebCrypto; the names given by the page (they are
// checked here for shape only, the server decides what may be issued).

import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

// Key types offered to the customer (deeply frozen; the first is the
// default). generateKey builds the WebCrypto parameters from these values.
export const KEY_ALGORITHMS = Object.freeze({
	"ECDSA-P256": Object.freeze({ label: "ECDSA P-256 (recommended)",
		type: "EC", curve: "P-256", bits: 256 }),
	"RSA-2048": Object.freeze({ label: "RSA 2048 bit",
		type: "RSA", bits: 2048 }),
	"RSA-3072": Object.freeze({ label: "RSA 3072 bit",
		type: "RSA", bits: 3072 }),
});
export const DEFAULT_KEY_ALGORITHM = "ECDSA-P256";

// PKCS#12 protection. PBKDF2 iterations follow OWASP's 2023 advice for
// PBKDF2-HMAC-SHA256; the MAC key (PKCS#12 KDF, RFC 7292 B.2) gets the same
// count so that the MAC is no cheap password oracle.
export const PKCS12_ITERATIONS = 600000;
export const PKCS12_MIN_PASSWORD = 8;

const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_COMMON_NAME = "2.5.4.3";
const OID_KEY_BAG = "1.2.840.113549.1.12.10.1.2";  // pkcs8ShroudedKeyBag
const OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3";
const OID_X509_CERT = "1.2.840.113549.1.9.22.1";
const OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20";
const OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21";
const MAX_NAMES = 100;

function subtle() {
	const c = globalThis.crypto;
	if (!c || !c.subtle)
		throw new Error("This browser offers no WebCrypto (a secure " +
		    "context, https or localhost, is needed).");
	return c.subtle;
}

function cryptoEngine() {
	return new pkijs.CryptoEngine({ name: "webcrypto",
		crypto: globalThis.crypto });
}

// Base64 of bytes, wrapped at 64 columns, between PEM armour lines.
export function toPem(label, bytes) {
	const b = new Uint8Array(bytes);
	let bin = "";
	for (let i = 0; i < b.length; i += 0x8000)
		bin += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
	const b64 = btoa(bin).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
	return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// Every PEM block with the given label, as DER bytes, in order.
export function fromPem(label, text) {
	const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)` +
	    `-----END ${label}-----`, "g");
	const out = [];
	let m;
	while ((m = re.exec(String(text))) !== null) {
		const bin = atob(m[1].replace(/\s+/g, ""));
		const der = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			der[i] = bin.charCodeAt(i);
		out.push(der);
	}
	return out;
}

function sameBytes(a, b) {
	const x = new Uint8Array(a), y = new Uint8Array(b);
	if (x.length !== y.length)
		return false;
	for (let i = 0; i < x.length; i++)
		if (x[i] !== y[i])
			return false;
	return true;
}

// Lower-cases a host name, converts an IDN to its A-label form and checks
// its shape (LDH labels, an optional leading "*." wildcard label). Throws an
// Error naming the bad input.
export function normalizeName(name) {
	let n = String(name).trim().toLowerCase().replace(/\.$/, "");
	let wild = "";
	if (n.startsWith("*.")) {
		wild = "*.";
		n = n.slice(2);
	}
	if (/[^\x21-\x7e]/.test(n)) {
		// IDNA via the URL parser; nothing it would read as anything but
		// a host name may reach it
		if (/[\s/\\?#@:%[\]^|<>"'`{}]/.test(n))
			throw new Error(`"${name}" is not a valid domain name.`);
		try {
			n = new URL(`http://${n}/`).hostname;
		} catch {
			throw new Error(`"${name}" is not a valid domain name.`);
		}
	}
	const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
	const labels = n.split(".");
	if (n.length === 0 || n.length + wild.length > 253 || labels.length < 2 ||
	    !labels.every((l) => label.test(l)) || /^[0-9]+$/.test(labels.at(-1)))
		throw new Error(`"${name}" is not a valid domain name.`);
	return wild + n;
}

// Generates a key pair in the browser. alg is a key of KEY_ALGORITHMS
// (default ECDSA-P256). Resolves to { alg, privateKey, publicKey }; the
// private key is extractable so that the customer can download it.
export async function generateKey({ alg = DEFAULT_KEY_ALGORITHM } = {}) {
	if (typeof alg !== "string" || !Object.hasOwn(KEY_ALGORITHMS, alg))
		throw new Error(`Unknown key type "${alg}".`);
	const a = KEY_ALGORITHMS[alg];
	const params = a.type === "EC" ?
	    { name: "ECDSA", namedCurve: a.curve } :
	    { name: "RSASSA-PKCS1-v1_5", modulusLength: a.bits,
		publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
	const pair = await subtle().generateKey(params, true,
	    ["sign", "verify"]);
	return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

// Builds and signs a PKCS#10 CSR for the names (normalised by normalizeName,
// duplicates dropped, at most 100). The first name is the subject CN unless
// cn (one of the names) is given; every name goes into subjectAltName.
// Resolves to the CSR as PEM text ("CERTIFICATE REQUEST"); throws an Error
// with a message fit for the customer on bad input.
export async function buildCsr({ key, names, cn } = {}) {
	if (!key || !key.privateKey || !key.publicKey ||
	    !Object.hasOwn(KEY_ALGORITHMS, key.alg))
		throw new Error("buildCsr needs a key made by generateKey.");
	if (!Array.isArray(names) || names.length === 0)
		throw new Error("At least one domain name is needed.");
	if (names.length > MAX_NAMES)
		throw new Error(`At most ${MAX_NAMES} domain names are allowed.`);
	const list = [];
	for (const n of names) {
		const v = normalizeName(n);
		if (!list.includes(v))
			list.push(v);
	}
	// the CN is optional (BR 7.1.4.3): a first name too long for it
	// (ub-common-name, 64) leaves the subject empty; the SAN has every name
	let subjectCn = list[0].length <= 64 ? list[0] : null;
	if (cn !== undefined && cn !== null && cn !== "") {
		subjectCn = normalizeName(cn);
		if (!list.includes(subjectCn))
			throw new Error("The common name must be one of the names.");
		if (subjectCn.length > 64)
			throw new Error("The common name is longer than 64 " +
			    "characters.");
	}

	const engine = cryptoEngine();
	const csr = new pkijs.CertificationRequest();
	csr.version = 0;
	if (subjectCn)
		csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({
			type: OID_COMMON_NAME,
			value: new asn1js.Utf8String({ value: subjectCn }),
		}));
	else
		// an empty Name is an empty SEQUENCE; PKI.js would encode one
		// empty RDN (SEQUENCE { SET {} }), which X.501 does not allow
		// (an RDN has at least one attribute) and the CA refuses
		csr.subject = new pkijs.RelativeDistinguishedNames({
			valueBeforeDecode: new Uint8Array([0x30, 0]).buffer,
		});
	await csr.subjectPublicKeyInfo.importKey(key.publicKey, engine);
	const san = new pkijs.GeneralNames({
		names: list.map((n) => new pkijs.GeneralName({ type: 2, value: n })),
	});
	const exts = new pkijs.Extensions({
		extensions: [new pkijs.Extension({
			extnID: OID_SUBJECT_ALT_NAME,
			critical: false,
			extnValue: san.toSchema().toBER(false),
		})],
	});
	csr.attributes = [new pkijs.Attribute({
		type: OID_EXTENSION_REQUEST,
		values: [exts.toSchema()],
	})];
	await csr.sign(key.privateKey, "SHA-256", engine);
	if (!(await csr.verify(engine)))
		throw new Error("The new CSR does not verify.");
	return toPem("CERTIFICATE REQUEST", csr.toSchema().toBER(false));
}

const CURVES = { "1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384",
	"1.3.132.0.35": "P-521" };

// Reads a CSR the customer pasted or uploaded (for their own key), to show
// what it asks for before it is sent. Never trusted by the server, which
// checks the CSR again. Resolves to { valid (signature verifies), cn,
// names (SAN dNSNames), keyType ("EC" | "RSA" | OID), curve, bits };
// throws an Error fit for the customer when the text holds no CSR.
export async function describeCsr(pem) {
	const ders = fromPem("(?:NEW )?CERTIFICATE REQUEST", pem);
	if (ders.length !== 1)
		throw new Error("Paste exactly one PEM certificate signing " +
		    "request (-----BEGIN CERTIFICATE REQUEST-----).");
	let csr;
	try {
		csr = pkijs.CertificationRequest.fromBER(ders[0]);
	} catch {
		throw new Error("The certificate signing request is damaged.");
	}
	const out = { valid: false, cn: null, names: [], keyType: null,
		curve: null, bits: null };
	for (const tv of csr.subject.typesAndValues)
		if (tv.type === OID_COMMON_NAME)
			out.cn = tv.value.valueBlock.value;
	for (const attr of csr.attributes || []) {
		if (attr.type !== OID_EXTENSION_REQUEST)
			continue;
		for (const v of attr.values) {
			const exts = new pkijs.Extensions({ schema: v });
			for (const e of exts.extensions) {
				if (e.extnID !== OID_SUBJECT_ALT_NAME || !e.parsedValue)
					continue;
				for (const gn of e.parsedValue.altNames || [])
					if (gn.type === 2)
						out.names.push(String(gn.value));
			}
		}
	}
	const spki = csr.subjectPublicKeyInfo;
	const oid = spki.algorithm.algorithmId;
	if (oid === "1.2.840.10045.2.1") {
		out.keyType = "EC";
		const p = spki.algorithm.algorithmParams;
		out.curve = p && p.valueBlock ? CURVES[p.valueBlock.toString()] ||
		    null : null;
		out.bits = { "P-256": 256, "P-384": 384, "P-521": 521 }[out.curve] ||
		    null;
	} else if (oid === "1.2.840.113549.1.1.1") {
		out.keyType = "RSA";
		const m = spki.parsedKey ?
		    new Uint8Array(spki.parsedKey.modulus.valueBlock.valueHexView) :
		    new Uint8Array(0);
		let i = 0;
		while (i < m.length && m[i] === 0)
			i++;
		out.bits = m.length > i ?
		    (m.length - i - 1) * 8 + (32 - Math.clz32(m[i])) : 0;
	} else {
		out.keyType = oid;
	}
	try {
		out.valid = await csr.verify(cryptoEngine());
	} catch {
		out.valid = false;
	}
	return out;
}

// The private key as unencrypted PKCS#8 PEM ("PRIVATE KEY"), as nginx and
// Apache read it.
export async function exportPrivateKeyPem(key) {
	const k = key && key.privateKey ? key.privateKey : key;
	const der = await subtle().exportKey("pkcs8", k);
	return toPem("PRIVATE KEY", der);
}

function bagAttributes(name, localKeyId) {
	const attrs = [new pkijs.Attribute({
		type: OID_LOCAL_KEY_ID,
		values: [new asn1js.OctetString({ valueHex: localKeyId })],
	})];
	if (name)
		attrs.push(new pkijs.Attribute({
			type: OID_FRIENDLY_NAME,
			values: [new asn1js.BmpString({ value: name })],
		}));
	return attrs;
}

function pbes2(password) {
	return {
		password,
		contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 },
		hmacHashAlgorithm: "SHA-256",
		iterationCount: PKCS12_ITERATIONS,
	};
}

// A password-protected PKCS#12 file made in the browser. certPem is
// optional: without it the file holds only the key (before issuance); with
// it (the leaf first, then any chain, as PEM blocks; chainPem may carry more
// of the chain) the file holds key, certificate and chain, and the leaf must
// match the key. friendlyName labels the key and leaf (e.g. the domain).
// Resolves to the DER bytes (Uint8Array). Throws on a short password or a
// certificate that does not belong to the key.
export async function exportPkcs12({ key, certPem, chainPem, password,
    friendlyName } = {}) {
	if (!key || !key.privateKey)
		throw new Error("exportPkcs12 needs a key made by generateKey.");
	if (typeof password !== "string" ||
	    [...password].length < PKCS12_MIN_PASSWORD)
		throw new Error("The password must have at least " +
		    `${PKCS12_MIN_PASSWORD} characters.`);
	const engine = cryptoEngine();
	const pw = new TextEncoder().encode(password).buffer;
	const pkcs8 = await subtle().exportKey("pkcs8", key.privateKey);
	const certs = [
		...fromPem("CERTIFICATE", certPem || ""),
		...fromPem("CERTIFICATE", chainPem || ""),
	];
	if ((certPem && certs.length === 0))
		throw new Error("certPem holds no PEM certificate.");

	let localKeyId = new Uint8Array(await subtle().digest("SHA-1",
	    await subtle().exportKey("spki", key.publicKey)));
	if (certs.length > 0) {
		const leaf = pkijs.Certificate.fromBER(certs[0]);
		const spki = leaf.subjectPublicKeyInfo.toSchema().toBER(false);
		if (!sameBytes(spki, await subtle().exportKey("spki",
		    key.publicKey)))
			throw new Error("The certificate does not belong to this " +
			    "private key.");
		localKeyId = new Uint8Array(await subtle().digest("SHA-1",
		    certs[0]));
	}

	const keyBag = new pkijs.SafeBag({
		bagId: OID_KEY_BAG,
		bagValue: new pkijs.PKCS8ShroudedKeyBag({
			parsedValue: pkijs.PrivateKeyInfo.fromBER(pkcs8),
		}),
		bagAttributes: bagAttributes(friendlyName, localKeyId),
	});
	await keyBag.bagValue.makeInternalValues(pbes2(pw), engine);

	const contents = [{
		privacyMode: 0,
		value: new pkijs.SafeContents({ safeBags: [keyBag] }),
	}];
	const params = [{}];
	if (certs.length > 0) {
		const bags = certs.map((der, i) => new pkijs.SafeBag({
			bagId: OID_CERT_BAG,
			bagValue: new pkijs.CertBag({
				certId: OID_X509_CERT,
				certValue: new asn1js.OctetString({ valueHex: der }),
			}),
			bagAttributes: i === 0 ?
			    bagAttributes(friendlyName, localKeyId) : [],
		}));
		contents.push({
			privacyMode: 1,
			value: new pkijs.SafeContents({ safeBags: bags }),
		});
		params.push(pbes2(pw));
	}
	const pfx = new pkijs.PFX({
		parsedValue: {
			integrityMode: 0,
			authenticatedSafe: new pkijs.AuthenticatedSafe({
				parsedValue: { safeContents: contents },
			}),
		},
	});
	await pfx.parsedValue.authenticatedSafe.makeInternalValues(
	    { safeContents: params }, engine);
	await pfx.makeInternalValues({
		password: pw,
		iterations: PKCS12_ITERATIONS,
		pbkdf2HashAlgorithm: "SHA-256",
		hmacHashAlgorithm: "SHA-256",
	}, engine);
	return new Uint8Array(pfx.toSchema().toBER(false));
}

// The SHA-256 of the key's SubjectPublicKeyInfo, lower-case hex: what
// `openssl pkey -in KEY -pubout -outform DER | openssl dgst -sha256` prints
// for the key file, and what the certificate's page in the portal shows.
export async function spkiFingerprint(key) {
	const k = key && key.publicKey ? key.publicKey : key;
	const spki = await subtle().exportKey("spki", k);
	const md = new Uint8Array(await subtle().digest("SHA-256", spki));
	return Array.from(md, (b) => b.toString(16).padStart(2, "0")).join("");
}

const OID_EC_KEY = "1.2.840.10045.2.1";
const OID_RSA_KEY = "1.2.840.113549.1.1.1";
const OID_PLAIN_KEY_BAG = "1.2.840.113549.1.12.10.1.1";	// keyBag
const NOT_OURS = "This key type is not one this page makes.";

// The PKCS#8 DER of a PKCS#12 file's key (PBES2 as exportPkcs12 writes
// it, or what OpenSSL 3 writes), its MAC checked with password.
async function pkcs12Key(bytes, password) {
	const engine = cryptoEngine();
	const pw = new TextEncoder().encode(password).buffer;
	let pfx;
	try {
		pfx = pkijs.PFX.fromBER(bytes);
	} catch {
		throw new Error("This is neither a PEM key file nor a PKCS#12 " +
		    "file.");
	}
	try {
		await pfx.parseInternalValues({ password: pw,
			checkIntegrity: true }, engine);
	} catch {
		throw new Error("The password does not open this PKCS#12 file.");
	}
	const safe = pfx.parsedValue.authenticatedSafe;
	await safe.parseInternalValues({ safeContents:
	    safe.safeContents.map(() => ({ password: pw })) }, engine);
	for (const sc of safe.parsedValue.safeContents) {
		for (const bag of sc.value.safeBags) {
			if (bag.bagId === OID_KEY_BAG) {
				await bag.bagValue.parseInternalValues(
				    { password: pw }, engine);
				return bag.bagValue.parsedValue.toSchema()
				    .toBER(false);
			}
			if (bag.bagId === OID_PLAIN_KEY_BAG)
				return bag.bagValue.toSchema().toBER(false);
		}
	}
	throw new Error("This PKCS#12 file holds no private key.");
}

// Reads a private key file saved from this page back into the browser
// (to sign a new CSR with the same key): PKCS#8 PEM ("PRIVATE KEY"), or
// PKCS#12 bytes with their password. Nothing leaves the browser. Resolves
// to { alg, privateKey, publicKey } as generateKey does (alg a key of
// KEY_ALGORITHMS); throws an Error fit for the customer for anything
// else.
export async function importPrivateKey({ data, password } = {}) {
	const bytes = data instanceof Uint8Array ? data :
	    new TextEncoder().encode(String(data ?? ""));
	const head = new TextDecoder("latin1").decode(bytes.subarray(0, 64));
	let pkcs8;
	if (/-----BEGIN /.test(head) || /^\s*-----/.test(head)) {
		const text = new TextDecoder("latin1").decode(bytes);
		const ders = fromPem("PRIVATE KEY", text);
		if (ders.length !== 1)
			throw new Error("This PEM file holds no unencrypted " +
			    "private key (a PEM \"PRIVATE KEY\" block).");
		pkcs8 = ders[0];
	} else {
		if (typeof password !== "string" || password === "")
			throw new Error("Enter the password of the PKCS#12 " +
			    "file.");
		pkcs8 = await pkcs12Key(bytes, password);
	}
	let info;
	try {
		info = pkijs.PrivateKeyInfo.fromBER(pkcs8);
	} catch {
		throw new Error("The private key in this file is damaged.");
	}
	const oid = info.privateKeyAlgorithm.algorithmId;
	let params, usage = ["sign"];
	if (oid === OID_EC_KEY) {
		const p = info.privateKeyAlgorithm.algorithmParams;
		const curve = p && p.valueBlock ?
		    CURVES[p.valueBlock.toString()] : null;
		if (curve !== "P-256")
			throw new Error(NOT_OURS);
		params = { name: "ECDSA", namedCurve: curve };
	} else if (oid === OID_RSA_KEY) {
		params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
	} else {
		throw new Error(NOT_OURS);
	}
	const priv = await subtle().importKey("pkcs8", pkcs8, params, true,
	    usage);
	const jwk = await subtle().exportKey("jwk", priv);
	const pubJwk = oid === OID_EC_KEY ?
	    { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y } :
	    { kty: "RSA", n: jwk.n, e: jwk.e };
	const pub = await subtle().importKey("jwk", pubJwk, params, true,
	    ["verify"]);
	let alg = "ECDSA-P256";
	if (oid === OID_RSA_KEY) {
		const bits = priv.algorithm.modulusLength;
		alg = Object.keys(KEY_ALGORITHMS).find((a) =>
		    KEY_ALGORITHMS[a].type === "RSA" &&
		    KEY_ALGORITHMS[a].bits === bits);
		if (!alg || jwk.e !== "AQAB")
			throw new Error(NOT_OURS);
	}
	return { alg, privateKey: priv, publicKey: pub };
}

// Saves bytes (or a string) as a file through the browser's download, with
// no request to any server.
export function downloadFile(name, bytes, mime = "application/octet-stream") {
	const blob = new Blob([bytes], { type: mime });
	const url = URL.createObjectURL(blob);
	const a = document.createElement("a");
	a.href = url;
	a.download = name;
	a.rel = "noopener";
	a.style.display = "none";
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
}
