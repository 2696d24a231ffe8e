// SPDX-License-Identifier: Apache-2.0
//
// Documents with the customer's answer to validation staff, through the
// real pages in headless Debian Chromium against a real `certdesk serve`:
// the customer orders SSL Business; an agent takes the case and asks for
// information; the customer's order page shows the question and an answer
// form whose file input has its label and its limits, reached in order
// with the keyboard; an HTML page named .png among a good PDF is refused
// with the reason on the page and nothing is kept; the answer with a PDF
// and a PNG (chosen with the file input) is thanked for and listed; the
// agent's case page lists both, and a download is byte for byte the file.
// Every page at 390 and 320 CSS pixels: nothing scrolls sideways, long
// file names and SHA-256 values wrap. Screenshots:
// tests/artifacts/docs-NN-<name>.png.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

import { Rig, OV_STEPS, artifacts } from "./backoffice_rig.mjs";

const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 " +
    "R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
    "trailer << /Root 1 0 R >>\n%%EOF\n");
const HTML = Buffer.from("<!DOCTYPE html><script>alert(document.cookie)" +
    "</script>");
// a name as a scanner or a register's web site makes them: long, no
// spaces to break at
const PDF_NAME = "Handelsregisterauszug_HRB700001_Amtsgericht_Mannheim_" +
    "Beispiel_Shop_Handels_GmbH_2026-11-05.pdf";
const PNG_NAME = "utility-bill.png";

function crc32(buf) {
	let c = ~0;
	for (const byte of buf) {
		c ^= byte;
		for (let k = 0; k < 8; k++)
			c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c >>> 0;
}

// a 2x2 PNG, red
function png() {
	const chunk = (kind, data) => {
		const len = Buffer.alloc(4), crc = Buffer.alloc(4);
		const body = Buffer.concat([Buffer.from(kind), data]);
		len.writeUInt32BE(data.length);
		crc.writeUInt32BE(crc32(body));
		return Buffer.concat([len, body, crc]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(2, 0);
	ihdr.writeUInt32BE(2, 4);
	ihdr.set([8, 2, 0, 0, 0], 8);
	const row = [0, 255, 0, 0, 255, 0, 0];
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d,
	    0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT",
	    zlib.deflateSync(Buffer.from([...row, ...row]))),
	    chunk("IEND", Buffer.alloc(0))]);
}
const PNG = png();
const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

const WIDTHS = [390, 320];

