// lib.mjs - what the browser tests share: Chromium, users of their own,
// sign-in with a TOTP code, mail through the stack's Postfix, the
// database for set-up and checks, screenshots.
//
// The tests drive the running stack of ./dev.sh (variables of
// `./dev.sh env`); tests/integration/99b-web-browser.sh runs them. Every
// value a test looks for is made in the test (users, subjects, bodies),
// so that the pages of a stack that other tests share cannot fool it.

import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const SRCDIR = process.env.top_srcdir || join(HERE, '..', '..');
export const BUILDDIR = process.env.top_builddir || SRCDIR;

// MAILROOM_URL is http://127.0.0.1:PORT/mailroom.cgi: SN is its path.
export const URL_BASE = process.env.MAILROOM_URL || '';
export const ORIGIN = URL_BASE ? new URL(URL_BASE).origin : '';
export const SN = URL_BASE ? new URL(URL_BASE).pathname.replace(/\/$/, '') : '';
export const APP_HOST = URL_BASE ? new URL(URL_BASE).host : '';

// Screenshots and page dumps of a run: kept, never checked in.
export const ARTEFACTS = process.env.MAILROOM_ARTEFACTS || join(SRCDIR, '.run', 'artefacts', 'browser');

// A token unique to this run, in every login, subject and text we make.
export const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

// The classes of keys 1 to 5 (the order of docs/web.md).
export const CLASSES = ['customer', 'supplier', 'internal', 'newsletter', 'advertising'];

// --- Chromium ----------------------------------------------------------------

// launch - Debian's Chromium, headless, with a fresh profile (Playwright
// makes one per launch) and none of its background traffic, which on a
// closed network only piles up refused connections.
export async function launch() {
	const args = [
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--disable-default-apps',
		'--disable-features=Translate,MediaRouter,OptimizationHints',
	];
	// Chromium's sandbox needs user namespaces, which root in a container lacks.
	if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
	return chromium.launch({
		executablePath: process.env.MAILROOM_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args,
		timeout: 60000,
	});
}

// newContext - a browser context (its own cookies: one signed-in user)
// that records every request, dialog, console error and page error of
// its pages in ctx.log, and never lets a request leave for another host.
export async function newContext(browser, options = {}) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
	ctx.setDefaultTimeout(20000);
	ctx.setDefaultNavigationTimeout(30000);
	const log = { requests: [], dialogs: [], errors: [], csp: [] };
	ctx.log = log;
	// Requests are recorded before routing: a blocked one still counts.
	ctx.on('request', (req) => log.requests.push(req.url()));
	await ctx.route(
		(url) => url.host !== APP_HOST,
		(route) => route.abort('blockedbyclient'),
	);
	ctx.on('page', (page) => watchPage(page, log));
	return ctx;
}

