// Two people use the web chat page in Debian's Chromium, driven by playwright-core, against a
// real cluster: register, befriend, chat, see each other's presence, survive the loss of a
// node, reload, read history. Every step leaves screenshots in SCREENSHOT_DIR.
//
//   CHAT_PAGE_A   page of the first browser (its node is the one killed)
//   CHAT_PAGE_B   page of the second browser (shown at phone width)
//   SCREENSHOT_DIR  where the PNGs go (default target/browser)
//   CHROMIUM      the browser (default /usr/bin/chromium)
//
// To kill the first browser's node the script prints "@@kill-a" and waits for one line on
// stdin (the test that started the nodes does it), or runs CHAT_KILL_CMD when that is set.
// Exit code 0 when every step passed; the last line reads "N passed, M failed".
import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import path from 'node:path';

const PAGE_A = required('CHAT_PAGE_A');
const PAGE_B = required('CHAT_PAGE_B');
const SHOTS = process.env.SCREENSHOT_DIR || 'target/browser';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 30000; // generous: a shared or loaded machine is slow, a failure still shows
const A_ZONE = 'Asia/Tokyo';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

mkdirSync(SHOTS, { recursive: true });
const stdin = createInterface({ input: process.stdin });
const stdinLines = stdin[Symbol.asyncIterator]();

let passed = 0;
let failed = 0;
let shot = 0;
const problems = [];

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(name + ' is not set');
    process.exit(2);
  }
  return value;
}

function log(text) {
  console.log(new Date().toISOString().slice(11, 23) + ' ' + text);
}

async function screenshot(page, name) {
  shot++;
  const file = path.join(SHOTS, String(shot).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file });
  return file;
}

/** Runs one step; a failure is recorded with a screenshot of each page and ends the run. */
async function step(name, pages, body) {
  const started = Date.now();
  try {
    await body();
    passed++;
    for (const [label, page] of Object.entries(pages)) await screenshot(page, name + '-' + label);
    log('ok   ' + name + ' (' + (Date.now() - started) + ' ms)');
  } catch (e) {
    failed++;
    log('FAIL ' + name + ': ' + (e && e.stack ? e.stack : e));
    for (const [label, page] of Object.entries(pages)) {
      await screenshot(page, 'FAILED-' + name + '-' + label).catch(() => {});
    }
    throw e;
  }
}

async function until(condition, what) {
  const deadline = Date.now() + STEP_MS;
  while (!condition()) {
    check(Date.now() < deadline, 'no ' + what + ' within ' + STEP_MS + ' ms');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Watches a page: script errors, failed requests and 4xx/5xx answers are problems. */
function watch(page, label) {
  page.on('pageerror', (e) => problems.push(label + ': page error ' + e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(label + ': HTTP ' + r.status() + ' for ' + r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE/.test(m.text())) {
      problems.push(label + ': console error ' + m.text());
    }
  });
}

/** Counts the WebSocket frames a page sends and receives, by msgid. */
function frames(page) {
  const seen = { sent: [], received: [] };
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => { try { seen.sent.push(JSON.parse(f.payload)); } catch (e) { /* binary */ } });
    ws.on('framereceived', (f) => { try { seen.received.push(JSON.parse(f.payload)); } catch (e) { /* binary */ } });
  });
  return seen;
}

