// SPDX-License-Identifier: Apache-2.0
//
// A real authoritative DNS server for the browser tests: Knot DNS (knotd,
// Debian package knot) started unprivileged on a free loopback port, with a
// TSIG key that may update TXT records (RFC 2136), as "our nameservers"
// or as a customer's DNS host. Modelled on tests/integration/dns_rig.py's
// Knot class (same configuration); stopped by PID.
//
//   const key = tsigKey();                       // hmac-sha256, fresh
//   const knot = await startKnot(dir, { "shop.test.": zoneText(...) }, key);
//   knot.endpoint                                 // "127.0.0.1:N"
//   knot.dig("_acme-challenge.shop.test", "TXT") // +short lines
//   knot.update("shop.test.", ["update add ... TXT \"v\""])
//   dnsupdateConf(knot, key, "dns-tsig.secret")  // certdesk [dnsupdate]
//   await knot.stop();

import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const ADDR = "127.0.0.1";

export function tsigKey(name = "certdesk-update.") {
	return { name, algorithm: "hmac-sha256",
	    secret: crypto.randomBytes(32).toString("base64") };
}

// A loopback port free for both TCP and UDP a moment ago.
export async function freeDnsPort() {
	for (let i = 0; i < 100; i++) {
		const port = await new Promise((resolve, reject) => {
			const s = net.createServer();
			s.listen(0, ADDR, () => {
				const p = s.address().port;
				s.close(() => resolve(p));
			});
			s.on("error", reject);
		});
		const ok = await new Promise((resolve) => {
			const u = dgram.createSocket("udp4");
			u.on("error", () => resolve(false));
			u.bind(port, ADDR, () => u.close(() => resolve(true)));
		});
		if (ok)
			return port;
	}
	throw new Error("no free port for DNS");
}

const fqdn = (n) => (n.endsWith(".") ? n : n + ".");

// A zone: SOA, NS ns1 (with an A record), then the extra lines.
export function zoneText(zone, extra = "") {
	zone = fqdn(zone);
	return [`$ORIGIN ${zone}`, "$TTL 60",
	    // negative answers cached for 1 s: a record added after a
	    // failed check is seen by the next one
	    "@ SOA ns1 hostmaster 1 3600 600 86400 1", "@ NS ns1",
	    `ns1 A ${ADDR}`, ...extra.split("\n").filter((l) => l.trim())]
	    .join("\n") + "\n";
}

export function dig(port, name, type) {
	const r = spawnSync("kdig", [`@${ADDR}`, "-p", String(port), "+short",
	    "+norec", "+timeout=1", "+retry=0", name, type],
	    { encoding: "utf8", timeout: 10000 });
	return (r.stdout || "").split("\n").filter((l) => l.trim());
}

export async function startKnot(workdir, zones, key) {
	const dir = path.resolve(workdir);
	fs.mkdirSync(path.join(dir, "db"), { recursive: true });
	const port = await freeDnsPort();
	let conf = `server:
    rundir: "${dir}"
    listen: ${ADDR}@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "${dir}/db"
control:
    listen: "${dir}/knot.sock"
key:
  - id: ${key.name}
    algorithm: ${key.algorithm}
    secret: ${key.secret}
acl:
  - id: update
    key: ${key.name}
    action: update
    update-type: [TXT]
zone:
`;
	for (const [name, text] of Object.entries(zones)) {
		const file = fqdn(name).replace(/\.$/, "") + ".zone";
		fs.writeFileSync(path.join(dir, file), text);
		conf += `  - domain: ${fqdn(name)}
    storage: "${dir}"
    file: "${file}"
    zonefile-sync: -1
    acl: [update]
`;
	}
	const confFile = path.join(dir, "knot.conf");
	fs.writeFileSync(confFile, conf);
	const log = path.join(dir, "knot.log");
	const fd = fs.openSync(log, "a");
	const proc = spawn("knotd", ["-c", confFile],
	    { stdio: ["ignore", fd, fd], cwd: dir });
	fs.closeSync(fd);
	const deadline = Date.now() + 15000;
	for (;;) {
		if (Object.keys(zones).every((z) =>
		    dig(port, fqdn(z), "SOA").length > 0))
			break;
		if (proc.exitCode !== null || Date.now() > deadline) {
			proc.kill("SIGKILL");
			throw new Error("knotd did not start:\n" +
			    fs.readFileSync(log, "utf8"));
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	return {
		addr: ADDR, port, endpoint: `${ADDR}:${port}`, log, key,
		dig: (name, type) => dig(port, name, type),
		// one RFC 2136 update, signed with the key (knsupdate)
		update(zone, lines) {
			const script = `server ${ADDR} ${port}\nzone ` +
			    `${fqdn(zone)}\n` + lines.map((l) => l + "\n")
			    .join("") + "send\nquit\n";
			const r = spawnSync("knsupdate", ["-t", "3", "-r", "0",
			    "-y", `${key.algorithm}:${key.name}:${key.secret}`],
			    { input: script, encoding: "utf8", timeout: 20000 });
			return { status: r.status, out: r.stdout + r.stderr };
		},
		async stop() {
			if (proc.exitCode !== null)
				return;
			const done = new Promise((r) => proc.on("exit", r));
			proc.kill("SIGTERM");
			await done;
		},
	};
}

// The [dnsupdate] section of certdesk.conf: our nameserver at knot, the
// TSIG secret in secretFile (relative to the data directory).
export function dnsupdateConf(knot, key, secretFile) {
	return `\n[dnsupdate]\nserver = ${knot.endpoint}\n` +
	    `check = ${knot.endpoint}\ntsig_name = ${key.name}\n` +
	    `tsig_algorithm = ${key.algorithm}\n` +
	    `tsig_secret_file = ${secretFile}\n`;
}
