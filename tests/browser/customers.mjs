// customers.mjs - the customer file in Chromium, two agents in two
// browser contexts: a customer found by a name prefix with a wildcard;
// its file shows a message that came through Postfix; a note from a
// template applies the template's labels; a task is ticked off; a reply
// written with a mail template goes out through Postfix and comes back
// recorded as outbound in the same conversation; the first agent's note
// reserves the contact and the lead queue shows the hold to the second; a
// file attached in the browser comes back unchanged.
// Screenshots of the customer file and of the compose preview are kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
	RUN, SN, URL_BASE, dropUsers, keepFailure, launch, makeUser, msgid, newContext, plainMail, screenshot,
	sendMail, signIn, sql, waitFor,
} from './lib.mjs';

let browser, ctxA, ctxB, pageA, pageB, ann, bob;
// the fixtures: an organisation, its contact, labels, templates
const fx = {};
const PREFIX = `Qx${RUN}`;
const DOMAIN = `qx${RUN}.example`;
const ADDR = `kim.berger@${DOMAIN}`;

before(async () => {
	browser = await launch();
	ann = makeUser('ann');
	bob = makeUser('bob');
	fx.org = sql(`INSERT INTO mailroom.organisations (name, city, postal_code) VALUES (:'n', 'Leipzig', '04109')
	               RETURNING id`, { n: `${PREFIX} Werkzeugbau GmbH` });
	sql(`INSERT INTO mailroom.organisation_domains (domain, organisation_id) VALUES (:'d', :'o')`, { d: DOMAIN, o: fx.org });
	fx.contact = sql(`INSERT INTO mailroom.contacts (organisation_id, salutation, first_name, last_name)
	                   VALUES (:'o', 'Frau', 'Kim', 'Berger') RETURNING id`, { o: fx.org });
	sql(`INSERT INTO mailroom.contact_addresses (address, contact_id) VALUES (:'a', :'c')`, { a: ADDR, c: fx.contact });
	fx.labelA = sql(`INSERT INTO mailroom.labels (name) VALUES (:'n') RETURNING id`, { n: `called-${RUN}` });
	fx.labelB = sql(`INSERT INTO mailroom.labels (name) VALUES (:'n') RETURNING id`, { n: `offer-${RUN}` });
	fx.noteTpl = sql(`INSERT INTO mailroom.note_templates (title, body, label_ids, lead_status)
	                   VALUES (:'t', 'Called, sent the offer.', ARRAY[:'a', :'b']::bigint[], 'in_progress') RETURNING id`,
	{ t: `First call ${RUN}`, a: fx.labelA, b: fx.labelB });
	fx.mailTpl = sql(`INSERT INTO mailroom.mail_templates (name, body)
	                   VALUES (:'n', 'Guten Tag {{salutation}} {{last_name}}, danke fuer Ihre Anfrage. {{agent_name}}')
	                   RETURNING id`, { n: `Thanks ${RUN}` });
	ctxA = await newContext(browser);
	ctxB = await newContext(browser);
	pageA = await ctxA.newPage();
	pageB = await ctxB.newPage();
	await signIn(pageA, ann);
	await signIn(pageB, bob);
});

after(async () => {
	if (browser) await browser.close();
	dropUsers(ann, bob);
	sql(`UPDATE mailroom.note_templates SET active = false WHERE id = :'t'`, { t: fx.noteTpl || 0 });
	sql(`UPDATE mailroom.mail_templates SET active = false WHERE id = :'t'`, { t: fx.mailTpl || 0 });
});

// guarded - screenshots of both agents' pages when a test fails
function guarded(name, body) {
	test(name, async () => {
		try {
			await body();
		} catch (e) {
			await keepFailure(`customers-${name}`, ctxA, ctxB);
			throw e;
		}
	});
}

// go - GET a page of ours; the response
async function go(page, path) {
	const res = await page.goto(`${URL_BASE}${path}`);
	await page.waitForLoadState('load');
	return res;
}

// submitted - run act (which submits a form) and wait for the page it
// leads to; the POST's status
async function submitted(page, act) {
	const [res] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(URL_BASE)),
		act(),
	]);
	await page.waitForLoadState('load');
	return res.status();
}

