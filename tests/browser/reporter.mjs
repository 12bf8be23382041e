// reporter.mjs - node:test results as tab-separated lines for
// tests/integration/99b-web-browser.sh, which turns them into the TAP of
// the integration suite (one TAP result per browser test):
//
//   ok<TAB>name            passed
//   fail<TAB>name          failed; diag lines with the error follow
//   skip<TAB>name<TAB>why  not run here
//   diag<TAB>text          anything else worth reading (one line each)

// oneLine - text without tabs or line ends
function oneLine(text) {
	return String(text).replace(/[\t\r]/g, ' ');
}

function diagLines(text) {
	return String(text)
		.split('\n')
		.filter((l) => l.trim() !== '')
		.map((l) => `diag\t${oneLine(l)}\n`)
		.join('');
}

export default async function* reporter(source) {
	for await (const event of source) {
		const data = event.data || {};
		const leaf = !data.details || data.details.type !== 'suite';
		switch (event.type) {
		case 'test:pass':
			if (!leaf) break;
			if (data.skip !== undefined && data.skip !== false)
				yield `skip\t${oneLine(data.name)}\t${oneLine(data.skip === true ? 'skipped' : data.skip)}\n`;
			else if (data.todo !== undefined && data.todo !== false)
				yield `skip\t${oneLine(data.name)}\t${oneLine(`TODO ${data.todo}`)}\n`;
			else yield `ok\t${oneLine(data.name)}\n`;
			break;
		case 'test:fail': {
			if (!leaf) break;
			const err = data.details && data.details.error;
			const cause = err && err.cause ? err.cause : err;
			yield `fail\t${oneLine(data.name)}\n`;
			if (cause) yield diagLines(cause.stack || cause.message || cause);
			break;
		}
		case 'test:diagnostic':
			yield diagLines(data.message);
			break;
		case 'test:stdout':
		case 'test:stderr':
			yield diagLines(data.message);
			break;
		default:
			break;
		}
	}
}
