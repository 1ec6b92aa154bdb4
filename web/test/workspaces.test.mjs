// Workspaces in the browser (issue 15 item 4): the client served under
// /w/<id>/, sign-up through an invitation link, and a workspace's account
// kept out of the default workspace. The real binary, the built client,
// system Chromium. Run with `npm test`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  startServer,
  launchBrowser,
  newUser,
  newPage,
  apiSignUp,
  apiLogin,
  apiCreateConversation,
  apiSend,
  gql,
  sendUI,
  expectMessagesEndWith,
  screenshot,
  cleanup,
} from './harness.mjs';

let server;
let browser;
let dir;
const contexts = [];

before(
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'confab-ws-'));
    const file = join(dir, 'workspaces.json');
    await writeFile(file, JSON.stringify([{ id: 'acme', name: 'Acme', signup: 'invitation' }]));
    server = await startServer(['--workspaces', file], { name: 'workspaces-server' });
    browser = await launchBrowser();
  },
  { timeout: 600_000 },
);

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  await cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An invitation link to workspace acme, as an operator makes one. */
async function invite(...extra) {
  if (server.external) throw new Error('this test needs a server of its own (E2E_URL is set)');
  const { stdout } = await promisify(execFile)(server.bin, ['workspace', 'invite', '--data', server.data, '--workspace', 'acme', '--public-url', server.url, ...extra]);
  return stdout.trim();
}

async function context(opts) {
  const c = await newPage(browser, server.url, opts);
  contexts.push(c.context);
  return c.page;
}

/** The user id of a token (its sub claim). */
const subOf = (idToken) => JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).sub;

async function fillSignUp(page, u) {
  await page.getByLabel('Email', { exact: true }).fill(u.email);
  await page.getByLabel(/^Username/).fill(u.username);
  await page.getByLabel(/^Display name/).fill(u.displayName);
  await page.getByLabel('Password', { exact: true }).fill(u.password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

test('a user signs up in workspace acme through an invitation link and chats there', async () => {
  const acme = `${server.url}/w/acme`;
  const link = await invite();
  assert.match(link, new RegExp(`^${server.url}/w/acme/\\?invite=`));
  const token = new URL(link).searchParams.get('invite');

  const ann = newUser('ann');
  const page = await context({ viewport: { width: 375, height: 740 } }); // a phone
  await page.goto(link);
  // The invitation link opens the sign-up form, the invitation shown in it.
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  await page.getByText('Workspace acme').waitFor();
  assert.equal(await page.getByLabel(/^Invitation/).inputValue(), token);
  await screenshot(page, '50-invitation-signup-phone');
  await fillSignUp(page, ann);
  await page.getByRole('navigation', { name: 'Conversation list' }).waitFor();
  await page.locator('.app[data-conn="connected"]').waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).pathname, '/w/acme/', 'the spent invitation left the address');
  assert.equal(new URL(page.url()).search, '');

  // A colleague (invited too) starts a conversation with Ann in acme: it
  // reaches her live, over the workspace's WebSocket.
  const bob = await apiSignUp(acme, { ...newUser('bob'), invitation: new URL(await invite()).searchParams.get('invite') });
  const annTokens = await apiLogin(acme, ann);
  const conv = await apiCreateConversation(acme, bob, [subOf(annTokens.idToken)], 'Acme launch');
  const item = page.locator(`a.conv[data-conversation-id="${conv}"]`);
  await item.click();
  await page.waitForURL(`${acme}/c/${conv}`);
  await apiSend(acme, bob, conv, 'Welcome to Acme');
  await expectMessagesEndWith(page, ['Welcome to Acme']);
  await sendUI(page, 'Glad to be here');
  await expectMessagesEndWith(page, ['Welcome to Acme', 'Glad to be here']);
  const d = await gql(acme, bob, `query($c: ID!) { listMessages(conversationId: $c, limit: 10) { items { content } } }`, { c: conv });
  assert.deepEqual(d.listMessages.items.map((m) => m.content).sort(), ['Glad to be here', 'Welcome to Acme']);

  // A deep link into the workspace loads (its assets come from /w/acme/).
  await page.goto(`${acme}/c/${conv}`);
  await expectMessagesEndWith(page, ['Welcome to Acme', 'Glad to be here']);
  const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src));
  assert.ok(scripts.length > 0 && scripts.every((src) => src.startsWith(`${acme}/assets/`)), `scripts ${scripts}`);
  await screenshot(page, '51-workspace-conversation-phone');

  // The root is the default workspace: Ann's acme session is not used
  // there, and her acme account does not exist there.
  await page.goto(server.url + '/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email or username').fill(ann.email);
  await page.getByLabel('Password', { exact: true }).fill(ann.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('Wrong email, username or password.').waitFor();
  await page.goto(`${acme}/`);
  await page.getByRole('navigation', { name: 'Conversation list' }).waitFor(); // still signed in at acme
});

test('sign-up in acme without a valid invitation is refused with a clear message', async () => {
  const page = await context();
  await page.goto(`${server.url}/w/acme/`);
  await page.getByRole('button', { name: 'Create an account' }).click();
  assert.equal(await page.getByLabel(/^Invitation/).count(), 0, 'no invitation field without an invitation link');
  await fillSignUp(page, newUser('eve'));
  await page.getByRole('alert').getByText(/by invitation only/).waitFor();

  await page.goto(`${server.url}/w/acme/?invite=forged.token`);
  await fillSignUp(page, newUser('eve'));
  await page.getByRole('alert').getByText(/invitation is not valid/).waitFor();

  // An invitation bound to another address does not admit this one.
  await page.goto(await invite('--email', 'someone-else@example.test'));
  await fillSignUp(page, newUser('eve'));
  await page.getByRole('alert').getByText(/another e-mail address/).waitFor();
  await screenshot(page, '52-invitation-refused');
});
