// SPDX-License-Identifier: Apache-2.0
//
// The setup form's checks, run in the customer's browser before it asks
// for the key download: the same rules and the same messages as the
// server's (src/ra/portal.c order_names, check_contact, check_org; the
// names as src/util/dnsname.c reads them with DNSNAME_FOLD |
// DNSNAME_ROOT_DOT | DNSNAME_ULABELS). The server checks everything again
// and alone decides; what the browser cannot know (the public suffix list,
// names the CA's policy blocks, the CSR's key) it leaves to the server.
// tests/browser/test_setup_checks.mjs holds both sides to the same text.
//
// Pure functions: no DOM, no network. Internationalised names go through
// the browser's URL parser (UTS #46 nontransitional, as libidn2 with
// IDN2_NONTRANSITIONAL), then the labels are decoded again (RFC 3492) to
// refuse what IDNA2008 disallows and UTS #46 lets through (symbols such as
// emoji), as libidn2 does.

const DNSNAME_MAX = 253;
const DNSNAME_MAX_LABEL = 63;
const DNSNAME_MAX_INPUT = 1024;
const ECHO_HEAD = 60;
const ECHO_TAIL = 30;

const WHY = Object.freeze({
	EMPTY: "is empty",
	NOT_ASCII: "is not ASCII: internationalised names must be A-labels " +
	    "(xn--)",
	BAD_ULABEL: "is not a valid internationalised name (IDNA2008)",
	CONTROL: "contains a space or control character",
	TRAILING_DOT: "ends with a dot",
	TOO_LONG: "is longer than 253 characters",
	IP_ADDRESS: "is an IP address: only DNS names are allowed",
	WILDCARD_NOT_ALLOWED: "is a wildcard name, not allowed here",
	WILDCARD_POSITION: "has a wildcard that is not the whole leftmost " +
	    "label",
	EMPTY_LABEL: "has an empty label",
	LABEL_TOO_LONG: "has a label longer than 63 characters",
	UPPERCASE: "has upper-case letters",
	BAD_CHAR: "has a character other than letters, digits, hyphen and " +
	    "dot",
	HYPHEN_EDGE: "has a label that starts or ends with a hyphen",
	RESERVED_LABEL: "has \"--\" in the third and fourth positions of a " +
	    "label that is not an xn-- A-label",
	BAD_ALABEL: "has an invalid A-label (xn--)",
	SINGLE_LABEL: "is not a fully-qualified domain name",
	NUMERIC_TLD: "has a numeric top-level label",
});

const utf8 = (s) => new TextEncoder().encode(s);

// Characters as the server counts them: code points.
export const charsOf = (s) => [...s].length;

// What the server drops around every text field: space, tab, CR, LF.
export const trimBlanks = (s) => String(s ?? "").replace(/^[ \t\r\n]+/, "")
    .replace(/[ \t\r\n]+$/, "");

// What the customer typed, repeated in a message: itself when short, else
// its first 60 and last 30 bytes (UTF-8, cut at character boundaries)
// around an ellipsis, exactly as the server's echo_of().
export function echoOf(typed) {
	const b = utf8(typed);
	const n = b.length;
	if (n <= ECHO_HEAD + ECHO_TAIL + 3)
		return typed;
	let h = ECHO_HEAD, t = n - ECHO_TAIL;
	while (h > 0 && (b[h] & 0xc0) === 0x80)
		h--;
	while (t < n && (b[t] & 0xc0) === 0x80)
		t++;
	const d = new TextDecoder();
	return d.decode(b.subarray(0, h)) + "\u2026" + d.decode(b.subarray(t));
}

