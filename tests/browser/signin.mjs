// signin.mjs - sign-in with a TOTP code in Chromium, and the static files
// every page loads: the stylesheet and the keyboard script under the
// strict CSP, the list of keys, keys ignored while typing, sign-out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
	SN, URL_BASE, dropUsers, keepFailure, launch, makeUser, newContext, screenshot, signIn, totp,
} from './lib.mjs';

let browser, ctx, page, ann;

before(async () => {
	browser = await launch();
	ann = makeUser('ann', { totp: true });
	ctx = await newContext(browser);
	page = await ctx.newPage();
});

after(async () => {
	if (browser) await browser.close();
	dropUsers(ann);
});

// guarded - a test body that keeps screenshots of the pages when it fails
function guarded(name, body) {
	test(name, async () => {
		try {
			await body();
		} catch (e) {
			await keepFailure(name, ctx);
			throw e;
		}
	});
}

guarded('the sign-in page loads mailroom.css and mailroom.js from /static/ without CSP errors', async () => {
	const statics = [];
	page.on('response', (r) => {
		if (r.url().includes('/static/')) statics.push([new URL(r.url()).pathname, r.status(), r.headers()['content-type']]);
	});
	const res = await page.goto(`${URL_BASE}/login`);
	assert.equal(res.status(), 200);
	await page.waitForLoadState('load');
	statics.sort();
	assert.deepEqual(statics, [
		['/static/mailroom.css', 200, 'text/css; charset=utf-8'],
		['/static/mailroom.js', 200, 'text/javascript; charset=utf-8'],
	]);
	// The stylesheet applies: its focus colour is defined on the root.
	const focus = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--focus').trim());
	assert.match(focus, /^#[0-9a-f]{6}$/i, 'the stylesheet set --focus');
	assert.deepEqual(ctx.log.csp, [], 'no Content-Security-Policy violation');
	assert.deepEqual(ctx.log.errors, [], 'no script error');
});

guarded('? shows and hides the list of keys; keys do nothing while typing in a field', async () => {
	await page.goto(`${URL_BASE}/login`);
	await page.locator('body').click({ position: { x: 2, y: 2 } });
	await page.keyboard.press('?');
	const help = page.locator('#keys-help');
	await help.waitFor({ state: 'visible' });
	assert.match(await help.textContent(), /Keyboard shortcuts/);
	await page.keyboard.press('?');
	await help.waitFor({ state: 'hidden' });
	await page.keyboard.press('?');
	await help.waitFor({ state: 'visible' });
	await page.keyboard.press('Escape');
	await help.waitFor({ state: 'hidden' });
	// Typed into the login field, ? is a character like any other.
	await page.fill('input[name="login"]', '');
	await page.focus('input[name="login"]');
	await page.keyboard.type('a?j');
	assert.equal(await page.inputValue('input[name="login"]'), 'a?j');
	assert.equal(await help.isVisible(), false, 'the list of keys stayed hidden');
});

guarded('a wrong TOTP code is refused', async () => {
	await signIn(page, ann, totp(ann.secret, 6));
	assert.match(page.url(), /\/login$/);
	assert.match(await page.locator('p[role="alert"]').textContent(), /Sign-in failed/);
	assert.equal((await ctx.cookies()).some((c) => c.name === '__Host-mailroom'), false, 'no session cookie');
});

guarded('password and the current TOTP code sign in over http://127.0.0.1 (the __Host- cookie is kept)', async () => {
	await signIn(page, ann);
	assert.equal(new URL(page.url()).pathname, `${SN}/`);
	assert.equal((await page.locator('header.app .who').textContent()).trim(), ann.name);
	const cookie = (await ctx.cookies()).find((c) => c.name === '__Host-mailroom');
	assert.ok(cookie, 'the session cookie is stored');
	assert.equal(cookie.secure, true);
	assert.equal(cookie.httpOnly, true);
	assert.equal(cookie.sameSite, 'Strict');
	assert.equal(cookie.path, '/');
	await screenshot(page, 'signed-in');
	assert.deepEqual(ctx.log.csp, [], 'no Content-Security-Policy violation');
});

guarded('the signed-in frame fits a phone screen', async () => {
	await page.setViewportSize({ width: 390, height: 844 });
	await page.reload();
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
	await page.setViewportSize({ width: 1280, height: 900 });
});

guarded('sign-out through the header form ends the session', async () => {
	await page.goto(`${URL_BASE}/`);
	await Promise.all([page.waitForNavigation(), page.click('form.signout button[type="submit"]')]);
	assert.match(page.url(), /\/login$/);
	const res = await page.goto(`${URL_BASE}/`);
	assert.match(res.url(), /\/login$/, 'the inbox asks for sign-in again');
	assert.equal((await ctx.cookies()).some((c) => c.name === '__Host-mailroom'), false);
});
