// SPDX-License-Identifier: Apache-2.0
//
// The overview's domain validation card (src/portal/dv.c), in the
// customer's browser: "Copy" buttons next to the DNS record and the file
// the customer must place (the buttons stay hidden without JavaScript,
// the values can still be selected), and the overview's reload while a
// name waits for the customer (section[data-reload]: every N seconds, but
// never while they are using the page: focus in a form, a method form
// open, text selected). Sends nothing anywhere.

const busy = () => {
	const a = document.activeElement;
	if (a && a !== document.body && a.closest("form, details"))
		return true;
	if (document.querySelector("details.dv-switch[open]"))
		return true;
	const sel = window.getSelection && window.getSelection();
	return !!(sel && String(sel).length > 0);
};

async function copyText(text) {
	if (navigator.clipboard && window.isSecureContext) {
		await navigator.clipboard.writeText(text);
		return;
	}
	const t = document.createElement("textarea");
	t.value = text;
	t.setAttribute("readonly", "");
	t.style.position = "fixed";
	t.style.opacity = "0";
	document.body.appendChild(t);
	t.select();
	document.execCommand("copy");
	t.remove();
}

export function start() {
	// choosing an address picks "By email" too
	for (const s of document.querySelectorAll(
	    "details.dv-switch select[name=email_to]")) {
		s.addEventListener("change", () => {
			const r = s.form.querySelector(
			    "input[name=method][value=email]");
			if (r)
				r.checked = true;
		});
	}
	for (const b of document.querySelectorAll("button.dv-copy[data-copy]")) {
		const src = document.getElementById(b.dataset.copy);
		if (!src)
			continue;
		b.hidden = false;
		b.addEventListener("click", async () => {
			const label = b.firstChild;
			try {
				await copyText(src.textContent);
				label.textContent = "Copied";
			} catch (e) {
				// select it so that Ctrl+C works
				const r = document.createRange();
				r.selectNodeContents(src);
				const s = window.getSelection();
				s.removeAllRanges();
				s.addRange(r);
				label.textContent = "Press Ctrl+C";
			}
			setTimeout(() => { label.textContent = "Copy"; }, 2500);
		});
	}
	const sec = document.querySelector("[data-reload]");
	const every = sec ? Number(sec.dataset.reload) : 0;
	if (every > 0) {
		const tick = () => {
			if (busy() || document.hidden)
				setTimeout(tick, every * 1000);
			else
				window.location.reload();
		};
		setTimeout(tick, every * 1000);
	}
}
