// The test harness: the real confab binary over HTTPS with its own
// self-signed certificate (--tls-self-signed) on a free loopback port, an
// SMTP receiver for the e-mailed codes, and the clients' TLS trust pointed
// at that certificate (verified, never switched off).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch, setGlobalDispatcher } from 'undici';
import WS from 'ws';

const root = join(import.meta.dirname, '..', '..');

// The admin key pair the servers are started with (what AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY hold for the AWS SDK and CLI).
export const adminKey = { accessKeyId: 'AKIACONFABTEST000001', secretAccessKey: 'confab-test-admin-secret-0123456789abcdef' };
export const userPoolId = 'local_confab';
export const clientId = 'confab';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let built;
// build compiles cmd/confab once per test process.
export function build(dir) {
  if (!built) {
    built = join(dir, 'confab');
    execFileSync('go', ['build', '-o', built, './cmd/confab'], { cwd: root, stdio: 'inherit' });
  }
  return built;
}

// startConfab runs `confab serve --tls-self-signed` with the admin key
// (unless extra names a credentials file) and extra flags on a free port, and waits until /healthz answers over
// verified TLS. It returns the base URL, the certificate (PEM) and stop().
export async function startConfab(dir, name, extra = []) {
  const bin = build(dir);
  const data = join(dir, name);
  const port = await freePort();
  const admin = extra.includes('--admin-credentials-file') ? []
    : ['--admin-access-key-id', adminKey.accessKeyId, '--admin-secret-access-key', adminKey.secretAccessKey];
  const args = ['serve', '--http', `127.0.0.1:${port}`, '--data', data, '--log-level', 'error', '--tls-self-signed', ...admin, ...extra];
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = null;
  proc.on('exit', (code) => { exited = code; });
  const certFile = join(data, 'tls', 'self-signed-cert.pem');
  const base = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`confab serve ${args.join(' ')} exited with ${exited}`);
    if (existsSync(certFile)) {
      const ca = readFileSync(certFile);
      try {
        const res = await undiciFetch(`${base}/healthz`, { dispatcher: new Agent({ connect: { ca } }) });
        if (res.ok) return { base, certFile, ca, stop: () => proc.kill('SIGTERM') };
      } catch {}
    }
    if (Date.now() > deadline) throw new Error('confab did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

// trust makes every client in this process trust the given certificates
// (and only them besides the system's): fetch (Amplify's HTTP) through
// undici's global dispatcher, and WebSocket (Amplify's subscriptions).
export function trust(cas) {
  setGlobalDispatcher(new Agent({ connect: { ca: cas } }));
  globalThis.fetch = undiciFetch;
  globalThis.WebSocket = class extends WS {
    constructor(url, protocols) {
      super(url, protocols, { ca: cas });
    }
  };
}

// httpsAgent is the AWS SDK's agent trusting cas.
export function httpsAgent(cas) {
  return new HttpsAgent({ ca: cas, keepAlive: false });
}

export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'confab-amplify-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// startSMTP is a minimal SMTP receiver (plain, no auth) on a free loopback
// port; mail resolves with the next message for an address.
export async function startSMTP() {
  const inbox = [];
  const waiting = [];
  const deliver = (msg) => {
    const i = waiting.findIndex((w) => msg.to.includes(w.to));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
    else inbox.push(msg);
  };
  const server = createServer((sock) => {
    let buf = '';
    let data = null;
    let to = [];
    sock.setEncoding('utf8');
    sock.write('220 localhost confab-test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          data += buf.slice(0, end + 2);
          buf = buf.slice(end + 5);
          deliver({ to, ...parseMessage(data) });
          data = null;
          to = [];
          sock.write('250 OK\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO') sock.write('250 localhost\r\n');
        else if (verb === 'RCPT') { to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, '$1')); sock.write('250 OK\r\n'); }
        else if (verb === 'DATA') { data = ''; sock.write('354 go on\r\n'); }
        else if (verb === 'QUIT') { sock.end('221 bye\r\n'); return; }
        else sock.write('250 OK\r\n'); // MAIL, RSET, NOOP
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `smtp://127.0.0.1:${server.address().port}`,
    mail(address, timeoutMs = 15_000) {
      const i = inbox.findIndex((m) => m.to.includes(address));
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const w = { to: address, resolve };
        waiting.push(w);
        setTimeout(() => {
          const j = waiting.indexOf(w);
          if (j >= 0) { waiting.splice(j, 1); reject(new Error(`no mail for ${address} within ${timeoutMs} ms`)); }
        }, timeoutMs).unref();
      });
    },
    close: () => server.close(),
  };
}

// parseMessage splits headers from the body and undoes quoted-printable.
function parseMessage(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  let body = raw.slice(split + 4).replace(/\r\n\.\./g, '\r\n.');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return { head, body };
}

// codeIn is the confirmation code in a mail body: the first run of 6 to 8 digits.
export function codeIn(msg) {
  const m = msg.body.match(/\b(\d{6,8})\b/);
  if (!m) throw new Error(`no code in mail: ${msg.body}`);
  return m[1];
}