function watchPage(page, log) {
	page.on('dialog', (d) => {
		log.dialogs.push(`${d.type()}: ${d.message()}`);
		d.dismiss().catch(() => {});
	});
	page.on('pageerror', (e) => log.errors.push(`pageerror: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() !== 'error') return;
		const text = m.text();
		if (/Content Security Policy/i.test(text)) log.csp.push(text);
		else log.errors.push(`console: ${text}`);
	});
}

// foreignRequests - requests of ctx to any host but the app's
export function foreignRequests(ctx) {
	return ctx.log.requests.filter((u) => {
		try {
			const url = new URL(u);
			if (url.protocol === 'data:' || url.protocol === 'about:' || url.protocol === 'blob:') return false;
			return url.host !== APP_HOST;
		} catch {
			return true;
		}
	});
}

// --- artefacts ---------------------------------------------------------------

export function artefactPath(name) {
	mkdirSync(ARTEFACTS, { recursive: true });
	return join(ARTEFACTS, name);
}

export async function screenshot(page, name) {
	const file = artefactPath(`${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

// keepFailure - screenshot and HTML of every open page of the contexts,
// named after the test, for the person reading a failure
export async function keepFailure(name, ...contexts) {
	const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
	let n = 0;
	for (const ctx of contexts) {
		if (!ctx) continue;
		for (const page of ctx.pages()) {
			n++;
			const base = `fail-${slug}-${n}`;
			try {
				await page.screenshot({ path: artefactPath(`${base}.png`), fullPage: true, timeout: 10000 });
				writeFileSync(artefactPath(`${base}.html`), `<!-- ${page.url()} -->\n${await page.content()}`);
			} catch (e) {
				writeFileSync(artefactPath(`${base}.txt`), `${page.url()}\n${e.message}\n`);
			}
		}
	}
}

// step - run one test body; on failure keep the pages, then fail
export async function step(name, contexts, body) {
	try {
		await body();
	} catch (e) {
		await keepFailure(name, ...contexts());
		throw e;
	}
}

// --- the stack: mailroomctl, psql, swaks ----------------------------------------

function run(cmd, args, input) {
	const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60000 });
	if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
	return r.stdout;
}

// ctl ARGS - mailroomctl with the stack's configuration
export function ctl(args, input) {
	return run(join(BUILDDIR, 'ctl', 'mailroomctl'), ['-c', process.env.MAILROOM_CONF, ...args], input);
}

// sql - one query as the database superuser, values as psql variables
// (:'name' in the query), never pasted into the text; rows of '|'-joined
// columns
export function sql(query, vars = {}) {
	const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres'];
	for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
	return run('psql', args, query).trim();
}

// waitFor - poll fn until it returns a truthy value, at most ms
export async function waitFor(what, fn, ms = 30000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

// --- users ---------------------------------------------------------------------

// makeUser - a new user of the team (mailroomctl user add), optionally
// with a TOTP key (mailroomctl user totp); {login, name, password, secret}
export function makeUser(tag, { role = 'agent', totp = false } = {}) {
	const login = `${tag}${RUN}`.slice(0, 60);
	const name = `${tag[0].toUpperCase()}${tag.slice(1)} ${RUN}`;
	const password = `pw-${randomBytes(12).toString('hex')}`;
	ctl(['user', 'add', login, '--name', name, '--role', role, '--password-file', '-'], `${password}\n`);
	const user = { login, name, password, secret: null, id: sql(`SELECT id FROM mailroom.users WHERE login = :'l'`, { l: login }) };
	if (totp) {
		const uri = ctl(['user', 'totp', login]).trim();
		const m = /[?&]secret=([A-Z2-7]+)/.exec(uri);
		if (!m) throw new Error(`user totp printed no secret: ${uri}`);
		user.secret = m[1];
	}
	return user;
}

// dropUsers - disable the users a test made: their sessions end, and the
// reminders, notes and audit rows they left keep naming them
export function dropUsers(...users) {
	for (const u of users.filter(Boolean)) ctl(['user', 'disable', u.login]);
}

function base32(text) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, value = 0;
	const out = [];
	for (const ch of text.replace(/=+$/, '')) {
		const i = alphabet.indexOf(ch);
		if (i < 0) throw new Error(`not base32: ${ch}`);
		value = (value << 5) | i;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

// totp - the RFC 6238 code (HMAC-SHA1, 6 digits, 30 s) of a base32
// secret, offset by steps
export function totp(secret, steps = 0, now = Date.now()) {
	const counter = Buffer.alloc(8);
	counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30) + steps));
	const mac = createHmac('sha1', base32(secret)).update(counter).digest();
	const o = mac[mac.length - 1] & 15;
	return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// signIn - through the sign-in form; resolves to the page after it
export async function signIn(page, user, code) {
	await page.goto(`${URL_BASE}/login`);
	await page.fill('input[name="login"]', user.login);
	await page.fill('input[name="password"]', user.password);
	if (code !== undefined || user.secret) await page.fill('input[name="code"]', code ?? totp(user.secret));
	await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
	return page;
}

// --- mail ----------------------------------------------------------------------

// sendMail - one message through the stack's inbound Postfix (swaks);
// raw is the whole message; resolves to the id of its conversation once
// the worker has threaded it
export async function sendMail(raw, { from = `sender-${RUN}@customer.test`, to = 'info@example.com', msgid } = {}) {
	const file = artefactPath(`mail-${msgid.replace(/[^A-Za-z0-9.-]/g, '_')}.eml`);
	writeFileSync(file, raw.replace(/\r?\n/g, '\r\n'));
	run('swaks', ['--silent', '2', '--server', process.env.MAILROOM_SMTP, '--helo', 'customer.test',
		'--from', from, '--to', to, '--data', `@${file}`]);
	return waitFor(`the worker to thread <${msgid}>`, () =>
		sql(`SELECT conversation_id FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id
		      WHERE m.message_id IN (:'a', :'b') AND conversation_id IS NOT NULL`, { a: `<${msgid}>`, b: msgid }), 60000);
}

// plainMail - a small text/plain message
export function plainMail({ subject, body, msgid, from = `Customer ${RUN} <sender-${RUN}@customer.test>` }) {
	return [
		`From: ${from}`,
		'To: info@example.com',
		`Subject: ${subject}`,
		`Message-ID: <${msgid}>`,
		`Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=utf-8',
		'Content-Transfer-Encoding: 8bit',
		'',
		body,
		'',
	].join('\n');
}

// msgid - a Message-ID of this run
export function msgid(tag) {
	return `${tag}.${RUN}@customer.test`;
}