// RFC 3492 decoding of the part after "xn--"; null when it is not valid.
function punyDecode(s) {
	const base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
	const out = [];
	let n = 128, i = 0, bias = 72;
	let b = s.lastIndexOf("-");
	if (b < 0)
		b = 0;
	for (let j = 0; j < b; j++) {
		if (s.charCodeAt(j) >= 0x80)
			return null;
		out.push(s.charCodeAt(j));
	}
	const digit = (c) => c >= 48 && c <= 57 ? c - 22 : c >= 65 && c <= 90 ?
	    c - 65 : c >= 97 && c <= 122 ? c - 97 : base;
	for (let k = b > 0 ? b + 1 : 0; k < s.length;) {
		const old = i;
		for (let w = 1, t = base; ; t += base) {
			if (k >= s.length)
				return null;
			const d = digit(s.charCodeAt(k++));
			if (d >= base || d > Math.floor((0x7fffffff - i) / w))
				return null;
			i += d * w;
			const th = t <= bias ? tmin : t >= bias + tmax ? tmax :
			    t - bias;
			if (d < th)
				break;
			if (w > Math.floor(0x7fffffff / (base - th)))
				return null;
			w *= base - th;
		}
		const len = out.length + 1;
		let delta = old === 0 ? Math.floor((i - old) / damp) :
		    (i - old) >> 1;
		delta += Math.floor(delta / len);
		let kk = 0;
		while (delta > ((base - tmin) * tmax) >> 1) {
			delta = Math.floor(delta / (base - tmin));
			kk += base;
		}
		bias = kk + Math.floor((base - tmin + 1) * delta /
		    (delta + skew));
		n += Math.floor(i / len);
		i %= len;
		if (n > 0x10ffff)
			return null;
		out.splice(i, 0, n);
		i++;
	}
	return String.fromCodePoint(...out);
}

