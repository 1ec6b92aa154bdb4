// Test harness: builds and starts the real confab binary on a loopback port,
// launches the system Chromium through playwright-core, and offers helpers
// that drive the app the way a person does.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '..');
export const repoRoot = resolve(webDir, '..');
export const resultsDir = join(webDir, 'test-results');
export const screenshotDir = join(resultsDir, 'screenshots');

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const password = 'Secret-pass1';

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Builds cmd/confab (with web/dist embedded) once, unless E2E_CONFAB_BIN
 *  names a binary. (Not CONFAB_*: confab rejects unknown CONFAB_ variables.) */
let built = null;
let binDir = null;
export function buildServer() {
  built ??= (async () => {
    binDir = await mkdtemp(join(tmpdir(), 'confab-bin-'));
    return doBuild(binDir);
  })();
  return built;
}

/** Removes the built binary. */
export async function cleanup() {
  if (binDir) await rm(binDir, { recursive: true, force: true }).catch(() => {});
}

async function doBuild(dir) {
  if (process.env.E2E_CONFAB_BIN) return resolve(process.env.E2E_CONFAB_BIN);
  if (!existsSync(join(webDir, 'dist', 'index.html'))) {
    throw new Error('web/dist is not built: run `npm run build` first (npm test does)');
  }
  const bin = join(dir, 'confab');
  await promisify(execFile)('go', ['build', '-o', bin, './cmd/confab'], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  }).catch((e) => {
    throw new Error(`go build ./cmd/confab failed:\n${e.stderr || e.message}`);
  });
  return bin;
}

/** Extra `confab serve` arguments for every server, from E2E_SERVE_ARGS
 *  (space-separated), e.g. `--store postgres --postgres <url>`. */
const serveArgs = (process.env.E2E_SERVE_ARGS ?? '').split(' ').filter(Boolean);

/** Starts `confab serve` on 127.0.0.1:<free port> with a fresh data dir and
 *  waits for /healthz to answer 200. With E2E_URL set, uses that server. */
export async function startServer(extraArgs = [], { name = 'server' } = {}) {
  if (process.env.E2E_URL) {
    // an already running server (for working on the client)
    return { url: process.env.E2E_URL.replace(/\/$/, ''), external: true, async stop() {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 'confab-e2e-'));
  const bin = await buildServer();
  const port = await freePort();
  const data = join(dir, 'data');
  await mkdir(resultsDir, { recursive: true });
  const log = createWriteStream(join(resultsDir, `${name}.log`));
  // Many sign-ups and sign-ins come from one address here, and some tests
  // seed thousands of messages through the API: lift those limits. The
  // resume limit is lowered so a test can go past it with 1,010 sends.
  const args = ['serve', '--http', `127.0.0.1:${port}`, '--data', data, '--signups-per-minute', '1000',
    '--logins-per-minute', '-1', '--sends-per-second', '-1', '--conversations-per-minute', '-1',
    '--max-resume', '1000', ...serveArgs, ...extraArgs];
  const proc = spawn(bin, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = { code, sig }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`confab serve exited early (${JSON.stringify(exited)}); see test-results/${name}.log`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('confab serve did not answer /healthz within 30 s');
    }
    await sleep(100);
  }
  return {
    url,
    proc,
    bin,
    data,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        for (let i = 0; i < 50 && !exited; i++) await sleep(100);
        if (!exited) proc.kill('SIGKILL');
      }
      log.end();
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** Makes user a server administrator the way the first one is made: `confab
 *  admin grant` on the server's data (with its store flags). */
export async function makeAdmin(server, user) {
  if (server.external) throw new Error('makeAdmin needs a server of its own (E2E_URL is set)');
  const store = [];
  for (let i = 0; i < serveArgs.length; i++) {
    if (['--store', '--postgres'].includes(serveArgs[i])) store.push(serveArgs[i], serveArgs[i + 1]);
  }
  await promisify(execFile)(server.bin, ['admin', 'grant', '--data', server.data, ...store, user.username]).catch((e) => {
    throw new Error(`confab admin grant failed:\n${e.stderr || e.message}`);
  });
}

export async function launchBrowser() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

// ---- the HTTP API, for seeding ----

let counter = 0;
/** A fresh, unique user description. */
export function newUser(prefix = 'user') {
  const n = `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1e4)}`;
  return { username: n, email: `${n}@example.test`, password, displayName: `${prefix[0].toUpperCase()}${prefix.slice(1)} ${counter}` };
}

export async function apiLogin(base, u) {
  const l = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: u.email, password: u.password }),
  });
  if (!l.ok) throw new Error(`login ${l.status}: ${await l.text()}`);
  const tokens = await l.json();
  return { ...u, idToken: tokens.idToken };
}

