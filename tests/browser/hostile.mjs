// hostile.mjs - a hostile mail is inert in Chromium. Its subject and its
// HTML carry scripts, event handlers, javascript: links, a meta refresh,
// a <base>, forms, frames and remote images, styles and fonts on
// http://evil.invalid/. Through the inbox, the conversation page, its
// sandboxed HTML view and that view opened directly: no dialog opens, no
// script of the mail runs, and no request leaves for any host but ours
// (every request of the browser context is recorded; those to other
// hosts are also refused, so that nothing can leave this machine).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
	RUN, SN, URL_BASE, dropUsers, foreignRequests, keepFailure, launch, makeUser, msgid,
	newContext, screenshot, sendMail, signIn,
} from './lib.mjs';

const EVIL = 'http://evil.invalid';
// What a script of the mail would leave behind, were it to run.
const MARK = 'pwned';
const SUBJECT = `<script>alert("subject")</script><img src="${EVIL}/subject.png" onerror="alert(2)"> Offer ${RUN}`;
const HTML = `<!DOCTYPE html>
<html><head>
<base href="${EVIL}/base/">
<meta http-equiv="refresh" content="0;url=${EVIL}/refresh">
<link rel="stylesheet" href="${EVIL}/style.css">
<link rel="preload" href="${EVIL}/preload.js" as="script">
<link rel="icon" href="${EVIL}/favicon.ico">
<style>@import url("${EVIL}/import.css"); @font-face { font-family: x; src: url("${EVIL}/font.woff"); }
body { background: url("${EVIL}/bg.png"); font-family: x; }</style>
<script>document.documentElement.setAttribute("data-${MARK}", "1"); alert("head"); fetch("${EVIL}/fetch");</script>
<script src="${EVIL}/remote.js"></script>
</head>
<body onload="alert('onload')">
<p>Dear customer ${RUN}, see our <b>offer</b>.</p>
<img src="${EVIL}/pixel.png" width="1" height="1">
<img src="x" onerror="alert('onerror'); new Image().src='${EVIL}/onerror.png'">
<img srcset="${EVIL}/srcset.png 1x">
<picture><source srcset="${EVIL}/source.png"><img src="${EVIL}/picture.png"></picture>
<div style="background-image: url('${EVIL}/inline.png')">styled</div>
<svg><image href="${EVIL}/svg.png"/><script>alert("svg")</script></svg>
<svg onload="alert('svg onload')"></svg>
<iframe src="${EVIL}/frame.html"></iframe>
<object data="${EVIL}/object.swf"></object><embed src="${EVIL}/embed.swf">
<video poster="${EVIL}/poster.png" src="${EVIL}/video.mp4" autoplay></video>
<audio src="${EVIL}/audio.mp3" autoplay></audio>
<form action="${EVIL}/form" method="post"><input name="q" value="x" autofocus onfocus="alert('focus')"><button>Go</button></form>
<a href="javascript:alert('link')">click</a>
<a href="${EVIL}/link" ping="${EVIL}/ping">more</a>
<details open ontoggle="alert('toggle')"><summary>s</summary></details>
<math><mtext><table><mglyph><style><img src="${EVIL}/mxss.png" onerror="alert('mxss')"></style></mglyph></table></mtext></math>
</body></html>`;

let browser, ctx, page, cat, id;

