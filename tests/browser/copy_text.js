// Opens a page in headless Chromium, selects text, copies it with the
// browser's own copy command, and prints what the clipboard then holds.
// Talks the DevTools protocol over --remote-debugging-pipe: no npm packages.
//
//   node copy_text.js URL [all | excerpt START LENGTH]
//
// "all" selects the body; "excerpt" selects LENGTH characters of the body's
// text from START (counted in code points, as a person's selection would be).
'use strict';
const { spawn } = require('child_process');

const [url, mode = 'all', start = '0', length = '0'] = process.argv.slice(2);
const browser = process.env.CHROMIUM || 'chromium';
const chrome = spawn(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', 'about:blank'],
	{ stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const toBrowser = chrome.stdio[3], fromBrowser = chrome.stdio[4];
const waiting = new Map();
let nextId = 0, pending = Buffer.alloc(0);

fromBrowser.on('data', (chunk) => {
	pending = Buffer.concat([pending, chunk]);
	let end;
	while ((end = pending.indexOf(0)) >= 0) {
		const msg = JSON.parse(pending.subarray(0, end).toString('utf8'));
		pending = pending.subarray(end + 1);
		if (msg.id !== undefined && waiting.has(msg.id)) {
			waiting.get(msg.id)(msg);
			waiting.delete(msg.id);
		}
	}
});

function send(method, params, sessionId) {
	return new Promise((resolve, reject) => {
		const msg = { id: ++nextId, method, params: params || {} };
		if (sessionId)
			msg.sessionId = sessionId;
		waiting.set(msg.id, (m) => (m.error ? reject(new Error(method + ': ' + m.error.message)) : resolve(m.result)));
		toBrowser.write(JSON.stringify(msg) + '\0');
	});
}

async function evaluate(session, expression) {
	const r = await send('Runtime.evaluate', { expression, awaitPromise: true, userGesture: true, returnByValue: true }, session);
	if (r.exceptionDetails)
		throw new Error('page: ' + JSON.stringify(r.exceptionDetails));
	return r.result.value;
}

const selectAll = `(() => { const r = document.createRange(); r.selectNodeContents(document.body);
	getSelection().removeAllRanges(); getSelection().addRange(r); return true; })()`;

// Selects code points [s, s + n) of the body's text nodes (never splitting a surrogate pair).
const selectExcerpt = (s, n) => `(() => {
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const points = [];
	for (let node = walker.nextNode(); node; node = walker.nextNode()) {
		const t = node.data;
		for (let i = 0; i < t.length; i++) {
			points.push([node, i]);
			const c = t.charCodeAt(i);
			if (c >= 0xD800 && c < 0xDC00) i++;
		}
	}
	const a = points[Math.min(${s}, points.length - 1)], b = points[Math.min(${s} + ${n}, points.length - 1)];
	const r = document.createRange();
	r.setStart(a[0], a[1]);
	r.setEnd(b[0], b[1]);
	getSelection().removeAllRanges();
	getSelection().addRange(r);
	return true;
})()`;

(async () => {
	const target = await send('Target.createTarget', { url });
	const { sessionId } = await send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
	await send('Browser.grantPermissions', { permissions: ['clipboardReadWrite', 'clipboardSanitizedWrite'] });
	await send('Emulation.setFocusEmulationEnabled', { enabled: true }, sessionId);
	await evaluate(sessionId, `new Promise((r) => { if (document.readyState === 'complete') r(); else addEventListener('load', () => r()); })`);
	await evaluate(sessionId, mode === 'excerpt' ? selectExcerpt(Number(start), Number(length)) : selectAll);
	if (!(await evaluate(sessionId, `document.execCommand('copy')`)))
		throw new Error('the copy command failed');
	const text = await evaluate(sessionId, `navigator.clipboard.readText()`);
	process.stdout.write(text);
	chrome.kill();
	process.exit(0);
})().catch((e) => {
	process.stderr.write(String(e) + '\n');
	chrome.kill();
	process.exit(2);
});
setTimeout(() => {
	process.stderr.write('timed out talking to Chromium\n');
	chrome.kill();
	process.exit(2);
}, 60000);
