// Browser test of Web Push: the service worker registers, the bell turns
// push on (registering a subscription whose endpoint is a push service on
// loopback: a real browser's subscribe reaches Google's or Mozilla's push
// service, which a test cannot, so pushManager.subscribe alone is stubbed
// with keys made here), a message to the user while the page is closed
// reaches that push service encrypted to those keys (RFC 8291, decrypted
// here), and the service worker shows the decrypted payload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createECDH, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  startServer,
  launchBrowser,
  newUser,
  newPage,
  signInUI,
  eventually,
  apiSignUp,
  apiCreateConversation,
  apiSend,
  gql,
  cleanup,
} from './harness.mjs';

let server;
let browser;
let push;
const requests = [];

before(
  async () => {
    server = await startServer(['--push-allow-private'], { name: 'push-server' }); // the test push service is on 127.0.0.1
    browser = await launchBrowser();
    push = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        requests.push({ path: req.url, encoding: req.headers['content-encoding'], auth: req.headers.authorization, body: Buffer.concat(chunks) });
        res.writeHead(201).end();
      });
    });
    await new Promise((r) => push.listen(0, '127.0.0.1', r));
  },
  { timeout: 600_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
  push?.close();
  await cleanup();
});

const b64url = (b) => Buffer.from(b).toString('base64url');

/** Opens an aes128gcm body (RFC 8188) with the subscriber's keys (RFC 8291 §3.4). */
function decrypt(body, ecdh, auth) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const secret = ecdh.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  assert.equal(plain[end - 1], 2, 'the last record ends with the 0x02 delimiter');
  return JSON.parse(plain.subarray(0, end - 1).toString('utf8'));
}

test('the service worker registers, and a message to an offline user is pushed and shown', async () => {
  const pushURL = `http://127.0.0.1:${push.address().port}`;
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const conversationId = await apiCreateConversation(server.url, a, [b.userId], 'lunch crew');

  const { context, page } = await newPage(browser, server.url);
  await context.grantPermissions(['notifications'], { origin: server.url });
  // The stub: a subscription to the loopback push service with keys made here.
  await context.addInitScript(
    ({ endpoint, p256dh, auth }) => {
      const sub = {
        endpoint,
        toJSON: () => ({ endpoint, keys: { p256dh, auth } }),
        unsubscribe: async () => true,
      };
      let subscribed = false;
      PushManager.prototype.subscribe = async function () {
        subscribed = true;
        return sub;
      };
      PushManager.prototype.getSubscription = async function () {
        return subscribed ? sub : null;
      };
    },
    { endpoint: `${pushURL}/bob`, p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) },
  );
  await signInUI(page, b.username);
  await page.getByRole('button', { name: 'Turn on notifications' }).click();
  await page.getByRole('button', { name: 'Turn off notifications' }).waitFor();
  const active = await page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration('/sw.js');
    return !!(r && (r.active || r.installing || r.waiting));
  });
  assert.ok(active, 'the service worker is registered');

  // Bob closes the page: once the server counts no live connection of his
  // (he shows offline), Alice's message is pushed to him.
  await page.close();
  await eventually(
    async () => (await gql(server.url, a, 'query($u: ID!) { getUser(userId: $u) { isOnline } }', { u: b.userId })).getUser.isOnline === false,
    { message: 'bob offline' },
  );
  await apiSend(server.url, a, conversationId, 'are you there?');
  await eventually(async () => requests.length > 0, { timeout: 30_000, message: 'a push request to the test push service' });
  const r = requests[0];
  assert.equal(r.path, '/bob');
  assert.equal(r.encoding, 'aes128gcm');
  assert.match(r.auth, /^vapid t=.+, k=.+/);
  const payload = decrypt(r.body, ecdh, auth);
  assert.equal(payload.type, 'message');
  assert.equal(payload.conversationId, conversationId);
  assert.equal(payload.conversationName, 'lunch crew');
  assert.equal(payload.sender, a.displayName);
  assert.equal(payload.preview, 'are you there?');

  // The service worker shows what the push service would hand the browser.
  const shown = await context.newPage();
  await shown.goto('/');
  const cdp = await context.newCDPSession(shown);
  const registrationId = await new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const reg = registrations.find((x) => !x.isDeleted && x.scopeURL.startsWith(server.url));
      if (reg) resolve(reg.registrationId);
    });
    void cdp.send('ServiceWorker.enable');
  });
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: JSON.stringify(payload) });
  const notes = await eventually(
    async () => {
      const n = await shown.evaluate(async () => {
        const reg = await navigator.serviceWorker.getRegistration('/sw.js');
        return (await reg.getNotifications()).map((x) => ({ title: x.title, body: x.body, tag: x.tag }));
      });
      return n.length > 0 ? n : null;
    },
    { message: 'a notification shown by the service worker' },
  );
  assert.equal(notes[0].title, 'lunch crew');
  assert.equal(notes[0].body, `${a.displayName}: ${payload.preview}`);
  assert.equal(notes[0].tag, `conversation:${conversationId}`);
  await context.close();
});

test('the settings dialog turns e-mail digests off and on', async () => {
  const u = await apiSignUp(server.url, newUser('dora'));
  const digests = async () => (await gql(server.url, u, '{ notificationSettings { emailDigests } }')).notificationSettings.emailDigests;
  const { context, page } = await newPage(browser, server.url);
  await signInUI(page, u.username);
  await page.getByRole('button', { name: 'Settings' }).click();
  const box = page.getByRole('dialog', { name: 'Settings' }).getByLabel('E-mail me about messages I miss');
  await eventually(async () => (await box.isChecked()) && (await box.isEnabled()), { message: 'digests on by default' });
  await box.uncheck();
  await eventually(async () => (await digests()) === false, { message: 'digests off on the server' });
  await eventually(async () => await box.isEnabled(), { message: 'saved' });
  await box.check();
  await eventually(async () => (await digests()) === true, { message: 'digests on again on the server' });
  await context.close();
});