export async function apiSignUp(base, u) {
  const r = await fetch(`${base}/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(u),
  });
  if (!r.ok) throw new Error(`signup ${r.status}: ${await r.text()}`);
  const body = await r.json();
  return { ...(await apiLogin(base, u)), userId: body.userId };
}

export async function gql(base, user, query, variables) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: user.idToken },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || body.errors) throw new Error(`graphql ${r.status}: ${JSON.stringify(body)}`);
  return body.data;
}

export async function apiCreateConversation(base, user, participants, name = null) {
  const d = await gql(
    base,
    user,
    `mutation($input: CreateConversationInput!) { createConversation(input: $input) { conversationId } }`,
    { input: { name, participants } },
  );
  return d.createConversation.conversationId;
}

export async function apiSend(base, user, conversationId, content) {
  const d = await gql(
    base,
    user,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { messageId seq } }`,
    { input: { conversationId, content } },
  );
  return d.sendMessage;
}

// ---- driving the UI ----

export async function newPage(browser, base, opts = {}) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return { context, page };
}

export async function signUpUI(page, u) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email', { exact: true }).fill(u.email);
  await page.getByLabel(/^Username/).fill(u.username);
  await page.getByLabel(/^Display name/).fill(u.displayName);
  await page.getByLabel('Password', { exact: true }).fill(u.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('navigation', { name: 'Conversation list' }).waitFor();
}

export async function signInUI(page, login, pw = password) {
  await page.goto('/');
  await page.getByLabel('Email or username').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversation list' }).waitFor();
}

export function composer(page) {
  return page.getByLabel('Message', { exact: true });
}

export async function sendUI(page, text) {
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
}

/** Texts of the confirmed messages shown in the conversation's timeline
 *  (not the reply thread panel), oldest first. */
export async function shownMessages(page) {
  return page.locator('.thread-main .message-list li.msg:not([data-pending]) .msg-text').allInnerTexts();
}

/** The timeline's message (an li) whose text is exactly text. */
export function messageItem(page, text) {
  return page.locator('.thread-main li.msg', { has: page.locator('.msg-text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) });
}

/** The timeline's message whose text is text now, found by its id (so it
 *  stays found while its text changes, e.g. in the edit box). */
export async function pinnedItem(page, text) {
  const item = messageItem(page, text);
  await item.waitFor();
  return page.locator(`.thread-main li.msg[data-message-id="${await item.getAttribute('data-message-id')}"]`);
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Polls fn until it returns a truthy value (or until timeout), returning it. */
export async function eventually(fn, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(interval);
  }
}

/** Waits until the shown messages end with `expected` (in that order). */
export async function expectMessagesEndWith(page, expected, timeout = 15_000) {
  let got = [];
  try {
    await eventually(
      async () => {
        got = await shownMessages(page);
        const tail = got.slice(-expected.length);
        return tail.length === expected.length && tail.every((t, i) => t === expected[i]);
      },
      { timeout, message: 'messages' },
    );
  } catch {
    throw new Error(`expected messages to end with ${JSON.stringify(expected)}, got ${JSON.stringify(got.slice(-expected.length - 3))}`);
  }
}

export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}
