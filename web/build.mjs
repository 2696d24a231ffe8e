// SPDX-License-Identifier: Apache-2.0
//
// Bundles the browser code (src/portal.js and what it imports, PKI.js and
// asn1js included) into dist/portal.js, minified, with a source map. Run at
// build time on the build machine by scripts/web.sh; nothing is fetched at
// run time.

import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

await build({
	entryPoints: [path.join(here, "src", "portal.js")],
	outfile: path.join(here, "dist", "portal.js"),
	bundle: true,
	minify: true,
	sourcemap: true,
	format: "iife",
	platform: "browser",
	target: ["chrome109", "firefox115", "safari16", "edge109"],
	legalComments: "linked",
	logLevel: "warning",
});
