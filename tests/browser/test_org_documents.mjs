// SPDX-License-Identifier: Apache-2.0
//
// Documents with the customer's answer to validation staff, through the
// real pages in headless Debian Chromium against a real `certdesk serve`:
// the customer orders SSL Business; an agent takes the case and asks for
// information; the customer's order page shows the question and an answer
// form whose file input has its label and its limits, reached in order
// with the keyboard; an HTML page named .png among a good PDF is refused
// with the reason on the page and nothing is kept; the answer with a PDF
// and a PNG (chosen with the file input) is thanked for and listed under
// it; the agent's case page lists both under the answer, and a download is
// byte for byte the file. A second round (the agent asks again, the
// customer answers with another document): the order's page shows the
// earlier round above the new question, then the whole conversation, each
// document under its answer, who said what and when; the case page the
// same with the staff's names. Every page at 390 and 320 CSS pixels:
// nothing scrolls sideways, long file names and SHA-256 values wrap.
// Screenshots: tests/artifacts/docs-NN-<name>.png.

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
// a time as the pages write it (util/timefmt)
const TIME = "\\d{1,2} [A-Z][a-z]{2} \\d{4}, \\d\\d:\\d\\d UTC";

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

	// A card alone, readable at full size, at the desktop's width and
	// a phone's.
	async function cardShots(page, sel, name) {
		for (const w of [1100, 390]) {
			await page.setViewportSize({ width: w, height: 900 });
			await page.locator(sel).screenshot({ path: path.join(
			    artifacts, `docs-${name}-${w}.png`) });
		}
		await page.setViewportSize({ width: 1100, height: 900 });
	}

	// The agent's case page's documents (of one answer, by its
	// selector), as the agent reads them.
	async function caseDocs(sel = ".case-docs") {
		return agent.$$eval(`${sel} tbody tr`, (rs) => rs.map(
		    (r) => [...r.cells].map((c) => c.textContent.trim())));
	}

	// The conversation as people read it: [who and when, text, [the
	// documents listed under it]] per message.
	async function thread(page, sel, head) {
		return page.$$eval(sel, (ls, head) => ls.map((l) => [
		    l.querySelector(head).textContent.replace(/\s+/g, " ")
		    .trim(), l.querySelector("blockquote").textContent,
		    [...l.querySelectorAll(".org-docs li, .case-docs tbody tr")]
		    .map((d) => d.textContent.replace(/\s+/g, " ").trim())]),
		    head);
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
		assert.equal(await customer.locator(".org-docs").count(), 0);
		await shots(customer, "order-refused");
		await agent.reload();
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "info_requested");
		assert.equal(await agent.locator(".case-docs").count(), 0);
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
		// the question and the answer, the documents under it
		const msgs = await thread(customer,
		    `#org-thread-${orderId} li.org-msg`, ".org-msg-head");
		assert.equal(msgs.length, 2);
		assert.match(msgs[0][0], new RegExp("^Our validation team " +
		    `asked ${TIME}$`));
		assert.match(msgs[0][1], /utility bill for the address/);
		assert.deepEqual(msgs[0][2], []);
		assert.match(msgs[1][0], new RegExp(`^You answered ${TIME}$`));
		assert.match(msgs[1][1], /electricity bill are attached/);
		const items = msgs[1][2];
		assert.equal(items.length, 2);
		assert.ok(items[0].includes(PDF_NAME), items[0]);
		// the type in the customer's words, not a media type
		assert.match(items[0], /\(PDF, 142 bytes\)$/);
		assert.match(items[1], /utility-bill\.png \(PNG, \d+ bytes\)/);
		await shots(customer, "order-documents-sent");
	});

	test("the agent sees both documents and downloads one",
	    async () => {
		await agent.reload();
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "in_review");
		const msgs = await thread(agent,
		    "#case-thread li.bo-thread-msg", ".bo-thread-head");
		assert.equal(msgs.length, 2);
		assert.match(msgs[0][0], new RegExp("^Request 1 by Ann " +
		    `Agent, ${TIME}$`));
		assert.match(msgs[1][0], new RegExp("^Answer to request 1 by " +
		    `Dana Demo, ${TIME}$`));
		assert.match(msgs[1][1], /electricity bill/);
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
		const box = await agent.$eval(".case-docs", (t) => {
			const s = t.closest(".bo-scroll");
			return [s.scrollWidth, s.clientWidth];
		});
		assert.ok(box[0] <= box[1], "the documents' table is " +
		    `${box[0]} px wide in a box of ${box[1]}`);
		const lines = await agent.$$eval(".case-docs code", (cs) =>
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
		await agent.locator("#case-thread").screenshot({
		    path: path.join(artifacts, "docs-agent-documents-card.png")
		});
		for (const [i, want] of [[0, PDF], [1, PNG]]) {
			const [dl] = await Promise.all([
			    agent.waitForEvent("download"),
			    agent.locator(".case-docs tbody tr a").nth(i)
			    .click()]);
			const f = path.join(rig.tmp, `download-${i}`);
			await dl.saveAs(f);
			assert.ok(fs.readFileSync(f).equals(want),
			    `download ${i} is the file sent`);
		}
		assert.deepEqual(rig.errors, []);
	});

	test("asked again: the earlier round above the new question",
	    async () => {
		await agent.fill("#t-request-info", "Which register court " +
		    "keeps your entry? A letter from it would help.");
		await Promise.all([agent.waitForNavigation(),
		    agent.click("#do-request-info")]);
		assert.equal(await agent.getAttribute("#case-state",
		    "data-state"), "info_requested");
		assert.match(await agent.textContent("#info-response"),
		    /No answer yet/);
		await customer.goto(rig.url(`/portal/orders/${orderId}`));
		const earlier = customer.locator(`#org-thread-${orderId}`);
		assert.match(await earlier.locator("h2").textContent(),
		    /^Earlier questions and your answers$/);
		const msgs = await thread(customer,
		    `#org-thread-${orderId} li.org-msg`, ".org-msg-head");
		assert.equal(msgs.length, 2);
		assert.equal(msgs[1][2].length, 2);
		// the question now, with when it was asked, under them
		const card = customer.locator(`#org-info-${orderId}`);
		assert.match(await card.locator("blockquote").textContent(),
		    /Which register court/);
		assert.match(await card.textContent(),
		    new RegExp(`Asked ${TIME}`));
		const y = await customer.evaluate((id) => [
		    `#org-thread-${id}`, `#org-info-${id}`].map((s) =>
		    document.querySelector(s).getBoundingClientRect().top),
		    orderId);
		assert.ok(y[0] < y[1], `earlier round, question: ${y}`);
		await shots(customer, "order-second-request");
		// the overview: the question, the answer before it, and the
		// way to the rest
		await customer.goto(rig.url("/portal/overview"));
		const over = customer.locator(`#org-info-${orderId}`);
		assert.match(await over.textContent(),
		    /Your answer to the earlier request/);
		await over.screenshot({ path: path.join(artifacts,
		    "docs-overview-second-request-card.png") });
		await Promise.all([customer.waitForNavigation(),
		    over.getByRole("link", {
		    name: new RegExp("^Every earlier question and your " +
		    "answers, with the documents you sent") }).click()]);
		assert.ok(customer.url().endsWith(`/portal/orders/${orderId}` +
		    `#org-thread-${orderId}`), customer.url());
	});

	test("the second answer: the whole conversation, on both pages",
	    async () => {
		const card = customer.locator(`#org-info-${orderId}`);
		await card.locator("textarea").fill("Amtsgericht Mannheim; " +
		    "its letter is attached.\nHRB 700001.");
		await card.locator("input[type=file]").setInputFiles([
		    { name: "Amtsgericht-Mannheim-letter.pdf",
		    mimeType: "application/pdf", buffer: PDF }]);
		await Promise.all([customer.waitForNavigation(),
		    card.locator("button[type=submit]").click()]);
		assert.match(await customer.textContent("#flash"),
		    /your answer and 1 document were sent/);
		const mine = await thread(customer,
		    `#org-thread-${orderId} li.org-msg`, ".org-msg-head");
		assert.deepEqual(mine.map((m) => m[0].replace(
		    new RegExp(` ${TIME}$`), "")), ["Our validation team asked",
		    "You answered", "Our validation team asked",
		    "You answered"]);
		assert.match(mine[2][1], /Which register court/);
		assert.match(mine[3][1], /Amtsgericht Mannheim/);
		// each answer's documents under it, and only there
		assert.equal(mine[1][2].length, 2);
		assert.deepEqual(mine[3][2], ["Amtsgericht-Mannheim-" +
		    "letter.pdf (PDF, 142 bytes)"]);
		await shots(customer, "order-conversation");
		await cardShots(customer, `#org-thread-${orderId}`,
		    "order-conversation-card");

		await agent.reload();
		const msgs = await thread(agent,
		    "#case-thread li.bo-thread-msg", ".bo-thread-head");
		assert.deepEqual(msgs.map((m) => m[0].replace(
		    new RegExp(`, ${TIME}$`), "")), [
		    "Request 1 by Ann Agent",
		    "Answer to request 1 by Dana Demo",
		    "Request 2 by Ann Agent",
		    "Answer to request 2 by Dana Demo"]);
		assert.equal(msgs[1][2].length, 2);
		assert.equal(msgs[3][2].length, 1);
		assert.match(msgs[3][2][0],
		    /^Amtsgericht-Mannheim-letter\.pdf/);
		assert.equal(await agent.locator("#info-response").count(), 0);
		await shots(agent, "agent-conversation");
		await cardShots(agent, "#case-thread",
		    "agent-conversation-card");
		assert.deepEqual(rig.errors, []);
	});
});
