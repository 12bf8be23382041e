// team.mjs - the team inbox in Chromium, two users in two browser
// contexts: mail sent through Postfix shows in the inbox; the phone
// layout; classify with the keyboard; claim seen by the other user;
// a reminder in the timeline; bulk archive; a private conversation
// hidden from the other user (inbox and direct URL). Screenshots of the
// inbox, a conversation and the phone-width inbox are kept.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
	RUN, SN, URL_BASE, dropUsers, keepFailure, launch, makeUser, msgid, newContext,
	plainMail, screenshot, sendMail, signIn, sql,
} from './lib.mjs';

let browser, ctxA, ctxB, pageA, pageB, ann, bob;
// conversations made by the tests, by name
const conv = {};

before(async () => {
	browser = await launch();
	ann = makeUser('ann');
	bob = makeUser('bob');
	ctxA = await newContext(browser);
	ctxB = await newContext(browser);
	pageA = await ctxA.newPage();
	pageB = await ctxB.newPage();
	await signIn(pageA, ann);
	await signIn(pageB, bob);
	assert.equal(new URL(pageA.url()).pathname, `${SN}/`, 'ann is signed in');
	assert.equal(new URL(pageB.url()).pathname, `${SN}/`, 'bob is signed in');
});

after(async () => {
	if (browser) await browser.close();
	dropUsers(ann, bob);
});

// guarded - a test of the team pages; screenshots of both users' pages
// when it fails
function guarded(name, body) {
	test(name, async () => {
		try {
			await body();
		} catch (e) {
			await keepFailure(`team-${name}`, ctxA, ctxB);
			throw e;
		}
	});
}

// mail - a text mail through Postfix; its conversation id once threaded
async function mail(name, subject, body) {
	conv[name] = await sendMail(plainMail({ subject, body, msgid: msgid(name) }), { msgid: msgid(name) });
	return conv[name];
}

// go - GET a page of ours; the response
async function go(page, path) {
	const res = await page.goto(`${URL_BASE}${path}`);
	await page.waitForLoadState('load');
	return res;
}

const row = (page, id) => page.locator(`table.inbox tr.conv[data-id="${id}"]`);

// submitted - run act (which submits a form) and wait for the page the
// POST's 303 leads to; the POST's status
async function submitted(page, act) {
	const [res] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(URL_BASE)),
		act(),
	]);
	await page.waitForLoadState('load');
	return res.status();
}

guarded('a mail sent through Postfix appears in the inbox', async () => {
	const subject = `Order question ${RUN}`;
	const id = await mail('first', subject, `Where is my order ${RUN}?`);
	const res = await go(pageA, '/');
	assert.equal(res.status(), 200);
	const r = row(pageA, id);
	assert.equal((await r.locator('a.subject').textContent()).trim(), subject);
	assert.equal(await r.locator('a.subject').getAttribute('href'), `${SN}/c/${id}`);
	assert.match(await r.getAttribute('class'), /\bunread\b/, 'new to ann');
	assert.equal(await r.locator('input[type="checkbox"][name="id"]').getAttribute('form'), 'bulk');
	assert.match(await r.locator('span.level').getAttribute('class'), /\blevel-(urgent|high|normal|low)\b/);
	assert.equal(await pageA.locator('form#bulk select[name="action"] option[value="classify"]').count(), 1);
	await screenshot(pageA, 'inbox');
	assert.deepEqual(ctxA.log.csp, [], 'no CSP violation');
	assert.deepEqual(ctxA.log.errors, [], 'no script error');
});

guarded('phone width: the inbox rows become cards, nothing wider than the screen', async () => {
	await pageA.setViewportSize({ width: 390, height: 844 });
	try {
		await go(pageA, '/');
		const shape = await pageA.evaluate(() => ({
			row: getComputedStyle(document.querySelector('table.inbox tr.conv')).display,
			overflow: document.documentElement.scrollWidth - window.innerWidth,
		}));
		assert.notEqual(shape.row, 'table-row', 'a row is a card');
		assert.ok(shape.overflow <= 0, `the inbox is ${shape.overflow}px wider than the screen`);
		await screenshot(pageA, 'inbox-phone');
	} finally {
		await pageA.setViewportSize({ width: 1280, height: 900 });
	}
});

guarded('keyboard: j to the row, 2 classifies it as supplier', async () => {
	const id = conv.first;
	assert.ok(id, 'the first test made the conversation');
	await go(pageA, '/');
	const n = await pageA.locator('table.inbox tr.conv').count();
	await pageA.evaluate(() => document.activeElement && document.activeElement.blur());
	for (let i = 0; i < n; i++) {
		await pageA.keyboard.press('j');
		if ((await pageA.locator('tr.conv.focus').getAttribute('data-id')) === String(id)) break;
	}
	assert.equal(await pageA.locator('tr.conv.focus').getAttribute('data-id'), String(id), 'j reached the row');
	const status = await submitted(pageA, () => pageA.keyboard.press('2'));
	assert.equal(status, 303, 'the bulk form answers 303');
	assert.equal(new URL(pageA.url()).pathname, `${SN}/`, 'back in the inbox');
	assert.match(await row(pageA, id).locator('span.cls').textContent(), /supplier/);
	assert.equal(sql(`SELECT class FROM mailroom.conversations WHERE id = :'id'`, { id }), 'supplier');
});