// The browser's UTS #46 ToASCII of a host name; null when it refuses.
function toAscii(s) {
	// nothing the URL parser would read as anything but a host
	if (/[\s/\\?#@:%[\]^|<>"'`{}]/.test(s))
		return null;
	try {
		return new URL(`http://${s}/`).hostname;
	} catch {
		return null;
	}
}

// Whether a decoded U-label has only what IDNA2008 may allow: letters,
// marks and digits (RFC 5892 PVALID is a subset), and hyphens between.
const ulabelOk = (u) => u.length > 0 &&
    !/[^\p{L}\p{M}\p{N}-]/u.test(u) && u === u.normalize("NFC");

// RFC 5890 2.3.2.1: an xn-- label that decodes to a U-label IDNA2008
// accepts and that the browser encodes back to the same label.
function alabelOk(label) {
	const u = punyDecode(label.slice(4));
	if (u === null || u === label.slice(4) || !ulabelOk(u) ||
	    /^[\x00-\x7f]*$/.test(u))
		return false;
	return toAscii(u + ".example") === `${label}.example`;
}

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

function isIp(s) {
	if (IPV4.test(s))
		return true;
	if (!s.includes(":") || !/^[0-9a-f:.]+$/.test(s))
		return false;
	try {
		new URL(`http://[${s}]/`);
		return true;
	} catch {
		return false;
	}
}

// The labels of s (ASCII, folded, no "*" expected), as the server's
// check_labels(); { why } or { labels, numericTld }.
function checkLabels(s) {
	const labels = s.split(".");
	for (const lab of labels) {
		if (lab.length === 0)
			return { why: "EMPTY_LABEL" };
		if (lab.length > DNSNAME_MAX_LABEL)
			return { why: "LABEL_TOO_LONG" };
		for (const c of lab) {
			if (c === "*")
				return { why: "WILDCARD_POSITION" };
			if (!/[a-z0-9-]/.test(c))
				return { why: "BAD_CHAR" };
		}
		if (lab.startsWith("-") || lab.endsWith("-"))
			return { why: "HYPHEN_EDGE" };
		if (lab.length >= 4 && lab[2] === "-" && lab[3] === "-") {
			if (!lab.startsWith("xn"))
				return { why: "RESERVED_LABEL" };
			if (!alabelOk(lab))
				return { why: "BAD_ALABEL" };
		}
	}
	return { labels: labels.length,
		numericTld: /^[0-9]+$/.test(labels.at(-1)) };
}

// A name as the server's dnsname_norm() reads it with DNSNAME_FOLD |
// DNSNAME_ROOT_DOT | DNSNAME_ULABELS (no wildcard): { name } (folded,
// A-labels, no trailing dot) or { why } (a key of WHY).
export function normName(input) {
	let s = String(input);
	if (s.length === 0)
		return { why: "EMPTY" };
	if (utf8(s).length > DNSNAME_MAX_INPUT)
		return { why: "TOO_LONG" };
	let nonascii = false;
	for (const c of s) {
		const cp = c.codePointAt(0);
		if (cp >= 0x80)
			nonascii = true;
		else if (cp <= 0x20 || cp === 0x7f)
			return { why: "CONTROL" };
	}
	if (nonascii) {
		const a = toAscii(s);
		if (a === null || /[^\x00-\x7f]/.test(a))
			return { why: "BAD_ULABEL" };
		// what UTS #46 lets through and IDNA2008 does not
		for (const lab of a.split("."))
			if (lab.startsWith("xn--") && !alabelOk(lab))
				return { why: "BAD_ULABEL" };
		// the URL parser drops a trailing dot only when it is there
		s = a + (/[.\u3002\uff0e\uff61]$/.test(s) && !a.endsWith(".") ?
		    "." : "");
		if (s.length === 0)
			return { why: "EMPTY" };
	}
	if (s.endsWith(".")) {
		s = s.slice(0, -1);
		if (s.length === 0)
			return { why: "EMPTY" };
	}
	if (s.length > DNSNAME_MAX)
		return { why: "TOO_LONG" };
	s = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
	if (isIp(s))
		return { why: "IP_ADDRESS" };
	if (s.startsWith("*"))
		return { why: s[1] !== "." ? "WILDCARD_POSITION" :
		    "WILDCARD_NOT_ALLOWED" };
	const l = checkLabels(s);
	if (l.why)
		return l;
	if (l.labels < 2)
		return { why: "SINGLE_LABEL" };
	if (l.numericTld)
		return { why: "NUMERIC_TLD" };
	return { name: s };
}

// ra_name_check's message for a name the form has (the server's "DNS name
// ..." detail).
function dnsDetail(name, why) {
	if (["EMPTY", "NOT_ASCII", "CONTROL", "TOO_LONG"].includes(why))
		return `DNS name ${WHY[why]}`;
	return `DNS name "${name}" ${WHY[why]}`;
}

// The server's name_refused(): why the typed domain is no domain name.
function refused(typed, echo, wild, why) {
	switch (why) {
	case "CONTROL":
		return /[\x00-\x1f\x7f]/.test(typed) ? "This domain cannot " +
		    "be used: it contains a control character." :
		    `This domain cannot be used: "${echo}" contains a space.`;
	case "TOO_LONG": {
		const chars = charsOf(typed);
		const more = chars === utf8(typed).length ? "" :
		    " (more as an xn-- A-label)";
		return `This domain is too long: "${echo}" has ${chars} ` +
		    `characters${more}, at most ${DNSNAME_MAX} are allowed.`;
	}
	case "BAD_ULABEL":
		return `This domain cannot be used: "${echo}" is not a valid ` +
		    "internationalised domain name (IDNA2008).";
	case "EMPTY_LABEL":
		return `This domain cannot be used: "${echo}" has an empty ` +
		    "label (two dots in a row, or a dot at the start).";
	case "LABEL_TOO_LONG":
		return `This domain cannot be used: "${echo}" has a label (a ` +
		    `part between dots) longer than ${DNSNAME_MAX_LABEL} ` +
		    "characters.";
	case "WILDCARD_POSITION":
	case "WILDCARD_NOT_ALLOWED":
		return wild ? `This domain cannot be used: "${echo}" has a ` +
		    "\"*\" in the wrong place: enter the domain without " +
		    "\"*.\" (example.com for *.example.com)." :
		    `This domain cannot be used: "${echo}" has a "*": ` +
		    "wildcard names need an SSL Business Wildcard certificate.";
	default:
		return `This domain cannot be used: "${echo}" ${WHY[why]}.`;
	}
}

// The names a product's certificate covers for the typed domain, as the
// server's order_names(): { names } (normalised: what the CSR must name)
// or { msg } (the server's message). Starter: the name and its www form;
// Business Wildcard: *.name and the name; the others the name alone.
export function domainCheck(product, domain) {
	const typed = trimBlanks(domain);
	const wild = product === "business_wildcard";
	if (typed === "")
		return { msg: "Please enter the domain the certificate is " +
		    "for." };
	const echo = echoOf(typed);
	let s = typed;
	if (s.startsWith("*.") && !wild)
		return { msg: "Wildcard names (*.) need an SSL Business " +
		    "Wildcard certificate; enter the domain without \"*.\"." };
	if (wild && s.startsWith("*."))
		s = s.slice(2);
	const r = normName(s);
	if (r.why)
		return { msg: refused(typed, echo, wild, r.why) };
	const base = r.name;
	if (product === "starter") {
		const b = base.startsWith("www.") ? base.slice(4) : base;
		if (b.length + 4 > DNSNAME_MAX)
			return { msg: "This domain is too long for this " +
			    "certificate, which also covers its www form: " +
			    `"${echo}" has ${b.length} characters without ` +
			    `"www.", at most ${DNSNAME_MAX - 4} are allowed.` };
		for (const n of [b, "www." + b]) {
			const x = normName(n);
			if (x.why)
				return { msg: "This domain cannot be used " +
				    `with its www form: "${echo}" is ` +
				    `refused (${dnsDetail(n, x.why)}).` };
		}
		return { names: [b, "www." + b] };
	}
	if (wild) {
		if (base.length + 2 > DNSNAME_MAX)
			return { msg: "This domain is too long for this " +
			    "certificate, which also covers its wildcard " +
			    `form (*.): "${echo}" has ${base.length} ` +
			    `characters, at most ${DNSNAME_MAX - 2} are ` +
			    "allowed." };
		return { names: ["*." + base, base] };
	}
	return { names: [base] };
}

// The server's email_ok(), text_ok(), phone_ok(), country_ok().
function textOk(s, max) {
	return charsOf(s) <= max && !/[\x00-\x1f\x7f]/.test(s);
}

function emailOk(e) {
	if (!textOk(e, 254) || e.includes(" ") || e.includes(","))
		return false;
	const at = e.indexOf("@");
	if (at <= 0 || e.indexOf("@", at + 1) >= 0)
		return false;
	const dot = e.lastIndexOf(".");
	return dot > at + 1 && dot < e.length - 1;
}

function phoneOk(p) {
	if (!textOk(p, 32))
		return false;
	let digits = 0;
	for (const c of p) {
		if (c >= "0" && c <= "9")
			digits++;
		else if (!"+-()/. ".includes(c))
			return false;
	}
	return digits >= 5;
}

const countryOk = (c) => /^[A-Z]{2}$/.test(c);

// Country codes as the server reads them: trimmed, upper case (ASCII).
export const countryCode = (c) => trimBlanks(c).replace(/[a-z]/g,
    (x) => x.toUpperCase());

const CATEGORIES = ["Private Organization", "Government Entity",
	"Business Entity", "Non-Commercial Entity"];

// The server's check_contact(): the messages name the contact.
function contactErrors(err, p, label, v) {
	const name = v(`${p}_name`), email = v(`${p}_email`);
	const phone = v(`${p}_phone`);
	if (name === "")
		err(`${p}_name`, `Please enter the name of the ${label}.`);
	else if (!textOk(name, 128))
		err(`${p}_name`, `The name of the ${label} may have at most ` +
		    "128 characters.");
	if (email === "")
		err(`${p}_email`, "Please enter the email address of the " +
		    `${label}.`);
	else if (!emailOk(email))
		err(`${p}_email`, `The email address of the ${label} is not ` +
		    "valid (name@example.com).");
	if (phone === "")
		err(`${p}_phone`, "Please enter the phone number of the " +
		    `${label}; the certificate authority calls it to verify ` +
		    "the order.");
	else if (!phoneOk(phone))
		err(`${p}_phone`, `The phone number of the ${label}: use ` +
		    "digits, spaces and + - ( ) / . only, at least 5 digits " +
		    "(e.g. +49 721 123456).");
}

// The server's check_org(), in its order.
const ORG_TEXT = [
	["org_legal_name", 64, "Please enter the organisation's legal name, " +
	    "as registered.", "The legal name"],
	["org_street", 128, "Please enter the street address.",
	    "The street address"],
	["org_postal_code", 16, "Please enter the postal code.",
	    "The postal code"],
	["org_locality", 128, "Please enter the city.", "The city"],
];

function orgErrors(err, ev, v, get) {
	for (const [f, max, empty, what] of ORG_TEXT) {
		if (v(f) === "")
			err(f, empty);
		else if (!textOk(v(f), max))
			err(f, `${what} may have at most ${max} characters.`);
	}
	if (!textOk(v("org_state"), 128))
		err("org_state", "The state or region may have at most 128 " +
		    "characters.");
	const country = countryCode(get("org_country"));
	if (country === "")
		err("org_country", "Please enter the country (two-letter " +
		    "code, e.g. DE).");
	else if (!countryOk(country))
		err("org_country", "Use the two-letter country code (ISO " +
		    "3166), e.g. DE.");
	if (!ev)
		return;
	const reg = v("org_registration_number");
	if (reg === "")
		err("org_registration_number", "Please enter the " +
		    "registration number (e.g. HRB 12345).");
	else if (!textOk(reg, 64))
		err("org_registration_number", "The registration number may " +
		    "have at most 64 characters.");
	const j = countryCode(get("org_jurisdiction"));
	if (j === "")
		err("org_jurisdiction", "Please enter the country of " +
		    "incorporation (two-letter code, e.g. DE).");
	else if (!countryOk(j))
		err("org_jurisdiction", "Use the two-letter country code " +
		    "(ISO 3166) for the country of incorporation, e.g. DE.");
	if (!CATEGORIES.includes(v("org_business_category")))
		err("org_business_category", "Please choose the business " +
		    "category.");
}

// Every field's message, as the server gives them and in its order (the
// CSR aside): [{ field, msg }], empty when the browser finds nothing.
// product: the slot's product; get(name): the field's value ("" when
// absent; "1" for a ticked terms box).
export function formErrors(product, get) {
	const out = [];
	const err = (field, msg) => {
		if (!out.some((e) => e.field === field))
			out.push({ field, msg });
	};
	const v = (name) => trimBlanks(get(name));

	const d = domainCheck(product, get("domain"));
	if (d.msg)
		err("domain", d.msg);
	if (!["hosting", "server"].includes(v("purpose")))
		err("purpose", "Please choose what the certificate is for.");
	if (["business", "business_wildcard", "premium"].includes(product)) {
		contactErrors(err, "admin", "administrative contact", v);
		contactErrors(err, "tech", "technical contact", v);
		orgErrors(err, product === "premium", v, get);
	}
	if (get("terms") !== "1")
		err("terms", "Please accept the terms of use.");
	return out;
}

// Whether every name of old (space-separated) is among names, itself or
// under one of its wildcards (one label), as the server's name_covered():
// a new certificate that does not cover the old one's names replaces it.
export function uncovered(oldNames, names) {
	const has = (o) => names.some((n) => n === o || (n.startsWith("*.") &&
	    !o.startsWith("*.") && o.indexOf(".") > 0 &&
	    o.slice(o.indexOf(".") + 1) === n.slice(2)));
	return String(oldNames || "").split(" ").filter((o) => o && !has(o));
}