guarded('a customer is found by a name prefix with a wildcard', async () => {
	const res = await go(pageA, `/customers?q=${encodeURIComponent(`${PREFIX.toLowerCase()}*`)}`);
	assert.equal(res.status(), 200);
	const link = pageA.locator(`table.customers tr.customer a.customer[href="${SN}/o/${fx.org}"]`);
	assert.equal(await link.count(), 1, 'the organisation is among the results');
	assert.match(await link.textContent(), new RegExp(`${PREFIX} Werkzeugbau`));
	// the prefix alone, without the wildcard, is a word search and finds it too; another prefix does not
	await go(pageA, `/customers?q=${encodeURIComponent(`Zz${RUN}*`)}`);
	assert.equal(await pageA.locator(`a.customer[href="${SN}/o/${fx.org}"]`).count(), 0, 'another prefix finds nothing');
});

guarded('the contact\'s file shows the message that came through Postfix', async () => {
	const id = msgid('cf-in');
	fx.conv = await sendMail(plainMail({
		subject: `Angebot Fraesen ${RUN}`, body: `Bitte um ein Angebot ${RUN}.`, msgid: id,
		from: `Kim Berger <${ADDR}>`,
	}), { from: ADDR, msgid: id });
	const res = await go(pageA, `/p/${fx.contact}`);
	assert.equal(res.status(), 200);
	assert.match(await pageA.locator('h1.customer-name').textContent(), /Kim Berger/);
	const row = pageA.locator(`section#conversations tr.conv[data-id="${fx.conv}"]`);
	assert.equal(await row.count(), 1, 'the conversation is in the file');
	assert.match(await row.textContent(), new RegExp(`Angebot Fraesen ${RUN}`));
	await screenshot(pageA, 'customer-file');
	// and the sender on the conversation page links back to the file
	await go(pageA, `/c/${fx.conv}`);
	assert.equal(await pageA.locator(`article.message a.contact[href="${SN}/p/${fx.contact}"]`).count() > 0, true,
		'the sender links to the contact');
	assert.deepEqual(ctxA.log.csp, [], 'no CSP violation');
});

guarded('a note from a template applies its labels and reserves the contact for the first agent', async () => {
	await go(pageA, `/p/${fx.contact}`);
	const form = pageA.locator('form#act-note');
	await form.locator('select[name="template"]').selectOption(String(fx.noteTpl));
	await form.locator('select[name="kind"]').selectOption('phone');
	const status = await submitted(pageA, () => form.locator('button[type="submit"]').click());
	assert.equal(status, 303);
	const labels = await pageA.locator('dd.labels').textContent();
	assert.match(labels, new RegExp(`called-${RUN}`));
	assert.match(labels, new RegExp(`offer-${RUN}`));
	assert.equal(sql(`SELECT count(*) FROM mailroom.contact_labels WHERE contact_id = :'c'`, { c: fx.contact }), '2');
	assert.equal(sql(`SELECT lead_status || '|' || reserved_by FROM mailroom.contacts WHERE id = :'c'`, { c: fx.contact }),
		`in_progress|${ann.id}`, 'the template set the lead status; ann holds the contact');
	assert.match(await pageA.locator('section#notes').textContent(), /Called, sent the offer\./);
});

guarded('the second agent sees the hold, in the lead queue and on the file, and cannot note', async () => {
	await go(pageB, `/leads?q=${encodeURIComponent(ADDR)}`);
	const held = pageB.locator(`.held`);
	assert.ok((await held.count()) >= 1, 'the queue shows a hold');
	assert.match(await held.first().textContent(), new RegExp(ann.name));
	await go(pageB, `/p/${fx.contact}`);
	assert.match(await pageB.locator('dd.held').textContent(), new RegExp(ann.name));
	const form = pageB.locator('form#act-note');
	await form.locator('textarea[name="body"]').fill(`Bob tries ${RUN}`);
	const status = await submitted(pageB, () => form.locator('button[type="submit"]').click());
	assert.equal(status, 409, 'refused: held by ann');
	assert.match(await pageB.locator('p.held').textContent(), new RegExp(ann.name));
	assert.equal(sql(`SELECT count(*) FROM mailroom.notes WHERE contact_id = :'c' AND body LIKE :'b'`,
		{ c: fx.contact, b: `Bob tries ${RUN}` }), '0', 'nothing stored');
});