guarded('the conversation page; K claims it and the other user sees the holder', async () => {
	const id = conv.first;
	const res = await go(pageA, `/c/${id}`);
	assert.equal(res.status(), 200);
	assert.match(await pageA.locator('h1.title').textContent(), new RegExp(`Order question ${RUN}`));
	assert.match(await pageA.locator('article.message.in .body').first().textContent(), new RegExp(`Where is my order ${RUN}`));
	assert.match(await pageA.locator('article.message.in time').first().getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
	await screenshot(pageA, 'conversation');
	const status = await submitted(pageA, () => pageA.keyboard.press('Shift+K'));
	assert.equal(status, 303, 'the claim form answers 303');
	assert.equal(new URL(pageA.url()).pathname, `${SN}/c/${id}`);
	assert.equal(sql(`SELECT holder_id FROM mailroom.conversations WHERE id = :'id'`, { id }), ann.id);
	await go(pageB, '/');
	assert.match(await row(pageB, id).locator('span.holder').textContent(), new RegExp(ann.name));
	// Claiming what another holds is refused without force.
	await go(pageB, `/c/${id}`);
	assert.equal(await submitted(pageB, () => pageB.keyboard.press('Shift+K')), 409, 'bob cannot just take it');
	assert.equal(sql(`SELECT holder_id FROM mailroom.conversations WHERE id = :'id'`, { id }), ann.id);
});

guarded('a reminder set on the conversation page shows in its timeline', async () => {
	const id = conv.first;
	await go(pageA, `/c/${id}`);
	const due = new Date(Date.now() + 2 * 86400000);
	const local = `${due.getFullYear()}-${String(due.getMonth() + 1).padStart(2, '0')}-${String(due.getDate()).padStart(2, '0')}T09:30`;
	const form = pageA.locator('form#act-reminder');
	await form.locator('[name="due"]').fill(local);
	await form.locator('[name="message"]').fill(`Call the customer back ${RUN}`);
	const status = await submitted(pageA, () => form.locator('button[type="submit"], button:not([type])').first().click());
	assert.equal(status, 303);
	assert.equal(new URL(pageA.url()).pathname, `${SN}/c/${id}`);
	assert.match(await pageA.locator('ol.timeline').textContent(), new RegExp(`Call the customer back ${RUN}`));
	assert.equal(sql(`SELECT count(*) FROM mailroom.reminders WHERE conversation_id = :'id' AND message = :'m'`,
		{ id, m: `Call the customer back ${RUN}` }), '1');
	await go(pageA, '/');
	assert.notEqual((await row(pageA, id).locator('span.due').textContent()).trim(), '', 'the inbox shows when it is due');
});

guarded('bulk archive of two ticked conversations', async () => {
	const one = await mail('bulk1', `Bulk one ${RUN}`, 'first of two');
	const two = await mail('bulk2', `Bulk two ${RUN}`, 'second of two');
	await go(pageA, '/');
	await row(pageA, one).locator('input[type="checkbox"][name="id"]').check();
	await row(pageA, two).locator('input[type="checkbox"][name="id"]').check();
	await pageA.locator('form#bulk select[name="action"]').selectOption('archive');
	const status = await submitted(pageA, () => pageA.locator('form#bulk button[type="submit"], form#bulk button:not([type])').first().click());
	assert.equal(status, 303);
	assert.equal(new URL(pageA.url()).pathname, `${SN}/`);
	assert.equal(await row(pageA, one).count(), 0, 'gone from the open inbox');
	assert.equal(await row(pageA, two).count(), 0, 'gone from the open inbox');
	await go(pageA, '/?status=archived');
	for (const id of [one, two]) assert.match(await row(pageA, id).locator('span.status').textContent(), /archived/);
	assert.equal(sql(`SELECT string_agg(status, ',' ORDER BY id) FROM mailroom.conversations WHERE id IN (:'a', :'b')`,
		{ a: one, b: two }), 'archived,archived');
	// Each conversation is audited on its own.
	const audited = sql(`SELECT count(DISTINCT object) FROM mailroom.audit WHERE object IN (:'a', :'b') AND actor LIKE '%' || :'l'`,
		{ a: `conversation:${one}`, b: `conversation:${two}`, l: ann.login });
	assert.equal(audited, '2');
});

guarded('a private conversation of one user is invisible to another (inbox and direct URL)', async () => {
	const subject = `Private matter ${RUN}`;
	const id = await mail('private', subject, 'only for ann');
	await go(pageA, `/c/${id}`);
	const status = await submitted(pageA, () => pageA.locator('form#act-private button[type="submit"], form#act-private button:not([type])').first().click());
	assert.equal(status, 303);
	assert.equal(sql(`SELECT private FROM mailroom.conversations WHERE id = :'id'`, { id }), 't');
	// ann still sees it, bob does not, whatever the filter; a search for
	// its subject (which the search field shows again) finds it for ann only.
	const search = `/?q=${encodeURIComponent(subject)}&status=all`;
	for (const path of ['/?status=all', search]) {
		await go(pageA, path);
		assert.equal(await row(pageA, id).count(), 1, `the owner still sees it ${path}`);
	}
	for (const path of ['/', '/?status=all', search]) {
		const res = await go(pageB, path);
		assert.equal(res.status(), 200, path);
		assert.equal(await row(pageB, id).count(), 0, `not in bob's inbox ${path}`);
		if (path !== search) assert.equal((await pageB.content()).includes(subject), false, `its subject is nowhere on ${path}`);
	}
	const direct = await go(pageB, `/c/${id}`);
	assert.equal(direct.status(), 404, 'the direct URL says 404');
	assert.equal((await pageB.content()).includes(subject), false);
	const uuid = sql(`SELECT message_id FROM mailroom.message_meta WHERE conversation_id = :'id' LIMIT 1`, { id });
	assert.equal((await go(pageB, `/c/${id}/m/${uuid}/html`)).status(), 404, 'its message view says 404 too');
});
