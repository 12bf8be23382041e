// keys.mjs - webui-cgi/static/mailroom.js and mailroom.css in Chromium on
// pages made of the markup that docs/web.md promises (the inbox table,
// the bulk form, a conversation's action forms), served under the same
// CSP as mailroom.cgi's pages. What each key submits is caught and
// compared field by field. The same keys on the real pages: team.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CLASSES, SRCDIR, keepFailure, launch } from './lib.mjs';

const ORIGIN = 'http://keys.test';
const SN = '/mailroom.cgi';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const head = (title) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - mailroom</title>
<link rel="stylesheet" href="/static/mailroom.css">
<script src="/static/mailroom.js" defer></script>
</head><body>
<header class="app"><nav><a class="home" href="${SN}/">Inbox</a><a href="${SN}/account">Account</a></nav>
<span class="who">Ann</span></header><main>`;

const row = (id, title, level, unread) => `<tr class="conv${unread ? ' unread' : ''}" data-id="${id}">
<td><input type="checkbox" name="id" value="${id}" form="bulk"></td>
<td><a class="subject" href="${SN}/c/${id}">${title}</a></td>
<td><span class="level level-${level}">${level}</span></td><td><span class="cls">unclassified</span></td>
<td><span class="status">open</span></td><td><span class="due">2026-12-01 09:00</span></td>
<td><span class="holder"></span></td><td><span class="assignee">Bob</span></td>
<td><span class="labels"><a href="${SN}/?label=1">billing</a></span></td></tr>`;

const INBOX = `${head('Inbox')}
<h1>Inbox</h1>
<nav class="filters"><a href="${SN}/?status=open" aria-current="page">Open <span class="count">3</span></a>
<a href="${SN}/?status=closed">Closed <span class="count">0</span></a></nav>
<form id="bulk" method="post" action="${SN}/bulk"><input type="hidden" name="csrf" value="tok">
<select name="action"><option value="archive">Archive</option><option value="label">Label</option>
<option value="assign">Assign</option><option value="classify">Classify</option></select>
<input name="label" aria-label="Label"><select name="assignee"><option value="">nobody</option><option value="2">Bob</option></select>
<select name="class">${CLASSES.map((c) => `<option value="${c}">${c}</option>`).join('')}</select>
<button type="submit">Apply</button></form>
<table class="inbox"><thead><tr><th></th><th>Subject</th><th>Level</th><th>Class</th><th>Status</th><th>Due</th>
<th>Holder</th><th>Assignee</th><th>Labels</th></tr></thead><tbody>
${row(11, 'Order 4711 arrived damaged and the replacement has a very long subject line indeed', 'urgent', true)}
${row(12, 'Invoice March', 'high', false)}
${row(13, 'Newsletter', 'low', false)}
</tbody></table><a rel="next" href="${SN}/?after=abc">Next page</a></main></body></html>`;

const conversation = (id) => `${head('Conversation')}
<h1 class="title">Order 4711</h1>
<form method="post" action="${SN}/c/${id}/claim" id="act-claim"><input type="hidden" name="csrf" value="tok">
<button type="submit">Claim</button></form>
<form method="post" action="${SN}/c/${id}/classify" id="act-classify"><input type="hidden" name="csrf" value="tok">
${CLASSES.map((c) => `<button name="class" value="${c}">${c}</button>`).join('')}</form>
<form method="post" action="${SN}/c/${id}/note" id="act-note"><input type="hidden" name="csrf" value="tok">
<textarea name="body" aria-label="Note"></textarea><button type="submit">Add note</button></form>
<article class="message in" id="m-1"><div class="from">Maria</div><time datetime="2026-11-22T10:00:00Z">22 Nov</time>
<div class="body">Hello</div></article><ol class="timeline"><li>claimed</li></ol></main></body></html>`;

let browser, ctx, page;
const posts = [];

// respond - a page of ours with the headers mailroom.cgi sends
function respond(route, status, body, extra = {}) {
	return route.fulfill({
		status,
		headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP,
			'x-content-type-options': 'nosniff', ...extra },
		body,
	});
}

before(async () => {
	browser = await launch();
	ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	ctx.setDefaultTimeout(10000);
	ctx.errors = [];
	await ctx.route('**/*', async (route) => {
		const req = route.request();
		const url = new URL(req.url());
		if (url.origin !== ORIGIN) return route.abort('blockedbyclient');
		if (url.pathname.startsWith('/static/')) {
			const file = url.pathname.slice('/static/'.length);
			const type = file.endsWith('.css') ? 'text/css' : 'text/javascript';
			return route.fulfill({
				status: 200, headers: { 'content-type': `${type}; charset=utf-8` },
				body: readFileSync(join(SRCDIR, 'webui-cgi', 'static', file)),
			});
		}
		if (req.method() === 'POST') {
			const form = new URLSearchParams(req.postData() || '');
			posts.push({ path: url.pathname, form });
			return respond(route, 200, `${head('Done')}<p>posted</p></main></body></html>`);
		}
		if (url.pathname === `${SN}/`) return respond(route, 200, INBOX);
		const m = new RegExp(`^${SN}/c/(\\d+)$`).exec(url.pathname);
		if (m) return respond(route, 200, conversation(m[1]));
		return respond(route, 404, '<!DOCTYPE html><h1>404 Not Found</h1>');
	});
	ctx.on('page', (p) => {
		p.on('pageerror', (e) => ctx.errors.push(e.message));
		p.on('console', (msg) => msg.type() === 'error' && ctx.errors.push(msg.text()));
	});
	page = await ctx.newPage();
});

after(async () => {
	if (browser) await browser.close();
});

function guarded(name, body) {
	test(name, async () => {
		try {
			await body();
		} catch (e) {
			await keepFailure(`keys-${name}`, ctx);
			throw e;
		}
	});
}

async function inbox() {
	await page.goto(`${ORIGIN}${SN}/`);
	await page.waitForLoadState('load');
	posts.length = 0;
}

const focusId = () => page.evaluate(() => {
	const rows = document.querySelectorAll('table.inbox tr.conv.focus');
	return rows.length === 1 ? rows[0].dataset.id : `${rows.length} focus rows`;
});
const ticked = () => page.evaluate(() =>
	Array.from(document.querySelectorAll('input[name="id"][form="bulk"]:checked'), (b) => b.value));

// lastPost - the form of the one POST that the key caused
async function lastPost(path) {
	const end = Date.now() + 10000;
	while (posts.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
	assert.equal(posts.length, 1, 'exactly one form was submitted');
	assert.equal(posts[0].path, path);
	// The answer page loads before the next test navigates.
	await page.waitForURL(`${ORIGIN}${path}`);
	await page.waitForLoadState('load');
	return posts[0].form;
}

guarded('j and k move the focus row, and stop at the ends', async () => {
	await inbox();
	assert.equal(await focusId(), '0 focus rows');
	await page.keyboard.press('j');
	assert.equal(await focusId(), '11');
	await page.keyboard.press('j');
	assert.equal(await focusId(), '12');
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	assert.equal(await focusId(), '13', 'j stops at the last row');
	await page.keyboard.press('k');
	assert.equal(await focusId(), '12');
	await page.keyboard.press('k');
	await page.keyboard.press('k');
	assert.equal(await focusId(), '11', 'k stops at the first row');
	assert.equal(await page.evaluate(() => document.activeElement.className), 'subject', 'the row\'s link has the focus');
	assert.deepEqual(posts, []);
	assert.deepEqual(ctx.errors, []);
});

guarded('x ticks and unticks the focus row', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	await page.keyboard.press('x');
	assert.deepEqual(await ticked(), ['12']);
	await page.keyboard.press('x');
	assert.deepEqual(await ticked(), []);
});

guarded('2 classifies the focus row as supplier through the bulk form', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	await page.keyboard.press('2');
	const form = await lastPost(`${SN}/bulk`);
	assert.equal(form.get('action'), 'classify');
	assert.equal(form.get('class'), 'supplier');
	assert.deepEqual(form.getAll('id'), ['12']);
	assert.equal(form.get('csrf'), 'tok');
});

guarded('5 classifies the ticked rows (not the focus row) as advertising', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.keyboard.press('x');
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	await page.keyboard.press('x');
	await page.keyboard.press('k');
	await page.keyboard.press('5');
	const form = await lastPost(`${SN}/bulk`);
	assert.equal(form.get('action'), 'classify');
	assert.equal(form.get('class'), 'advertising');
	assert.deepEqual(form.getAll('id'), ['11', '13']);
});

guarded('each of 1-5 picks its class', async () => {
	for (let i = 0; i < 5; i++) {
		await inbox();
		await page.keyboard.press('j');
		await page.keyboard.press(String(i + 1));
		const form = await lastPost(`${SN}/bulk`);
		assert.equal(form.get('class'), CLASSES[i], `key ${i + 1}`);
	}
});

guarded('keys typed into a field of the page do nothing', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.focus('#bulk input[name="label"]');
	await page.keyboard.type('jjx2K');
	assert.equal(await page.inputValue('#bulk input[name="label"]'), 'jjx2K');
	assert.equal(await focusId(), '11', 'the focus row stayed');
	assert.deepEqual(await ticked(), []);
	await page.focus('#bulk select[name="class"]');
	await page.keyboard.press('3');
	assert.deepEqual(posts, [], 'nothing was submitted');
	await page.keyboard.press('Control+j');
	assert.deepEqual(posts, []);
});

guarded('Enter opens the focus row, Esc goes back to the inbox', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	await Promise.all([page.waitForURL(`${ORIGIN}${SN}/c/12`), page.keyboard.press('Enter')]);
	await page.waitForLoadState('load');
	await Promise.all([page.waitForURL(`${ORIGIN}${SN}/`), page.keyboard.press('Escape')]);
});

guarded('Enter opens the focus row after the focus left its link', async () => {
	await inbox();
	await page.keyboard.press('j');
	await page.evaluate(() => document.activeElement.blur());
	await Promise.all([page.waitForURL(`${ORIGIN}${SN}/c/11`), page.keyboard.press('Enter')]);
});

guarded('K in the inbox opens the focus row; K on a conversation submits its claim form', async () => {
	await inbox();
	await page.keyboard.press('j');
	await Promise.all([page.waitForURL(`${ORIGIN}${SN}/c/11`), page.keyboard.press('Shift+K')]);
	await page.waitForLoadState('load');
	posts.length = 0;
	await page.keyboard.press('Shift+K');
	const form = await lastPost(`${SN}/c/11/claim`);
	assert.equal(form.get('csrf'), 'tok');
});

guarded('3 on a conversation presses its classify button "internal"', async () => {
	await page.goto(`${ORIGIN}${SN}/c/7`);
	await page.waitForLoadState('load');
	posts.length = 0;
	await page.keyboard.press('3');
	const form = await lastPost(`${SN}/c/7/classify`);
	assert.equal(form.get('class'), 'internal');
});

guarded('keys in a conversation\'s note field do nothing', async () => {
	await page.goto(`${ORIGIN}${SN}/c/7`);
	await page.waitForLoadState('load');
	posts.length = 0;
	await page.focus('#act-note textarea');
	await page.keyboard.type('K1 ?');
	await page.keyboard.press('Escape');
	assert.equal(await page.inputValue('#act-note textarea'), 'K1 ?');
	assert.equal(new URL(page.url()).pathname, `${SN}/c/7`, 'Esc in a field stays on the page');
	assert.deepEqual(posts, []);
	assert.equal(await page.locator('#keys-help').count(), 0);
});

guarded('? shows the list of keys, Esc closes it first', async () => {
	await page.goto(`${ORIGIN}${SN}/c/7`);
	await page.waitForLoadState('load');
	await page.keyboard.press('?');
	await page.locator('#keys-help').waitFor({ state: 'visible' });
	assert.match(await page.locator('#keys-help').textContent(), /customer, supplier, internal, newsletter, advertising/);
	await page.keyboard.press('Escape');
	await page.locator('#keys-help').waitFor({ state: 'hidden' });
	assert.equal(new URL(page.url()).pathname, `${SN}/c/7`);
});

guarded('phone layout: below 700px the inbox rows are cards and nothing is wider than the screen', async () => {
	await inbox();
	const shape = () => page.evaluate(() => {
		const tr = document.querySelector('tr.conv');
		const head = document.querySelector('table.inbox thead');
		return {
			row: getComputedStyle(tr).display,
			head: head.getBoundingClientRect().height <= 1,
			overflow: document.documentElement.scrollWidth - window.innerWidth,
		};
	});
	assert.deepEqual(await shape(), { row: 'table-row', head: false, overflow: 0 });
	await page.setViewportSize({ width: 390, height: 844 });
	const phone = await shape();
	assert.equal(phone.row, 'flex', 'a row is a card');
	assert.equal(phone.head, true, 'the table head is out of sight');
	assert.ok(phone.overflow <= 0, `${phone.overflow}px wider than the screen`);
	await page.setViewportSize({ width: 1280, height: 900 });
});

guarded('levels have their colours and the focus row is marked', async () => {
	await inbox();
	await page.keyboard.press('j');
	const look = await page.evaluate(() => {
		const bg = (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor;
		return {
			urgent: bg('.level-urgent'), high: bg('.level-high'), low: bg('.level-low'),
			focus: getComputedStyle(document.querySelector('tr.conv.focus')).backgroundColor,
			plain: getComputedStyle(document.querySelector('tr.conv:not(.focus)')).backgroundColor,
		};
	});
	assert.equal(new Set([look.urgent, look.high, look.low]).size, 3, `distinct level colours: ${JSON.stringify(look)}`);
	assert.notEqual(look.focus, look.plain, 'the focus row stands out');
});