/** axe-core's WCAG 2.1 A/AA rules on the page as it is now: no serious or critical finding. */
async function audit(page, label) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => window.axe.run(document,
    { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, 'accessibility (' + label + '): ' + bad.map((v) => v.id + ' at '
    + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')).join('; '));
  log('accessibility (' + label + '): ' + result.passes.length + ' rules pass, '
    + result.violations.length + ' minor findings');
}

async function register(page, name) {
  await page.fill('#register-form input[name=name]', name);
  await page.fill('#register-form input[name=password]', 'pw-' + name);
  await page.click('#register-form button[type=submit]');
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#login-form input[name=who]').value),
    null, { timeout: STEP_MS });
  return Number(await page.inputValue('#login-form input[name=who]'));
}

async function signIn(page, who, password) {
  await page.fill('#login-form input[name=who]', String(who));
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#chat-view:not([hidden])', { timeout: STEP_MS });
  await connected(page);
}

async function connected(page) {
  await page.waitForSelector('#conn[data-state=connected]', { timeout: STEP_MS * 2 });
}

function entry(id) {
  return '.sidebar .entry[data-key="u:' + id + '"]';
}

async function friendShown(page, id, name, presence) {
  await page.waitForFunction(([sel, wantName, wantState]) => {
    const button = document.querySelector(sel);
    if (!button) return false;
    const online = !!button.querySelector('.dot.online');
    return button.querySelector('.label').textContent === wantName
      && online === (wantState === 'online');
  }, [entry(id), name, presence], { timeout: STEP_MS });
}

async function openChat(page, id) {
  if (await page.isVisible('#back') && await page.isHidden(entry(id))) await page.click('#back');
  await page.click(entry(id));
  await page.waitForSelector('#composer:not([hidden])', { timeout: STEP_MS });
}

async function say(page, text) {
  await page.fill('#msg', text);
  await page.press('#msg', 'Enter');
  await page.waitForFunction((t) => [...document.querySelectorAll('#messages .msg.mine')]
    .some((m) => m.querySelector('.body').textContent === t
      && m.querySelector('.status').textContent === 'sent'), text, { timeout: STEP_MS });
}

async function bodies(page) {
  return page.$$eval('#messages .msg .body', (nodes) => nodes.map((n) => n.textContent));
}

async function waitForBody(page, text) {
  await page.waitForFunction((t) => [...document.querySelectorAll('#messages .msg .body')]
    .some((n) => n.textContent === t), text, { timeout: STEP_MS });
}

async function noNotice(page, pattern) {
  const texts = await page.$$eval('#notices .notice .text', (nodes) => nodes.map((n) => n.textContent));
  check(!texts.some((t) => pattern.test(t)), 'notice still shown: ' + JSON.stringify(texts));
}

/** Minutes since midnight of "now" in a zone, and of an "HH:MM" text. */
function minutesNow(zone) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date()).split(':');
  return Number(parts[0]) * 60 + Number(parts[1]);
}

