// The real @umami/api-client's login, send and batch against a running medama_py.
// Usage: node write.cjs <baseUrl> <username> <password> <websiteId>
// Prints {login, send, batch, me} as JSON; exits 1 with the error on any UmamiApiError.
'use strict';
const { UmamiClient, isUmamiApiError } = require('@umami/api-client');

const [baseUrl, username, password, websiteId] = process.argv.slice(2);

(async () => {
  try {
    const anonymous = new UmamiClient({ baseUrl });
    const login = await anonymous.login({ username, password });
    const client = new UmamiClient({ baseUrl, token: login.token });
    const me = await client.getMe();
    const payload = { website: websiteId, hostname: 'walk.example', url: '/from-client', title: 'Client', language: 'en-GB' };
    const send = await client.send({ type: 'event', payload });
    const batch = await client.batch([
      { type: 'event', payload: { ...payload, url: '/batch-1' } },
      { type: 'event', payload: { ...payload, url: '/batch-1', name: 'clicked', data: { n: 2 } } },
    ]);
    process.stdout.write(JSON.stringify({ login, me, send, batch }));
  } catch (error) {
    const detail = isUmamiApiError(error) ? `UmamiApiError ${error.status} ${error.code} ${error.message}` : String(error);
    process.stderr.write(`${detail}\n`);
    process.exit(1);
  }
})();
