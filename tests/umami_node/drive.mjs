// Drives the real @umami/node client against a medama_py server and prints every answer as JSON.
//   node drive.mjs <hostUrl, e.g. http://127.0.0.1:8080/umami> <websiteId>
// The plan is fixed; tests/e2e/test_umami_node.py checks what the server stored from it.
import { Umami } from '@umami/node';

const [hostUrl, websiteId] = process.argv.slice(2);
const umami = new Umami({ hostUrl, websiteId });

/** @param {Promise<Response>} sent */
async function answer(sent) {
	const response = await sent;
	return { status: response.status, body: await response.json() };
}

const answers = [];
// Page views without a distinct id: each is a session and a visit of its own.
for (const url of ['/a', '/a', '/a?utm_source=newsletter']) {
	answers.push(await answer(umami.track({ url, title: 'A', hostname: 'node.example', referrer: 'https://ref.example/x' })));
}
// Page views and an event of one distinct id: one session.
for (const url of ['/b', '/b']) answers.push(await answer(umami.track({ url, id: 'user-1' })));
answers.push(await answer(umami.track({ name: 'purchase', id: 'user-1', data: { total: 9.5, sku: 'X1' } })));
// Events without a distinct id.
answers.push(await answer(umami.track('signup', { plan: 'pro', trial: true })));
answers.push(await answer(umami.track('signup')));
// identify: session data.
answers.push(await answer(umami.identify({ email: 'someone@example.com', plan: 'pro' })));
process.stdout.write(JSON.stringify(answers));