async function killNodeA() {
  if (process.env.CHAT_KILL_CMD) {
    execSync(process.env.CHAT_KILL_CMD, { stdio: 'inherit' });
    return;
  }
  console.log('@@kill-a');
  const line = await stdinLines.next();
  check(!line.done, 'nobody killed the node (stdin closed)');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  const suffix = Math.random().toString(36).slice(2, 8);
  const aliceName = 'alice-' + suffix;
  const bobName = 'bob-' + suffix;
  try {
    const ctxA = await browser.newContext({
      viewport: { width: 1100, height: 720 }, locale: 'en-GB', timezoneId: A_ZONE,
    });
    const ctxB = await browser.newContext({
      viewport: { width: 390, height: 780 }, locale: 'en-US', timezoneId: 'America/New_York',
      isMobile: true, hasTouch: true,
    });
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    watch(a, 'A');
    watch(b, 'B');
    const framesA = frames(a);
    const framesB = frames(b);
    let aliceId;
    let bobId;

    await step('register', { a, b }, async () => {
      await a.goto(PAGE_A);
      await b.goto(PAGE_B);
      aliceId = await register(a, aliceName);
      bobId = await register(b, bobName);
      check(aliceId !== bobId, 'both got ID ' + aliceId);
      const icon = await a.evaluate(async () => {
        const r = await fetch('/favicon.ico');
        return r.status + ' ' + r.headers.get('content-type');
      });
      check(/^200 image\//.test(icon), '/favicon.ico answered ' + icon);
      await audit(a, 'sign-in page');
    });

    await step('sign-in', { a, b }, async () => {
      await signIn(a, aliceId, 'pw-' + aliceName);
      await signIn(b, bobId, 'pw-' + bobName);
      const login = framesA.sent.find((m) => m.msgid === 1);
      check(login && login.offline === 'ack', 'LOGIN without "offline":"ack": ' + JSON.stringify(login));
    });

    await step('befriend-both-sides-at-once', { a, b }, async () => {
      await a.fill('#friendid', String(bobId));
      await a.click('#add-friend-form button[type=submit]');
      // Both see the other at once, by name, online, without a reload.
      await friendShown(a, bobId, bobName, 'online');
      await friendShown(b, aliceId, aliceName, 'online');
    });

    await step('chat-with-unread-and-title', { a, b }, async () => {
      await openChat(a, bobId);
      await say(a, 'hello bob');
      await b.waitForFunction((sel) => {
        const badge = document.querySelector(sel + ' .badge');
        return badge && badge.textContent.startsWith('1');
      }, entry(aliceId), { timeout: STEP_MS });
      check((await b.title()).startsWith('(1) '), 'B title without the unread count: ' + await b.title());
      await openChat(b, aliceId);
      await waitForBody(b, 'hello bob');
      check(!(await b.title()).startsWith('('), 'B title still counts unread: ' + await b.title());
      await say(b, 'hi alice');
      await waitForBody(a, 'hi alice');
      await audit(a, 'conversation');
      await audit(b, 'conversation at phone width');
    });

    await step('times-in-the-viewers-zone', { a }, async () => {
      const times = await a.$$eval('#messages .msg time', (nodes) => nodes.map((n) => n.textContent));
      check(times.length >= 2, 'no times: ' + times);
      const now = minutesNow(A_ZONE);
      for (const t of times) {
        const m = /^(\d{2}):(\d{2})$/.exec(t);
        check(m, 'time not HH:MM in en-GB: ' + t);
        const diff = Math.abs(Number(m[1]) * 60 + Number(m[2]) - now);
        check(diff <= 2 || diff >= 24 * 60 - 2, 'time ' + t + ' is not now in ' + A_ZONE);
      }
    });

    await step('presence-offline-and-back', { a, b }, async () => {
      await b.click('#logout');
      await b.waitForSelector('#auth-view:not([hidden])', { timeout: STEP_MS });
      await friendShown(a, bobId, bobName, 'offline');
      await say(a, 'while you were out 1');
      await say(a, 'while you were out 2');
      await signIn(b, bobId, 'pw-' + bobName);
      await friendShown(a, bobId, bobName, 'online');
      await friendShown(b, aliceId, aliceName, 'online');
    });

    await step('offline-messages-acknowledged', { b }, async () => {
      await openChat(b, aliceId);
      await waitForBody(b, 'while you were out 2');
      const texts = await bodies(b);
      check(texts.filter((t) => t === 'while you were out 1').length === 1, 'not once: ' + texts);
      check(texts.indexOf('while you were out 1') < texts.indexOf('while you were out 2'), 'order: ' + texts);
      const ack = [...framesB.received].reverse().find((m) => m.msgid === 2);
      check(ack && Object.prototype.hasOwnProperty.call(ack, 'offline_more'),
        'the LOGIN ack has no offline_more (offline messages did not come as acknowledged pages): ' + JSON.stringify(ack));
      const acked = framesB.sent.filter((m) => m.msgid === 109);
      check(acked.length >= 1, 'offline messages were not acknowledged (no OFFLINE_ACK)');
    });

    await step('node-killed-and-back-by-itself', { a, b }, async () => {
      await killNodeA();
      await a.waitForSelector('#conn:not([data-state=connected])', { timeout: STEP_MS });
      await screenshot(a, 'connection-lost-a');
      await connected(a);
      await a.waitForFunction(() => ![...document.querySelectorAll('#notices .notice .text')]
        .some((n) => /Connection lost/.test(n.textContent)), null, { timeout: STEP_MS });
      await noNotice(a, /Connection lost/);
      const logins = framesA.sent.filter((m) => m.msgid === 1);
      check(logins.length >= 2 && typeof logins[logins.length - 1].token === 'string',
        'did not log in again with the token: ' + JSON.stringify(logins));
      await say(a, 'back after the node died');
      await waitForBody(b, 'back after the node died');
      await friendShown(b, aliceId, aliceName, 'online');
    });

    await step('reload-keeps-the-conversation', { a }, async () => {
      await a.reload({ waitUntil: 'domcontentloaded' });
      // Shown from the tab's cache before the socket is even open.
      const early = await bodies(a);
      check(early.includes('hi alice') && early.includes('back after the node died'),
        'not shown at once after the reload: ' + early);
      await connected(a);
      await waitForBody(a, 'hi alice');
      await noNotice(a, /Connection lost/);
    });

    const BULK = 60;
    await step('many-messages', { a }, async () => {
      // After the reload the page shows the conversation before its socket has signed in
      // again: send once it has (a chat typed earlier is refused as not connected).
      await a.waitForFunction(() => document.getElementById('conn').dataset.state === 'connected'
        && document.getElementById('conn-text').textContent === 'connected', null, { timeout: STEP_MS });
      for (let i = 1; i <= BULK; i++) {
        await a.fill('#msg', 'bulk ' + i);
        await a.press('#msg', 'Enter');
      }
      await a.waitForFunction((n) => [...document.querySelectorAll('#messages .msg.mine')]
        .filter((m) => /^bulk \d+$/.test(m.querySelector('.body').textContent)
          && m.querySelector('.status').textContent === 'sent').length === n, BULK, { timeout: STEP_MS * 2 });
    });

    await step('second-device-history-versions-restart', { a }, async () => {
      const ctxC = await browser.newContext({ viewport: { width: 1100, height: 720 } });
      const c = await ctxC.newPage();
      watch(c, 'C');
      const framesC = frames(c);
      // Its socket passes a route through which the test can add frames of its own.
      let route = null;
      let server = null;
      const opened = [];
      // HISTORY answers reach this page with one time for every message: times have
      // one-second steps, and the page must not order by them.
      await c.routeWebSocket(/\/ws$/, (ws) => {
        server = ws.connectToServer();
        route = ws;
        opened.push(Date.now());
        ws.onMessage((m) => server.send(m));
        server.onMessage((m) => {
          let frame = m;
          try {
            const message = JSON.parse(m);
            if (message.ref === 110 && Array.isArray(message.messages)) {
              message.messages.forEach((x) => { x.time = '2026-01-01 00:00:00'; });
              frame = JSON.stringify(message);
            }
          } catch (e) {
            // not JSON: passed on as it is
          }
          ws.send(frame);
        });
      });
      await c.goto(PAGE_B);
      await signIn(c, bobId, 'pw-' + bobName); // the same account elsewhere: B is kicked
      await c.waitForSelector(entry(aliceId), { timeout: STEP_MS });
      await openChat(c, aliceId);
      await c.waitForFunction(() => !document.querySelector('#messages .msg.system')
        || !/Loading/.test(document.querySelector('#messages').textContent), null, { timeout: STEP_MS });
      const answer = framesC.received.find((m) => m.ref === 110);
      check(answer && answer.msgid === 105, 'HISTORY was not answered: ' + JSON.stringify(answer));
      await waitForBody(c, 'bulk ' + BULK);
      check(!(await bodies(c)).includes('hello bob'), 'more than one page of history at once');
      // Scrolling up brings the earlier pages, in order.
      for (let round = 0; round < 5 && !(await bodies(c)).includes('hello bob'); round++) {
        const before = (await bodies(c)).length;
        await c.$eval('#messages', (list) => { list.scrollTop = 0; list.dispatchEvent(new Event('scroll')); });
        await c.waitForFunction((n) => document.querySelectorAll('#messages .msg .body').length > n
          || !document.querySelector('#messages button.link'), before, { timeout: STEP_MS });
      }
      const all = await bodies(c);
      check(all.includes('hello bob') && all.includes('back after the node died'), 'not all history: ' + all);
      for (let i = 1; i < BULK; i++) {
        check(all.indexOf('bulk ' + i) < all.indexOf('bulk ' + (i + 1)), 'history out of order at ' + i);
      }
      check(all.filter((t) => t === 'bulk 7').length === 1, 'a message twice in history');
      log('history: ' + all.length + ' messages from HISTORY, in pages');

      // A reload: the tab's cache, then the newest page of history, make one list in order.
      const answers = framesC.received.filter((m) => m.ref === 110).length;
      await c.reload({ waitUntil: 'domcontentloaded' });
      await connected(c);
      await until(() => framesC.received.filter((m) => m.ref === 110).length > answers, 'HISTORY after the reload');
      const merged = await bodies(c);
      for (let i = 1; i < BULK; i++) {
        check(merged.indexOf('bulk ' + i) < merged.indexOf('bulk ' + (i + 1)), 'out of order after the reload at ' + i + ': ' + merged);
      }
      check(merged.indexOf('hello bob') < merged.indexOf('bulk 1'), 'out of order after the reload: ' + merged);
      check(new Set(merged).size === merged.length, 'a message twice after the reload: ' + merged);
      await screenshot(c, 'history-fresh-browser');

      // Presence by version: the highest v wins, whatever order the messages come in.
      check(route !== null, 'the socket was not routed');
      const top = Number.MAX_SAFE_INTEGER;
      route.send(JSON.stringify({ msgid: 103, id: aliceId, state: 'offline', v: top - 10 }));
      await friendShown(c, aliceId, aliceName, 'offline');
      route.send(JSON.stringify({ msgid: 103, id: aliceId, state: 'online', v: top - 11 }));
      route.send(JSON.stringify({ msgid: 111, id: aliceId, name: aliceName, state: 'online', v: top - 12 }));
      route.send(JSON.stringify({ msgid: 103, id: aliceId, state: 'online' }));
      // Frames are handled in order: once this one shows, the stale ones above were handled.
      route.send(JSON.stringify({ msgid: 108, msg: 'stale states sent' }));
      await c.waitForFunction(() => [...document.querySelectorAll('#notices .notice .text')]
        .some((n) => /stale states sent/.test(n.textContent)), null, { timeout: STEP_MS });
      await friendShown(c, aliceId, aliceName, 'offline');
      route.send(JSON.stringify({ msgid: 103, id: aliceId, state: 'online', v: top - 9 }));
      await friendShown(c, aliceId, aliceName, 'online');

      // SERVER_CLOSING: the page waits reconnect_after_ms (plus at most 1 s of jitter; the
      // upper bound here leaves room for a loaded machine), says
      // why, and comes back by itself.
      const asked = 2000;
      const socketsBefore = opened.length;
      route.send(JSON.stringify({ msgid: 106, reconnect_after_ms: asked }));
      await c.waitForFunction(() => [...document.querySelectorAll('#notices .notice .text')]
        .some((n) => /restarting/.test(n.textContent)), null, { timeout: STEP_MS });
      const closedAt = Date.now();
      server.close({ code: 1001 });
      route.close({ code: 1001 });
      await c.waitForSelector('#conn:not([data-state=connected])', { timeout: STEP_MS });
      await connected(c);
      check(opened.length === socketsBefore + 1, 'sockets opened: ' + (opened.length - socketsBefore));
      const waited = opened[opened.length - 1] - closedAt;
      check(waited >= asked && waited <= asked + 6000, 'reconnected after ' + waited + ' ms, asked ' + asked);
      log('reconnect after SERVER_CLOSING: ' + waited + ' ms (asked ' + asked + ')');
      await screenshot(c, 'after-server-closing');
      await b.waitForSelector('#auth-view:not([hidden])', { timeout: STEP_MS });
      await ctxC.close();
    });

    await step('presence-the-other-way', { b }, async () => {
      // B's account was taken over by C, which closed: alice sees bob offline.
      await friendShown(a, bobId, bobName, 'offline');
      const histories = framesB.received.filter((m) => m.ref === 110).length;
      await b.click('#resume-button');
      await connected(b);
      await friendShown(a, bobId, bobName, 'online');
      // The cached conversation and the newest page of history make one list, in order.
      await until(() => framesB.received.filter((m) => m.ref === 110).length > histories, 'HISTORY answer');
      const merged = await bodies(b);
      for (let i = 1; i < BULK; i++) {
        check(merged.indexOf('bulk ' + i) < merged.indexOf('bulk ' + (i + 1)), 'merged out of order at ' + i + ': ' + merged);
      }
      check(merged.indexOf('hello bob') < merged.indexOf('bulk 1'), 'merged out of order: ' + merged);
      check(new Set(merged).size === merged.length, 'a message twice: ' + merged);
      await ctxA.close();
      await friendShown(b, aliceId, aliceName, 'offline');
    });

    check(problems.length === 0, 'problems on the pages:\n' + problems.join('\n'));
  } finally {
    await browser.close();
  }
}

main()
  .catch((e) => {
    if (!failed) {
      failed++;
      log('FAIL ' + (e && e.stack ? e.stack : e));
    }
  })
  .finally(() => {
    console.log(passed + ' passed, ' + failed + ' failed');
    stdin.close();
    process.exit(failed ? 1 : 0);
  });