guarded('a task is made and ticked off', async () => {
	await go(pageA, `/p/${fx.contact}`);
	const form = pageA.locator('form#act-task');
	await form.locator('input[name="title"]').fill(`Send drawings ${RUN}`);
	assert.equal(await submitted(pageA, () => form.locator('button[type="submit"]').click()), 303);
	const task = pageA.locator('section#tasks li.task', { hasText: `Send drawings ${RUN}` });
	assert.equal(await task.count(), 1);
	assert.match(await task.getAttribute('class'), /\bopen\b/);
	assert.equal(await submitted(pageA, () => task.locator('form button[type="submit"]').first().click()), 303);
	const done = pageA.locator('section#tasks li.task', { hasText: `Send drawings ${RUN}` });
	assert.match(await done.getAttribute('class'), /\bdone\b/);
	assert.equal(sql(`SELECT state FROM mailroom.tasks WHERE contact_id = :'c' AND title = :'t'`,
		{ c: fx.contact, t: `Send drawings ${RUN}` }), 'done');
});

guarded('a file is attached to the contact and comes back unchanged', async () => {
	await go(pageA, `/p/${fx.contact}`);
	const bytes = Buffer.from(`Zeichnung ${RUN}\n`.repeat(200));
	const form = pageA.locator('form#file-upload');
	await form.locator('input[type="file"]').setInputFiles({ name: `zeichnung-${RUN}.txt`, mimeType: 'text/plain', buffer: bytes });
	assert.equal(await submitted(pageA, () => form.locator('button[type="submit"]').click()), 303);
	const link = pageA.locator('section#files a.file', { hasText: `zeichnung-${RUN}.txt` });
	assert.equal(await link.count(), 1, 'the file is listed');
	// a click downloads it (Content-Disposition: attachment), never shows it as a page
	const [download] = await Promise.all([pageA.waitForEvent('download'), link.click()]);
	assert.equal(download.suggestedFilename(), `zeichnung-${RUN}.txt`);
	const got = readFileSync(await download.path());
	assert.ok(Buffer.compare(got, bytes) === 0, 'the download is byte for byte the upload');
});

guarded('a reply with a template goes through Postfix and is recorded outbound in the same conversation', async () => {
	assert.ok(fx.conv, 'the file test made the conversation');
	await go(pageA, `/c/${fx.conv}/compose?kind=reply`);
	const form = pageA.locator('form#compose');
	assert.match(await form.locator('input[name="to"]').inputValue(), new RegExp(ADDR));
	await form.locator('select[name="template"]').selectOption(String(fx.mailTpl));
	await submitted(pageA, () => form.locator('button[name="use_template"]').click());
	const body = await pageA.locator('form#compose textarea[name="body"]').inputValue();
	assert.match(body, /Guten Tag Frau Berger, danke fuer Ihre Anfrage\./, 'the placeholders are filled in');
	assert.match(body, new RegExp(ann.name), 'the agent\'s name');
	// preview: the recipient is a known correspondent, no warning
	await submitted(pageA, () => pageA.locator('form#compose button[type="submit"]:not([name="use_template"])').first().click());
	assert.equal(await pageA.locator('ul.recipients li.to', { hasText: ADDR }).count(), 1, 'the preview lists the recipient');
	assert.equal(await pageA.locator('li.recipient-warning').count(), 0, 'no warning for the customer');
	await screenshot(pageA, 'compose-preview');
	const status = await submitted(pageA, () => pageA.locator('form#compose-send button[type="submit"]').first().click());
	assert.equal(status, 303, 'sent');
	assert.equal(new URL(pageA.url()).pathname, `${SN}/c/${fx.conv}`);
	const sent = sql(`SELECT state || '|' || header_message_id FROM mailroom.sent_mail WHERE conversation_id = :'c'
	                   ORDER BY id DESC LIMIT 1`, { c: fx.conv });
	const [state, mid] = sent.split('|');
	assert.equal(state, 'sent');
	const rec = await waitFor('the reply recorded and threaded', () => sql(
		`SELECT m.direction || '|' || mm.conversation_id FROM mailroom.messages m
		   JOIN mailroom.message_meta mm ON mm.message_id = m.id
		  WHERE m.message_id IN (:'mid', '<' || :'mid' || '>', trim(both '<>' from :'mid'))
		    AND mm.conversation_id IS NOT NULL`, { mid }), 60000);
	assert.equal(rec, `outbound|${fx.conv}`, 'the milter recorded it as outbound, the worker threaded it');
	await go(pageA, `/c/${fx.conv}`);
	assert.ok((await pageA.locator('article.message.out').count()) >= 1, 'the conversation shows our reply');
});
