// Files in the browser (issue 13): the real binary on the disk engine,
// the built client, system Chromium. Run with `npm test`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  startServer,
  launchBrowser,
  newUser,
  newPage,
  signInUI,
  eventually,
  screenshot,
  apiSignUp,
  apiCreateConversation,
  apiSend,
  messageItem,
  shownMessages,
  cleanup,
} from './harness.mjs';

let server;
let browser;
const contexts = [];

before(
  async () => {
    server = await startServer([], { name: 'files-server' });
    browser = await launchBrowser();
  },
  { timeout: 600_000 },
);

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  await cleanup();
});

async function signedIn(user, conversationId, opts) {
  const { context, page } = await newPage(browser, server.url, opts);
  contexts.push(context);
  await signInUI(page, user.username);
  await page.goto(`/c/${conversationId}`);
  await page.locator('.app[data-conn="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

const pdfText = '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% a report for Bob\n%%EOF\n';

/** Drops a PNG drawn on a canvas (800 × 500) and a PDF on the conversation. */
async function dropImageAndPDF(page) {
  const dt = await page.evaluateHandle(async (pdf) => {
    const canvas = document.createElement('canvas');
    canvas.width = 800;
    canvas.height = 500;
    const g = canvas.getContext('2d');
    g.fillStyle = '#3050d0';
    g.fillRect(0, 0, 800, 500);
    g.fillStyle = '#f0c020';
    g.fillRect(100, 100, 300, 200);
    const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
    const d = new DataTransfer();
    d.items.add(new File([png], 'sunset.png', { type: 'image/png' }));
    d.items.add(new File([pdf], 'report.pdf', { type: 'application/pdf' }));
    return d;
  }, pdfText);
  await page.locator('section.thread').dispatchEvent('dragover', { dataTransfer: dt });
  await page.locator('section.thread').dispatchEvent('drop', { dataTransfer: dt });
}

test('a user drops an image and a PDF; the other sees the thumbnail live and downloads the PDF byte-identical', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const conversationId = await apiCreateConversation(server.url, a, [b.userId]);
  const pa = await signedIn(a, conversationId);
  const pb = await signedIn(b, conversationId, { acceptDownloads: true });

  await dropImageAndPDF(pa);
  const tray = pa.getByRole('list', { name: 'Files to send' });
  await eventually(async () => (await tray.locator('li[data-status="done"]').count()) === 2, { message: 'both files uploaded and checked' });
  await screenshot(pa, 'files-01-tray');
  await pa.getByRole('button', { name: 'Send message' }).click();
  await eventually(async () => (await tray.count()) === 0, { message: 'the tray emptied' });

  // Bob sees the thumbnail (loaded, 320 px wide) and the PDF chip without reloading.
  const thumb = pb.locator('.att-image img');
  await thumb.waitFor({ timeout: 15_000 });
  const natural = await eventually(() => thumb.evaluate((img) => img.complete && img.naturalWidth), { message: 'thumbnail loaded' });
  assert.equal(natural, 320);
  const chip = pb.locator('.att-file', { hasText: 'report.pdf' });
  await chip.waitFor();
  assert.match(await chip.innerText(), /report\.pdf\s+\d+ bytes/);
  await screenshot(pb, 'files-02-received');

  const [download] = await Promise.all([pb.waitForEvent('download'), chip.click()]);
  const got = await readFile(await download.path(), 'latin1');
  assert.equal(got, pdfText);
  assert.equal(download.suggestedFilename(), 'report.pdf');

  // Click to open: the image shows large, with the original to download.
  await pb.locator('.att-image').click();
  const viewer = pb.getByRole('dialog', { name: 'sunset.png' });
  await viewer.waitFor();
  assert.match(await viewer.innerText(), /800 × 500/);
  await screenshot(pb, 'files-03-viewer');
  await pb.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
});

test('a refused file shows why, with a retry; cancel removes a file; the page works at phone width', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const conversationId = await apiCreateConversation(server.url, a, [b.userId]);
  const pa = await signedIn(a, conversationId, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });

  // A "PNG" that is really HTML: the server refuses it once uploaded.
  await pa.locator('#attach-input').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
  const item = pa.locator('.tray-item', { hasText: 'fake.png' });
  await eventually(async () => (await item.getAttribute('data-status')) === 'failed', { message: 'refused' });
  assert.match(await item.getByRole('alert').innerText(), /not of its declared type/i);
  assert.equal(await pa.getByRole('button', { name: 'Retry' }).count(), 1);
  await screenshot(pa, 'files-04-phone-refused');
  const width = await pa.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide at a 375 px screen`);

  await pa.getByRole('button', { name: 'Remove fake.png' }).click();
  await item.waitFor({ state: 'detached' });
  assert.equal(await pa.getByRole('button', { name: 'Send message' }).isDisabled(), true);
});

/** A PNG (800 × 500) drawn on a canvas in page, as bytes. */
async function drawnPNG(page) {
  const b64 = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 800;
    canvas.height = 500;
    const g = canvas.getContext('2d');
    g.fillStyle = '#20a070';
    g.fillRect(0, 0, 800, 500);
    g.fillStyle = '#f04060';
    g.fillRect(500, 50, 250, 350);
    const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
    const bytes = new Uint8Array(await png.arrayBuffer());
    let bin = '';
    for (const x of bytes) bin += String.fromCharCode(x);
    return btoa(bin);
  });
  return Buffer.from(b64, 'base64');
}

test('a reply carries files: attached in the thread panel at phone width, seen live in the open thread, the original downloaded byte-identical', async () => {
  const a = await apiSignUp(server.url, newUser('alice'));
  const b = await apiSignUp(server.url, newUser('bob'));
  const conversationId = await apiCreateConversation(server.url, a, [b.userId]);
  await apiSend(server.url, a, conversationId, 'which one for the poster?');
  const pa = await signedIn(a, conversationId, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const pb = await signedIn(b, conversationId, { acceptDownloads: true });
  const openThread = async (page) => {
    await messageItem(page, 'which one for the poster?').getByRole('button', { name: 'Reply in thread' }).click();
    const panel = page.getByRole('complementary', { name: 'Thread' });
    await panel.getByText('No replies yet.').waitFor();
    return panel;
  };
  const aliceThread = await openThread(pa);
  const bobThread = await openThread(pb);

  // Alice attaches an image from the keyboard and drops a PDF on the panel:
  // both go to the reply's tray, none to the conversation's.
  const png = await drawnPNG(pa);
  const [chooser] = await Promise.all([
    pa.waitForEvent('filechooser'),
    aliceThread.getByRole('button', { name: 'Attach files to the reply' }).press('Enter'),
  ]);
  await chooser.setFiles({ name: 'poster.png', mimeType: 'image/png', buffer: png });
  const dt = await pa.evaluateHandle((pdf) => {
    const d = new DataTransfer();
    d.items.add(new File([pdf], 'brief.pdf', { type: 'application/pdf' }));
    return d;
  }, pdfText);
  await aliceThread.dispatchEvent('dragover', { dataTransfer: dt });
  await aliceThread.dispatchEvent('drop', { dataTransfer: dt });
  const tray = aliceThread.getByRole('list', { name: 'Files to send with the reply' });
  await eventually(async () => (await tray.locator('li[data-status="done"]').count()) === 2, { message: 'both files uploaded and checked' });
  assert.equal(await pa.locator('.thread-main .tray').count(), 0, 'the conversation composer has no files');
  const width = await pa.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide at a 375 px screen`);
  await screenshot(pa, 'files-05-phone-reply-tray');

  const reply = aliceThread.getByLabel('Reply', { exact: true });
  await reply.fill('the green one');
  await reply.press('Enter');
  await eventually(async () => (await tray.count()) === 0, { message: 'the reply tray emptied' });

  // Bob's open thread shows the reply with its thumbnail and the PDF, live;
  // his timeline does not (the reply was not sent to the conversation).
  const got = bobThread.locator('li.msg', { hasText: 'the green one' });
  const thumb = got.locator('.att-image img');
  await thumb.waitFor({ timeout: 15_000 });
  const natural = await eventually(() => thumb.evaluate((img) => img.complete && img.naturalWidth), { message: 'thumbnail loaded' });
  assert.equal(natural, 320);
  await got.locator('.att-file', { hasText: 'brief.pdf' }).waitFor();
  assert.deepEqual(await shownMessages(pb), ['which one for the poster?']);
  await screenshot(pb, 'files-06-reply-received');

  // From the keyboard: open the image, download the original, close the
  // viewer with Escape (the thread stays open).
  await got.locator('.att-image').press('Enter');
  const viewer = pb.getByRole('dialog', { name: 'poster.png' });
  await viewer.waitFor();
  const [download] = await Promise.all([pb.waitForEvent('download'), viewer.getByRole('link', { name: 'Download original' }).press('Enter')]);
  assert.deepEqual(await readFile(await download.path()), png);
  assert.equal(download.suggestedFilename(), 'poster.png');
  await pb.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  assert.equal(await bobThread.isVisible(), true, 'Escape closed the viewer only');
});