before(async () => {
	browser = await launch();
	cat = makeUser('cat');
	ctx = await newContext(browser);
	page = await ctx.newPage();
	await signIn(page, cat);
	const mid = msgid('hostile');
	const raw = [
		`From: "<script>alert(3)</script>" <offers-${RUN}@evil.test>`,
		'To: info@example.com',
		`Subject: ${SUBJECT}`,
		`Message-ID: <${mid}>`,
		`Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
		'MIME-Version: 1.0',
		'Content-Type: text/html; charset=utf-8',
		'Content-Transfer-Encoding: 8bit',
		'',
		HTML,
		'',
	].join('\n');
	id = await sendMail(raw, { from: `offers-${RUN}@evil.test`, msgid: mid });
});

after(async () => {
	if (browser) await browser.close();
	dropUsers(cat);
});

function guarded(name, body) {
	test(name, async () => {
		try {
			await body();
		} catch (e) {
			await keepFailure(`hostile-${name}`, ctx);
			throw e;
		}
	});
}

const NO_CONTEXT = Symbol('no script context');

// within - PROMISE's value, or NO_CONTEXT after MS: Chromium gives a frame
// whose sandbox forbids scripts no context to ask, and a question to it
// waits for ever
function within(promise, ms) {
	let timer;
	const late = new Promise((resolve) => { timer = setTimeout(() => resolve(NO_CONTEXT), ms); });
	return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// scriptless - a frame that cannot be asked must be one where no script
// can run: a frame element sandboxed without allow-scripts, or a page
// whose Content-Security-Policy sandboxes it so
async function scriptless(frame, where) {
	const element = frame === page.mainFrame() ? null : await frame.frameElement();
	if (element !== null) {
		const sandbox = await element.getAttribute('sandbox');
		assert.ok(sandbox !== null && !/allow-scripts/.test(sandbox),
			`a frame without a script context is sandboxed without scripts (${where})`);
		return;
	}
	const res = await ctx.request.get(frame.url());
	const csp = res.headers()['content-security-policy'] || '';
	assert.match(csp, /(^|;)\s*sandbox\b/, `a page without a script context is sandboxed by its CSP (${where})`);
	assert.doesNotMatch(csp, /allow-scripts/, `its CSP allows no scripts (${where})`);
}

// inert - nothing of the mail ran or reached out so far, in any frame
async function inert(where) {
	// Time for a refresh, a late load or a timer to happen.
	await page.waitForTimeout(1500);
	assert.deepEqual(ctx.log.dialogs, [], `no dialog (${where})`);
	assert.deepEqual(foreignRequests(ctx), [], `no request to another host (${where})`);
	for (const frame of page.frames()) {
		const url = frame.url();
		// A frame not loaded yet (lazy, or in a closed <details>) has no URL.
		assert.ok(url === '' || url === 'about:blank' || url === 'about:srcdoc' || url.startsWith(URL_BASE),
			`a frame on ${url} (${where})`);
		const marked = await within(frame.locator(`[data-${MARK}]`).count(), 3000).catch(() => 0);
		if (marked === NO_CONTEXT) await scriptless(frame, where);
		else assert.equal(marked, 0, `no script of the mail ran in ${url} (${where})`);
	}
	assert.ok(page.url().startsWith(URL_BASE), `still on our pages, not ${page.url()} (${where})`);
}

guarded('the inbox shows the hostile subject as text', async () => {
	await page.goto(`${URL_BASE}/`);
	await page.waitForLoadState('load');
	const subject = page.locator(`table.inbox tr.conv[data-id="${id}"] a.subject`);
	assert.equal((await subject.textContent()).trim(), SUBJECT);
	await inert('inbox');
});

guarded('the conversation page shows subject and sender as text, the HTML as text', async () => {
	const res = await page.goto(`${URL_BASE}/c/${id}`);
	assert.equal(res.status(), 200);
	await page.waitForLoadState('load');
	assert.equal((await page.locator('h1.title').textContent()).trim(), SUBJECT);
	assert.match(await page.locator('article.message .body').first().textContent(), new RegExp(`Dear customer ${RUN}`));
	assert.match(await page.locator('article.message .from').first().textContent(), /<script>alert\(3\)<\/script>/);
	await screenshot(page, 'conversation-hostile');
	await inert('conversation page');
});

guarded('the HTML view, in its sandboxed frame and opened by itself, stays inert', async () => {
	await page.goto(`${URL_BASE}/c/${id}`);
	await page.waitForLoadState('load');
	const link = page.locator('article.message a.show-html').first();
	assert.equal(await link.count(), 1, 'the message has a link to its HTML view');
	const href = await link.getAttribute('href');
	assert.match(href, new RegExp(`^${SN}/c/${id}/m/[0-9a-f-]{36}/html$`));
	// Shown by the page in a sandboxed frame (the link may open it there).
	await link.click();
	await page.waitForLoadState('load');
	const frames = page.locator('iframe');
	for (let i = 0; i < (await frames.count()); i++) {
		const sandbox = await frames.nth(i).getAttribute('sandbox');
		assert.notEqual(sandbox, null, 'every frame is sandboxed');
		assert.doesNotMatch(sandbox, /allow-scripts/, 'no frame may run scripts');
	}
	await inert('HTML view in the page');
	// And the view's address opened at the top.
	const res = await page.goto(`${URL_BASE}${href.slice(SN.length)}`);
	assert.equal(res.status(), 200);
	assert.match(res.headers()['content-security-policy'] || '', /default-src 'none'/, 'the view has a strict CSP');
	await page.waitForLoadState('load');
	await inert('HTML view opened directly');
	assert.deepEqual(ctx.log.dialogs, []);
});
