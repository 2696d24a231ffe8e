// SPDX-License-Identifier: Apache-2.0
//
// The portfolio's gear menus (details.gear, src/portal/portal.c): a
// <details> opens and closes with the mouse and the keyboard without any
// script; this adds what a menu is expected to do besides. Opening one
// closes the others, Escape closes the open one (focus back on its
// button), and so does a click or focus elsewhere on the page. Sends
// nothing anywhere.

const GEAR = "details.gear";

function close(d, focus) {
	d.open = false;
	if (focus) {
		const s = d.querySelector("summary");
		if (s)
			s.focus();
	}
}

export function start() {
	const gears = Array.from(document.querySelectorAll(GEAR));
	if (gears.length === 0)
		return;
	for (const d of gears) {
		d.addEventListener("toggle", () => {
			if (!d.open)
				return;
			for (const o of gears)
				if (o !== d && o.open)
					close(o, false);
		});
		// keyboard: tabbing out of a menu closes it
		d.addEventListener("focusout", (e) => {
			if (d.open && e.relatedTarget &&
			    !d.contains(e.relatedTarget))
				close(d, false);
		});
	}
	document.addEventListener("keydown", (e) => {
		if (e.key !== "Escape")
			return;
		for (const d of gears)
			if (d.open) {
				close(d, d.contains(document.activeElement));
				e.preventDefault();
			}
	});
	document.addEventListener("click", (e) => {
		for (const d of gears)
			if (d.open && !d.contains(e.target))
				close(d, false);
	});
}