describe("documents with the customer's answer, in the browser", () => {
	const rig = new Rig("docs", "business", "shop.beispiel.test");
	let customer, agent, orderId, caseId;

	before(async () => {
		await rig.start([["ann", "Ann Agent"]]);
		customer = await rig.person("customer");
		agent = await rig.person("ann");
	});

	after(async () => {
		await rig.stop();
	});

	// The page now, at the desktop's width and then at each phone's:
	// nothing wider than the window, a screenshot each; back to the
	// desktop.
	async function shots(page, name) {
		await rig.screenshot(page, name);
		for (const w of WIDTHS) {
			await page.setViewportSize({ width: w, height: 844 });
			const wide = await page.evaluate((w) => {
				const out = [];
				for (const e of document.querySelectorAll(
				    "body *")) {
					const b = e.getBoundingClientRect();
					if (b.width > 0 && b.right > w + 0.5 &&
					    !e.closest(".bo-scroll"))
						out.push(`${e.tagName}.` +
						    `${e.className}#${e.id} ` +
						    Math.round(b.right));
				}
				return { sw: document.documentElement
				    .scrollWidth, out: out.slice(0, 5) };
			}, w);
			await rig.screenshot(page, `${name}-${w}`);
			assert.ok(wide.sw <= w && wide.out.length === 0,
			    `${name} at ${w} px is ${wide.sw} px wide: ` +
			    wide.out.join("; "));
		}
		await page.setViewportSize({ width: 1100, height: 900 });
	}

	// The agent's case page's documents, as the agent reads them.
	async function caseDocs() {
		return agent.$$eval("#case-docs tbody tr", (rs) => rs.map(
		    (r) => [...r.cells].map((c) => c.textContent.trim())));
	}

	test("an agent asks an OV order's customer for documents",
	    async () => {
		await rig.login(customer, rig.customerEmail);
		orderId = await rig.order(customer,
		    { legal_name: "Beispiel Shop GmbH" });
		await rig.login(agent, rig.agents.ann);
		caseId = await rig.openCase(agent);
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-take")]);
		for (const [step, fields] of Object.entries(OV_STEPS))
			await rig.evidence(agent, step, fields);
		await agent.fill("#t-request-info", "Please send a current " +
		    "register extract and a utility bill for the address.");
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-request-info")]);
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "info_requested");
	});

	test("the overview and the order's page ask, with the limits",
	    async () => {
		await customer.goto(rig.url("/portal/overview"));
		const card = customer.locator(`#org-info-${orderId}`);
		assert.match(await card.textContent(), /utility bill/);
		assert.equal(await card.locator("input[type=file]").count(), 1);
		await shots(customer, "overview-info-request");
		await customer.goto(rig.url(`/portal/orders/${orderId}`));
		const form = customer.locator(`#org-info-${orderId} form`);
		assert.equal(await form.getAttribute("enctype"),
		    "multipart/form-data");
		// the file input is named by its label and described by the
		// limits: what a screen reader says on reaching it
		const input = customer.getByLabel("Documents (optional)");
		assert.equal(await input.getAttribute("type"), "file");
		assert.equal(await input.getAttribute("name"), "documents");
		assert.notEqual(await input.getAttribute("multiple"), null);
		const hint = await customer.textContent("#" + await input
		    .getAttribute("aria-describedby"));
		assert.match(hint, new RegExp("Up to 5 files, PDF, PNG or " +
		    "JPEG, of at most 10 MiB each\\."));
		// read before the file is chosen: between the label and the
		// button that chooses
		const y = await customer.evaluate((id) => [
		    `label[for=org-docs-${id}]`, `#org-docs-hint-${id}`,
		    `#org-docs-${id}`].map((s) => document.querySelector(s)
		    .getBoundingClientRect().top), orderId);
		assert.ok(y[0] < y[1] && y[1] < y[2],
		    `label, hint, input: ${y}`);
		await shots(customer, "order-info-request");
	});

	test("the form in the keyboard's order: answer, files, send",
	    async () => {
		await customer.focus(`#org-answer-${orderId}`);
		const order = [];
		for (let i = 0; i < 2; i++) {
			await customer.keyboard.press("Tab");
			order.push(await customer.evaluate(() => {
				const e = document.activeElement;
				return e.id || `${e.tagName}:${e.textContent}`;
			}));
		}
		assert.deepEqual(order, [`org-docs-${orderId}`,
		    "BUTTON:Send answer"]);
		// the focus is seen where it is
		const ring = await customer.evaluate(() => {
			const s = getComputedStyle(document.activeElement);
			return s.outlineStyle !== "none" &&
			    parseFloat(s.outlineWidth) > 0;
		});
		assert.ok(ring, "the focused button shows its focus");
	});

	test("an HTML page named .png is refused; nothing is kept",
	    async () => {
		const card = customer.locator(`#org-info-${orderId}`);
		await card.locator("textarea").fill("Both attached.");
		await card.locator("input[type=file]").setInputFiles([
		    { name: PDF_NAME, mimeType: "application/pdf",
		    buffer: PDF },
		    { name: "logo.png", mimeType: "image/png",
		    buffer: HTML }]);
		await Promise.all([customer.waitForNavigation(),
		    card.locator("button[type=submit]").click()]);
		// the order's page again (422): why, with the focus on it,
		// and the text as typed; the files are to be chosen again
		assert.match(await customer.textContent("#error-summary"),
		    /Nothing was sent: the file "logo\.png" is not a PDF/);
		assert.match(await customer.textContent("#error-summary"),
		    /choose the files again/);
		assert.match(await customer.title(), /^Error: /);
		assert.equal(await customer.evaluate(() =>
		    document.activeElement.id), "error-summary");
		assert.equal(await customer.locator(
		    `#org-info-${orderId} textarea`).inputValue(),
		    "Both attached.");
		// the question stays open, nothing was sent
		assert.equal(await customer.locator(`#org-info-${orderId}`)
		    .count(), 1);
		assert.equal(await customer.locator("#org-docs").count(), 0);
		await shots(customer, "order-refused");
		await agent.reload();
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "info_requested");
		assert.equal(await agent.locator("#case-docs").count(), 0);
		assert.match(await agent.textContent("#info-response"),
		    /No answer yet/);
	});

	test("the answer with a PDF and a PNG is sent and listed",
	    async () => {
		const card = customer.locator(`#org-info-${orderId}`);
		await card.locator("textarea").fill("The register extract " +
		    "and our electricity bill are attached.");
		await card.locator("input[type=file]").setInputFiles([
		    { name: PDF_NAME, mimeType: "application/pdf",
		    buffer: PDF },
		    { name: PNG_NAME, mimeType: "image/png", buffer: PNG }]);
		await Promise.all([customer.waitForNavigation(),
		    card.locator("button[type=submit]").click()]);
		assert.match(await customer.textContent("#flash"),
		    /Thank you: your answer and 2 documents were sent/);
		assert.equal(await customer.locator(`#org-info-${orderId}`)
		    .count(), 0);
		const items = await customer.$$eval("#org-docs li",
		    (ls) => ls.map((l) => l.textContent));
		assert.equal(items.length, 2);
		assert.ok(items[0].includes(PDF_NAME), items[0]);
		// the type in the customer's words, not a media type
		assert.match(items[0], /\(PDF, 142 bytes\), sent /);
		assert.match(items[1], /utility-bill\.png \(PNG, \d+ bytes\)/);
		for (const i of items)
			assert.match(i, /\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC/);
		await shots(customer, "order-documents-sent");
	});

	test("the agent sees both documents and downloads one",
	    async () => {
		await agent.reload();
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "in_review");
		assert.match(await agent.textContent("#info-response"),
		    /electricity bill/);
		const rows = await caseDocs();
		assert.equal(rows.length, 2);
		assert.equal(rows[0][0], PDF_NAME);
		assert.equal(rows[1][0], PNG_NAME);
		const text = rows.map((r) => r.join(" ")).join("\n");
		assert.ok(text.includes(sha256(PDF)), text);
		assert.ok(text.includes(sha256(PNG)), text);
		// on a desktop the table fits its box: no column of it out
		// of sight; a SHA-256 wraps in two lines of 32 digits, a
		// long file name between letters
		const box = await agent.$eval("#case-docs", (t) => {
			const s = t.closest(".bo-scroll");
			return [s.scrollWidth, s.clientWidth];
		});
		assert.ok(box[0] <= box[1], "the documents' table is " +
		    `${box[0]} px wide in a box of ${box[1]}`);
		const lines = await agent.$$eval("#case-docs code", (cs) =>
		    cs.map((c) => {
			const r = document.createRange();
			const n = c.firstChild, tops = new Set();
			for (let i = 0; i < n.length; i++) {
				r.setStart(n, i);
				r.setEnd(n, i + 1);
				tops.add(Math.round(r.getBoundingClientRect()
				    .top));
			}
			return tops.size;
		}));
		assert.deepEqual(lines, [2, 2], "SHA-256 lines");
		await shots(agent, "agent-case-documents");
		// the card alone, readable at full size
		await agent.locator("section:has(#case-docs)").screenshot({
		    path: path.join(artifacts, "docs-agent-documents-card.png")
		});
		for (const [i, want] of [[0, PDF], [1, PNG]]) {
			const [dl] = await Promise.all([
			    agent.waitForEvent("download"),
			    agent.locator("#case-docs tbody tr a").nth(i)
			    .click()]);
			const f = path.join(rig.tmp, `download-${i}`);
			await dl.saveAs(f);
			assert.ok(fs.readFileSync(f).equals(want),
			    `download ${i} is the file sent`);
		}
		assert.deepEqual(rig.errors, []);
	});
});
