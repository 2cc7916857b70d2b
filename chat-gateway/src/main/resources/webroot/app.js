// Web chat client: speaks the JSON protocol v1.1 over ws(s)://<this host>/ws.
// All text from users and the server is put into the page with textContent, never as HTML.
//
// What it keeps where:
// - localStorage 'chat.session': {id, name, token} so a reload or a new tab resumes the login
//   (the token, never the password; a logout forgets it and the server revokes it);
// - sessionStorage 'chat.cache.<id>': the recent messages of each conversation (the last
//   CACHE_PER_CONV), the friends and groups, so a reload shows them at once, before the
//   server answers. sessionStorage rather than localStorage: it survives a reload of this
//   tab but goes with the tab, so message text is not left behind on a shared computer;
//   what lasts is the server's history (HISTORY 110), asked when a conversation opens.
(function () {
  'use strict';

  const MSG = {
    LOGIN: 1, LOGIN_ACK: 2, LOGOUT: 3, REG: 4, REG_ACK: 5, ONE_CHAT: 6, ADD_FRIEND: 7,
    CREATE_GROUP: 8, ADD_GROUP: 9, GROUP_CHAT: 10,
    PING: 100, PONG: 101, KICKED: 102, PRESENCE: 103, ERROR: 104, ACK: 105,
    SERVER_CLOSING: 106, PRESENCE_QUERY: 107, BROADCAST: 108,
    OFFLINE_ACK: 109, HISTORY: 110, FRIEND: 111,
  };
  const REQUEST_TIMEOUT_MS = 10000;
  const FIRST_BACKOFF_MS = 1000;
  const MAX_BACKOFF_MS = 30000;
  const HISTORY_PAGE = 50;
  const CACHE_PER_CONV = 100;
  const SESSION_KEY = 'chat.session';
  const CACHE_PREFIX = 'chat.cache.';
  const BASE_TITLE = document.title;

  const state = {
    ws: null,
    opening: null,        // Promise of the socket being opened
    seq: 0,
    pending: new Map(),   // seq -> {resolve, reject, timer}
    me: null,             // {id, name} once logged in (or resuming)
    online: false,        // logged in on an open socket
    people: new Map(),    // id -> {id, name, state, v}: names and presence of everyone we know
    friends: new Set(),   // ids
    groups: new Map(),    // id -> {id, groupname, groupdesc, members: Map(id -> role)}
    convs: new Map(),     // 'u:13' / 'g:3' -> conversation
    active: null,         // key of the open conversation
    heartbeat: null,      // interval timer
    lastHeard: 0,         // when the server last sent anything
    heartbeatTimeoutMs: 25000,
    reconnect: null,      // timeout timer
    backoffMs: FIRST_BACKOFF_MS,
    closingDelayMs: null, // set by SERVER_CLOSING: reconnect after that many ms
    autoResume: false,    // reconnect and resume with the token when the socket drops
    historyMissing: false, // the server does not know HISTORY (older version)
    saveTimer: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM helpers

  /** Creates an element; string children become text nodes (never parsed as HTML). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /**
   * Shows a notice. One with a key replaces the earlier notice of that key and stays until
   * clearNotice(key) (the problem it reports is resolved) or the user dismisses it; 'info'
   * notices without a key go away by themselves.
   */
  function notice(text, kind, key) {
    if (key) clearNotice(key);
    const item = el('div', { class: 'notice ' + (kind || 'info'), dataset: key ? { key } : {} },
      el('span', { class: 'text' }, text),
      el('time', { class: 'muted' }, formatTime(Date.now())),
      el('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '\u00d7'));
    $('notices').prepend(item);
    while ($('notices').children.length > 5) $('notices').lastElementChild.remove();
    if (!key && (kind === 'info' || !kind)) setTimeout(() => item.remove(), 8000);
  }

  function clearNotice(key) {
    for (const item of [...$('notices').children]) {
      if (item.dataset.key === key) item.remove();
    }
  }

  function announce(text) {
    $('announcer').textContent = text;
  }

  // ---------------------------------------------------------------- time

  const sameDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const sameYear = new Intl.DateTimeFormat(undefined,
    { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const otherYear = new Intl.DateTimeFormat(undefined,
    { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const full = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit',
    second: '2-digit', timeZoneName: 'short',
  });

  /**
   * The server's "YYYY-MM-DD HH:MM:SS" as milliseconds since the epoch. The server stamps
   * UTC (unless its operator set CHAT_TIMEZONE to something else); null when unreadable.
   */
  function parseServerTime(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(String(text || ''));
    if (!m) return null;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  }

  /** One format everywhere, in the viewer's time zone: "14:05", "Dec 1, 14:05", or with the year. */
  function formatTime(ms) {
    if (typeof ms !== 'number') return '';
    const date = new Date(ms);
    const now = new Date();
    if (date.toDateString() === now.toDateString()) return sameDay.format(date);
    if (date.getFullYear() === now.getFullYear()) return sameYear.format(date);
    return otherYear.format(date);
  }

  function setConnection(status, text) {
    $('conn').dataset.state = status;
    $('conn-text').textContent = text || status;
  }

  // ---------------------------------------------------------------- saved session and cache

  function savedSession() {
    try {
      const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
      return saved && Number.isInteger(saved.id) && typeof saved.token === 'string' ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function saveSession(session) {
    try {
      if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
      else localStorage.removeItem(SESSION_KEY);
    } catch (e) {
      // Storage may be disabled; resuming then simply is not offered.
    }
  }

  /** Writes the cache now (before acknowledging offline messages, and when the page goes). */
  function saveCache() {
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    if (!state.me) return;
    const convs = [...state.convs.values()].map((c) => ({
      key: c.key, kind: c.kind, id: c.id, unread: c.unread, more: c.more,
      messages: c.messages.slice(-CACHE_PER_CONV).map((m) => ({
        msgno: m.msgno, mine: m.mine, fromId: m.fromId, from: m.from, ts: m.ts, text: m.text,
        status: m.status === 'sending' ? 'failed' : m.status, error: m.error, offline: m.offline,
      })),
    }));
    const groups = [...state.groups.values()].map((g) => ({
      id: g.id, groupname: g.groupname, groupdesc: g.groupdesc, members: [...g.members],
    }));
    const data = {
      version: 1, me: state.me, active: state.active, friends: [...state.friends],
      people: [...state.people.values()], groups, convs,
    };
    try {
      sessionStorage.setItem(CACHE_PREFIX + state.me.id, JSON.stringify(data));
    } catch (e) {
      // Full or disabled: the server's history still has the conversation.
    }
  }

  function saveSoon() {
    if (!state.saveTimer) state.saveTimer = setTimeout(saveCache, 300);
  }

  function loadCache(userId) {
    let data;
    try {
      data = JSON.parse(sessionStorage.getItem(CACHE_PREFIX + userId) || 'null');
    } catch (e) {
      return false;
    }
    if (!data || data.version !== 1 || !data.me || data.me.id !== userId) return false;
    state.me = data.me;
    for (const p of data.people || []) state.people.set(p.id, p);
    for (const id of data.friends || []) state.friends.add(id);
    for (const g of data.groups || []) {
      state.groups.set(g.id, {
        id: g.id, groupname: g.groupname, groupdesc: g.groupdesc, members: new Map(g.members || []),
      });
    }
    for (const c of data.convs || []) {
      const conv = conversation(c.kind, c.id);
      conv.unread = c.unread || 0;
      conv.more = c.more !== false;
      conv.messages = c.messages || [];
    }
    state.active = data.active && state.convs.has(data.active) ? data.active : null;
    return true;
  }

  function dropCache(userId) {
    try {
      sessionStorage.removeItem(CACHE_PREFIX + userId);
    } catch (e) {
      // nothing kept
    }
  }

  // ---------------------------------------------------------------- socket

  function socketUrl() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  }

  /** Resolves once a socket is open, opening one if needed. */
  function ensureSocket() {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    if (state.opening) return state.opening;
    setConnection('connecting', 'connecting\u2026');
    state.opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(socketUrl());
      state.ws = ws;
      ws.onopen = () => {
        state.opening = null;
        state.lastHeard = Date.now();
        setConnection('connected', state.me && !state.online ? 'signing in\u2026' : 'connected');
        resolve();
      };
      ws.onmessage = (event) => {
        state.lastHeard = Date.now();
        onFrame(event.data);
      };
      ws.onclose = (event) => {
        const wasOpening = state.opening !== null;
        state.opening = null;
        onClose(ws, event);
        if (wasOpening) reject(new Error('cannot reach the server'));
      };
    });
    return state.opening;
  }

  function send(message) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) throw new Error('not connected');
    state.ws.send(JSON.stringify(message));
  }

  function trySend(message) {
    try {
      send(message);
    } catch (e) {
      // The socket is going away; its close handler deals with it.
    }
  }

  /**
   * Sends a request with a fresh seq. Resolves with the reply that echoes it (classic reply
   * or ACK), rejects with the ERROR (err.errno) or on timeout.
   */
  async function request(message) {
    await ensureSocket();
    return exchange(message);
  }

  /** Like request, for what only a logged-in session may send: never opens a new socket. */
  async function userRequest(message) {
    if (!state.online || !state.ws || state.ws.readyState !== WebSocket.OPEN) {
      throw new Error('not connected to the server right now');
    }
    return exchange(message);
  }

  /**
   * A chat refused with ERROR 503 was not taken (CONTRACT: "no effect"): it is sent again after
   * the advised retry_after_ms (jittered), a few times, before it is shown as not sent.
   */
  async function requestWithRetries(message, attempts = 4) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await userRequest(message);
      } catch (e) {
        if (e.errno !== 503 || attempt >= attempts) throw e;
        const base = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : 1000;
        await new Promise((r) => setTimeout(r, base + Math.random() * base / 2));
      }
    }
  }

  function exchange(message) {
    const seq = ++state.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        state.pending.delete(seq);
        reject(new Error('no answer from the server'));
      }, REQUEST_TIMEOUT_MS);
      state.pending.set(seq, { resolve, reject, timer });
      try {
        send(Object.assign({}, message, { seq }));
      } catch (e) {
        clearTimeout(timer);
        state.pending.delete(seq);
        reject(e);
      }
    });
  }

  function failPending(reason) {
    for (const { reject, timer } of state.pending.values()) {
      clearTimeout(timer);
      reject(new Error(reason));
    }
    state.pending.clear();
  }

  function onClose(ws, event) {
    if (ws !== state.ws) return;
    state.ws = null;
    state.online = false;
    stopHeartbeat();
    failPending('connection closed');
    setConnection('offline', 'offline');
    if (!state.autoResume) return;
    if (state.closingDelayMs === null) {
      notice('Connection lost' + (event && event.code ? ' (code ' + event.code + ')' : '')
        + '. Reconnecting\u2026', 'warn', 'connection');
    }
    scheduleReconnect();
  }

  /**
   * The next try, after the server's reconnect_after_ms (SERVER_CLOSING) or an exponential
   * backoff, both jittered so that the clients of a stopped node do not all come back at once.
   */
  function scheduleReconnect() {
    clearTimeout(state.reconnect);
    let delay;
    if (state.closingDelayMs !== null) {
      const base = state.closingDelayMs;
      delay = base + Math.random() * Math.min(Math.max(base / 2, 500), 5000);
      state.closingDelayMs = null;
    } else {
      delay = state.backoffMs / 2 + Math.random() * state.backoffMs / 2;
      state.backoffMs = Math.min(state.backoffMs * 2, MAX_BACKOFF_MS);
    }
    setConnection('offline', 'reconnecting in ' + Math.max(1, Math.round(delay / 1000)) + ' s');
    state.reconnect = setTimeout(resume, delay);
  }

  /** Logs in again with the saved token (after a reconnect, at start-up, or from the button). */
  async function resume() {
    clearTimeout(state.reconnect);
    state.reconnect = null;
    const saved = savedSession();
    if (!saved) {
      state.autoResume = false;
      clearSession();
      showAuth();
      return;
    }
    state.autoResume = true;
    try {
      await login({ id: saved.id, token: saved.token });
    } catch (e) {
      if (e.denied) {
        state.autoResume = false;
        saveSession(null);
        dropCache(saved.id);
        clearSession();
        showAuth();
        clearNotice('connection');
        notice('Please sign in again: ' + e.message, 'error', 'connection');
      } else if (state.ws) {
        // The socket is open but the login failed (busy server, timeout): try again later.
        // A socket that did not open has its next try scheduled by the close handler.
        scheduleReconnect();
      }
    }
  }

  // ---------------------------------------------------------------- heartbeat

  function startHeartbeat(heartbeat) {
    stopHeartbeat();
    const interval = heartbeat && Number(heartbeat.interval) > 0 ? Number(heartbeat.interval) : 10;
    const timeout = heartbeat && Number(heartbeat.timeout) > 0 ? Number(heartbeat.timeout) : 25;
    state.heartbeatTimeoutMs = timeout * 1000;
    state.heartbeat = setInterval(() => {
      if (Date.now() - state.lastHeard > state.heartbeatTimeoutMs && state.ws) {
        // The server has been silent through several PINGs: the connection is dead even if
        // the browser has not noticed (a frozen node, a dropped network).
        const ws = state.ws;
        onClose(ws, { code: 4000 });
        ws.close();
        return;
      }
      trySend({ msgid: MSG.PING });
    }, interval * 1000);
  }

  function stopHeartbeat() {
    clearInterval(state.heartbeat);
    state.heartbeat = null;
  }

  // ---------------------------------------------------------------- incoming frames

  function onFrame(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      notice('The server sent something that is not JSON.', 'error');
      return;
    }
    if (!message || typeof message !== 'object') return;

    if (message.seq !== undefined && state.pending.has(message.seq)) {
      const { resolve, reject, timer } = state.pending.get(message.seq);
      clearTimeout(timer);
      state.pending.delete(message.seq);
      if (message.msgid === MSG.ERROR) {
        const error = new Error(message.errmsg || 'error ' + message.errno);
        error.errno = message.errno;
        error.retryAfterMs = message.retry_after_ms;
        reject(error);
      } else {
        resolve(message);
      }
      return;
    }

    switch (message.msgid) {
      case MSG.ONE_CHAT:
      case MSG.GROUP_CHAT:
        if (receiveChat(message, 'live')) saveSoon();
        render();
        break;
      case MSG.PRESENCE:
        if (applyPresence(message.id, message.state, message.v)) {
          const person = state.people.get(message.id);
          if (state.friends.has(message.id)) {
            announce(personLabel(person) + ' is ' + person.state + '.');
          }
          render();
        }
        break;
      case MSG.FRIEND:
        onFriend(message);
        break;
      case MSG.KICKED:
        onKicked(message);
        break;
      case MSG.SERVER_CLOSING:
        onServerClosing(message);
        break;
      case MSG.BROADCAST:
        notice('Announcement: ' + String(message.msg), 'broadcast');
        break;
      case MSG.ERROR:
        notice('Error ' + message.errno + ': ' + (message.errmsg || 'unknown'), 'error');
        break;
      case MSG.PING:
        trySend({ msgid: MSG.PONG });
        break;
      default:
        // PONG, stray ACKs and messages of later protocol versions need nothing.
        break;
    }
  }

  function onKicked(message) {
    // Another login of this account took over. Coming back on our own would throw it out.
    state.autoResume = false;
    clearTimeout(state.reconnect);
    clearNotice('connection');
    clearSession();
    showAuth();
    notice('Signed out: ' + (message.errmsg || 'this account logged in elsewhere') + '.', 'error',
      'connection');
  }

  function onServerClosing(message) {
    const ms = Number(message.reconnect_after_ms);
    state.closingDelayMs = Number.isFinite(ms) && ms >= 0 ? ms : 1000;
    notice('The server is restarting; reconnecting in about '
      + Math.max(1, Math.round(state.closingDelayMs / 1000)) + ' s.', 'warn', 'connection');
    // The server closes the socket itself; the close handler reconnects.
  }

  // ---------------------------------------------------------------- people and presence

  function person(id, name) {
    let p = state.people.get(id);
    if (!p) {
      p = { id, name: null, state: 'offline' };
      state.people.set(id, p);
    }
    if (typeof name === 'string' && name) p.name = name;
    return p;
  }

  function personLabel(p) {
    return p && p.name ? p.name : 'user ' + (p ? p.id : '?');
  }

  /**
   * Applies an online/offline state. With a version `v` the state with the highest v wins,
   * whatever order the messages came in; a state without one (an older server) is taken
   * only while no versioned state is known. True when something changed.
   */
  function applyPresence(id, presence, v) {
    if (!Number.isInteger(id) || (presence !== 'online' && presence !== 'offline')) return false;
    const p = person(id);
    if (typeof v === 'number') {
      if (typeof p.v === 'number' && v <= p.v) return false;
      p.v = v;
    } else if (typeof p.v === 'number') {
      return false;
    }
    const changed = p.state !== presence;
    p.state = presence;
    return changed;
  }

  function onFriend(message) {
    if (!Number.isInteger(message.id)) return;
    const known = state.friends.has(message.id);
    state.friends.add(message.id);
    const p = person(message.id, message.name);
    applyPresence(message.id, message.state, message.v);
    if (!known && !state.addingFriend.has(message.id)) {
      notice(personLabel(p) + ' (ID ' + p.id + ') added you as a friend.', 'info');
      announce(personLabel(p) + ' added you as a friend.');
    }
    saveSoon();
    render();
  }

  // ---------------------------------------------------------------- account

  async function login(credentials) {
    const ack = await request(Object.assign(
      { msgid: MSG.LOGIN, format: 'structured', offline: 'ack' }, credentials));
    if (ack.errno !== 0) {
      const error = new Error(ack.errno === 2
        ? 'this account is already online elsewhere'
        : (ack.errmsg || 'error ' + ack.errno));
      error.denied = ack.errno === 1;
      throw error;
    }
    await onLoggedIn(ack);
  }

  async function onLoggedIn(ack) {
    if (state.me && state.me.id !== ack.id) clearSession();
    const resumed = state.me !== null;
    state.me = { id: ack.id, name: ack.name };
    state.online = true;
    state.autoResume = true;
    state.backoffMs = FIRST_BACKOFF_MS;
    if (typeof ack.token === 'string' && ack.token) {
      saveSession({ id: ack.id, name: ack.name, token: ack.token });
    }
    if (resumed && document.querySelector('.notices [data-key="connection"]')) {
      clearNotice('connection');
      notice('Reconnected.', 'info');
    }
    setConnection('connected', 'connected');

    state.friends.clear();
    for (const friend of (ack.friends || []).map(parseItem)) {
      if (!friend || !Number.isInteger(friend.id)) continue;
      state.friends.add(friend.id);
      person(friend.id, friend.name);
      applyPresence(friend.id, friend.state, friend.v);
    }
    state.groups.clear();
    for (const group of (ack.groups || []).map(parseItem)) {
      if (!group || !Number.isInteger(group.id)) continue;
      const members = new Map();
      for (const user of (group.users || []).map(parseItem)) {
        if (!user || !Number.isInteger(user.id)) continue;
        members.set(user.id, user.role || 'normal');
        person(user.id, user.name);
        applyPresence(user.id, user.state, user.v);
      }
      state.groups.set(group.id, {
        id: group.id, groupname: group.groupname, groupdesc: group.groupdesc || '', members,
      });
    }
    startHeartbeat(ack.heartbeat);
    showChat();
    render();
    await takeOffline(ack);
    const conv = state.convs.get(state.active);
    if (conv) loadHistory(conv, false);
    saveSoon();
  }

  /**
   * Offline messages with acknowledged delivery: each page is shown and saved, then
   * acknowledged up to its last msgno, which brings the next page. What is not acknowledged
   * (the page is closed, the connection drops) comes again at the next login, with the same
   * msgno, and is shown once.
   */
  async function takeOffline(ack) {
    const acknowledged = Object.prototype.hasOwnProperty.call(ack, 'offline_more');
    let page = ack.offlinemsg || [];
    let count = 0;
    for (;;) {
      let last = null;
      for (const item of page.map(parseItem)) {
        if (!item) continue;
        if (receiveChat(item, 'offline')) count++;
        if (typeof item.msgno === 'string') last = item.msgno;
      }
      render();
      if (!acknowledged || last === null) break;
      saveCache();
      let reply;
      try {
        reply = await userRequest({ msgid: MSG.OFFLINE_ACK, upto: last });
      } catch (e) {
        break; // not acknowledged: the server gives them again next time
      }
      page = reply.offlinemsg || [];
      if (!page.length) break;
    }
    if (count) {
      notice(count + ' message' + (count === 1 ? '' : 's') + ' arrived while you were away.', 'info');
    }
  }

  /** Login-ack items are objects with "format":"structured"; JSON texts from older servers. */
  function parseItem(item) {
    if (typeof item !== 'string') return item;
    try {
      return JSON.parse(item);
    } catch (e) {
      return null;
    }
  }

  function clearSession() {
    stopHeartbeat();
    state.me = null;
    state.online = false;
    state.people.clear();
    state.friends.clear();
    state.groups.clear();
    state.convs.clear();
    state.active = null;
    updateTitle();
  }

  async function logout() {
    state.autoResume = false;
    clearTimeout(state.reconnect);
    const me = state.me;
    try {
      if (state.online) await userRequest({ msgid: MSG.LOGOUT, id: me ? me.id : 0 });
    } catch (e) {
      // Logged out locally either way.
    }
    // The server revokes every token issued before the logout.
    saveSession(null);
    if (me) dropCache(me.id);
    clearNotice('connection');
    clearSession();
    showAuth();
  }

  // ---------------------------------------------------------------- conversations

  function conversation(kind, id) {
    const key = kind + ':' + id;
    if (!state.convs.has(key)) {
      state.convs.set(key, {
        key, kind, id, messages: [], unread: 0, more: true, fetched: false, loading: false,
      });
    }
    return state.convs.get(key);
  }

  /** The conversation a chat message belongs to, from this user's point of view. */
  function conversationOf(message) {
    if (message.msgid === MSG.ONE_CHAT && Number.isInteger(message.id)) {
      const other = state.me && message.id === state.me.id ? message.toid : message.id;
      return Number.isInteger(other) ? conversation('u', other) : null;
    }
    if (message.msgid === MSG.GROUP_CHAT && Number.isInteger(message.groupid)) {
      return conversation('g', message.groupid);
    }
    return null;
  }

  function entryOf(message, how) {
    const mine = !!state.me && message.id === state.me.id;
    return {
      msgno: typeof message.msgno === 'string' ? message.msgno : undefined,
      mine,
      fromId: message.id,
      from: mine ? state.me.name : (message.name || 'user ' + message.id),
      ts: parseServerTime(message.time) || Date.now(),
      text: String(message.msg === undefined ? '' : message.msg),
      offline: how === 'offline' || undefined,
      status: mine ? 'sent' : undefined,
    };
  }

  /** Adds a received message; false when it was already there (same msgno) or unusable. */
  function receiveChat(message, how) {
    const conv = conversationOf(message);
    if (!conv) {
      if (how !== 'history') notice('A message of an unknown kind (msgid ' + message.msgid + ') was skipped.', 'info');
      return false;
    }
    if (typeof message.msgno === 'string' && conv.messages.some((m) => m.msgno === message.msgno)) {
      return false;
    }
    const entry = entryOf(message, how);
    if (!entry.mine) person(message.id, message.name);
    if (message.msgid === MSG.GROUP_CHAT && !entry.mine) {
      const group = state.groups.get(message.groupid);
      if (group && !group.members.has(message.id)) group.members.set(message.id, 'normal');
    }
    conv.messages.push(entry);
    if (how !== 'history' && (state.active !== conv.key || document.hidden)) conv.unread++;
    if (how === 'live' && !entry.mine) {
      announce('New message from ' + entry.from + ': ' + entry.text);
    }
    return true;
  }

  /**
   * Puts a page of history (oldest first) into the conversation. A message already there
   * (same msgno) is kept as it is; one of ours still without msgno (sent from this page) takes
   * the server's msgno and time. Older pages go in front; the newest page goes after what the
   * cache held from before it and before what came since (by position, not by time).
   */
  function mergeHistory(conv, messages, older) {
    const byMsgno = new Map(conv.messages.filter((m) => m.msgno).map((m) => [m.msgno, m]));
    const page = [];
    for (const message of messages) {
      if (!message || typeof message.msgno !== 'string') continue;
      if (byMsgno.has(message.msgno)) {
        page.push(byMsgno.get(message.msgno));
        continue;
      }
      const entry = entryOf(message, 'history');
      const local = entry.mine
        && conv.messages.find((m) => m.mine && !m.msgno && m.status === 'sent' && m.text === entry.text);
      if (local) {
        local.msgno = entry.msgno;
        local.ts = entry.ts;
        page.push(local);
      } else {
        page.push(entry);
      }
    }
    const inPage = new Set(page);
    const rest = conv.messages.filter((m) => !inPage.has(m));
    if (older || !page.length) {
      conv.messages = page.concat(rest);
      return;
    }
    // Times have one-second steps: place what the page does not hold by where it stood in
    // the list relative to the first message the page shares with it; with nothing shared,
    // what has a msgno is older than the newest page and what has none is ours, still new.
    const first = conv.messages.findIndex((m) => inPage.has(m));
    const before = first >= 0
      ? rest.filter((m) => conv.messages.indexOf(m) < first)
      : rest.filter((m) => m.msgno);
    const after = rest.filter((m) => !before.includes(m));
    conv.messages = before.concat(page, after);
  }

  async function loadHistory(conv, older) {
    if (state.historyMissing || conv.loading || !state.online) return;
    const message = { msgid: MSG.HISTORY, limit: HISTORY_PAGE };
    if (conv.kind === 'u') message.with = conv.id;
    else message.groupid = conv.id;
    if (older) {
      const oldest = conv.messages.find((m) => m.msgno);
      if (!oldest || !conv.more) return;
      message.before = oldest.msgno;
    }
    conv.loading = true;
    renderMessages();
    const list = $('messages');
    const fromBottom = list.scrollHeight - list.scrollTop;
    try {
      const ack = await userRequest(message);
      mergeHistory(conv, Array.isArray(ack.messages) ? ack.messages : [], older);
      conv.more = ack.more === true;
      conv.fetched = true;
      saveSoon();
    } catch (e) {
      if (e.errno === 400) state.historyMissing = true; // a server without HISTORY
      else if (e.errno !== 403 && e.errno !== 404) notice('History not loaded: ' + e.message, 'info');
    } finally {
      conv.loading = false;
    }
    if (state.active === conv.key) {
      renderMessages(older ? { keepFromBottom: fromBottom } : { toBottom: true });
    }
  }

  async function sendChat(text) {
    const conv = state.convs.get(state.active);
    if (!conv || !text.trim()) return;
    const entry = {
      mine: true, fromId: state.me.id, from: state.me.name, ts: Date.now(), text, status: 'sending',
    };
    conv.messages.push(entry);
    renderMessages({ toBottom: true });
    await deliver(conv, entry);
  }

  async function deliver(conv, entry) {
    const message = conv.kind === 'u'
      ? { msgid: MSG.ONE_CHAT, toid: conv.id, msg: entry.text }
      : { msgid: MSG.GROUP_CHAT, groupid: conv.id, msg: entry.text };
    entry.status = 'sending';
    entry.error = undefined;
    try {
      const ack = await requestWithRetries(message);
      entry.status = 'sent';
      if (typeof ack.msgno === 'string') entry.msgno = ack.msgno;
      if (ack.time) entry.ts = parseServerTime(ack.time) || entry.ts;
    } catch (e) {
      entry.status = 'failed';
      entry.error = e.message;
    }
    saveSoon();
    if (state.active === conv.key) renderMessages();
  }

  // ---------------------------------------------------------------- friends and groups

  async function addFriend(id) {
    if (state.me && id === state.me.id) throw new Error('You cannot add yourself.');
    state.addingFriend.add(id);
    try {
      await userRequest({ msgid: MSG.ADD_FRIEND, friendid: id });
    } finally {
      state.addingFriend.delete(id);
    }
    // The server has told us the friend's name and state (FRIEND) before this ACK; an
    // older server does not, so ask for the state at least.
    const p = person(id);
    if (!state.friends.has(id)) {
      state.friends.add(id);
      try {
        const ack = await userRequest({ msgid: MSG.PRESENCE_QUERY, ids: [id] });
        if (ack.states && ack.states[String(id)]) applyPresence(id, ack.states[String(id)]);
      } catch (e) {
        // The state then shows once PRESENCE arrives.
      }
    }
    saveSoon();
    render();
    notice(personLabel(p) + ' (ID ' + id + ') is now your friend.', 'info');
  }

  async function createGroup(groupname, groupdesc) {
    const ack = await userRequest({ msgid: MSG.CREATE_GROUP, groupname, groupdesc });
    if (!Number.isInteger(ack.groupid)) throw new Error('the server gave no group id');
    const members = new Map([[state.me.id, 'creator']]);
    state.groups.set(ack.groupid, { id: ack.groupid, groupname, groupdesc, members });
    notice('Group "' + groupname + '" created with ID ' + ack.groupid + '.', 'info');
    openConversation('g', ack.groupid);
  }

  async function joinGroup(id) {
    await userRequest({ msgid: MSG.ADD_GROUP, groupid: id });
    if (!state.groups.has(id)) {
      const members = new Map([[state.me.id, 'normal']]);
      state.groups.set(id, { id, groupname: null, groupdesc: '', members });
    }
    notice('You joined group ' + id + '.', 'info');
    openConversation('g', id);
  }

  function openConversation(kind, id, keepFocus) {
    const conv = conversation(kind, id);
    conv.unread = 0;
    state.active = conv.key;
    $('chat-view').dataset.view = 'conv';
    render();
    renderMessages({ toBottom: true });
    if (!keepFocus) $('msg').focus();
    if (!conv.fetched) loadHistory(conv, false);
    saveSoon();
  }

  /** Alt+Up / Alt+Down: the previous / next conversation in the list. */
  function stepConversation(delta) {
    const keys = [...document.querySelectorAll('.sidebar .entry')].map((b) => b.dataset.key);
    if (!keys.length) return;
    const at = keys.indexOf(state.active);
    const next = keys[(at + delta + keys.length) % keys.length] || keys[0];
    const [kind, rawId] = next.split(':');
    openConversation(kind, Number(rawId), true);
    const button = document.querySelector('.sidebar .entry[data-key="' + next + '"]');
    if (button) button.focus();
  }

  // ---------------------------------------------------------------- rendering

  function showAuth() {
    $('chat-view').hidden = true;
    $('me').hidden = true;
    $('auth-view').hidden = false;
    const saved = savedSession();
    $('resume').hidden = !saved;
    if (saved) {
      $('resume-button').textContent = 'Continue as ' + (saved.name || 'user') + ' (ID ' + saved.id + ')';
    }
    updateTitle();
  }

  function showChat() {
    $('auth-view').hidden = true;
    $('chat-view').hidden = false;
    $('me').hidden = false;
  }

  function updateTitle() {
    let unread = 0;
    for (const conv of state.convs.values()) unread += conv.unread;
    document.title = (unread ? '(' + unread + ') ' : '') + BASE_TITLE
      + (state.me ? ' \u2013 ' + state.me.name : '');
  }

  function render() {
    if (!state.me) return;
    $('me-name').textContent = state.me.name;
    $('me-id').textContent = 'ID ' + state.me.id;
    renderFriends();
    renderGroups();
    renderHeader();
    renderMessages();
    updateTitle();
  }

  function presenceDot(p) {
    const online = p && p.state === 'online';
    return el('span', { class: 'dot' + (online ? ' online' : '') },
      el('span', { class: 'visually-hidden' }, online ? 'online' : 'offline'));
  }

  function entryButton(key, label, id, extra) {
    const conv = state.convs.get(key);
    const active = state.active === key;
    return el('li', {},
      el('button', {
        type: 'button',
        class: 'entry' + (active ? ' active' : ''),
        dataset: { key },
        'aria-current': active ? 'true' : null,
        onclick: () => {
          const [kind, rawId] = key.split(':');
          openConversation(kind, Number(rawId));
        },
      },
      extra,
      el('span', { class: 'label' }, label),
      el('span', { class: 'id' }, '#' + id),
      conv && conv.unread
        ? el('span', { class: 'badge' }, String(conv.unread),
          el('span', { class: 'visually-hidden' }, ' unread'))
        : null));
  }

  function renderFriends() {
    const friends = [...state.friends].map((id) => person(id)).sort((a, b) =>
      (a.state === b.state ? 0 : a.state === 'online' ? -1 : 1)
      || personLabel(a).localeCompare(personLabel(b)));
    const items = friends.map((f) => entryButton('u:' + f.id, personLabel(f), f.id, presenceDot(f)));
    // People who wrote to us without being friends still get a conversation.
    for (const conv of state.convs.values()) {
      if (conv.kind === 'u' && !state.friends.has(conv.id)) {
        const p = person(conv.id);
        items.push(entryButton(conv.key, personLabel(p), conv.id,
          el('span', { class: 'dot stranger', title: 'not a friend' },
            el('span', { class: 'visually-hidden' }, 'not a friend'))));
      }
    }
    $('friend-list').replaceChildren(...(items.length ? items
      : [el('li', { class: 'empty' }, 'No friends yet: add one by ID.')]));
  }

  function groupLabel(group) {
    return group.groupname || 'group ' + group.id;
  }

  function renderGroups() {
    const groups = [...state.groups.values()]
      .sort((a, b) => groupLabel(a).localeCompare(groupLabel(b)));
    const items = groups.map((g) => entryButton('g:' + g.id, groupLabel(g), g.id, null));
    $('group-list').replaceChildren(...(items.length ? items
      : [el('li', { class: 'empty' }, 'No groups yet.')]));
  }

  function renderHeader() {
    const conv = state.convs.get(state.active);
    $('composer').hidden = !conv;
    if (!conv) {
      $('conv-title').textContent = 'No conversation';
      $('conv-sub').replaceChildren('Pick a friend or a group.');
      return;
    }
    if (conv.kind === 'u') {
      const p = person(conv.id);
      $('conv-title').textContent = personLabel(p);
      $('conv-sub').replaceChildren(presenceDot(p), ' ID ' + conv.id + ' \u00b7 '
        + (state.friends.has(conv.id) ? p.state || 'offline' : 'not in your friends'));
    } else {
      const group = state.groups.get(conv.id);
      $('conv-title').textContent = group ? groupLabel(group) : 'group ' + conv.id;
      const members = group ? [...group.members.keys()].map((id) => person(id)) : [];
      $('conv-sub').replaceChildren(
        group && group.groupdesc ? group.groupdesc + ' \u00b7 ' : '',
        'ID ' + conv.id + ' \u00b7 ' + members.length + ' member' + (members.length === 1 ? '' : 's') + ': ',
        el('span', { class: 'members' }, members.map((m) =>
          el('span', {}, presenceDot(m), state.me && m.id === state.me.id ? 'you' : personLabel(m)))));
    }
  }

  function renderMessages(options) {
    const opts = options || {};
    const conv = state.convs.get(state.active);
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (!conv) {
      list.replaceChildren();
      return;
    }
    const items = [];
    if (conv.loading) {
      items.push(el('li', { class: 'msg system' }, 'Loading earlier messages\u2026'));
    } else if (conv.more && conv.messages.some((m) => m.msgno) && !state.historyMissing && state.online) {
      items.push(el('li', { class: 'msg system' }, el('button', {
        type: 'button', class: 'link', onclick: () => loadHistory(conv, true),
      }, 'Load earlier messages')));
    }
    for (const m of conv.messages) {
      items.push(el('li', {
        class: 'msg' + (m.mine ? ' mine' : '') + (m.status === 'failed' ? ' failed' : ''),
        dataset: m.msgno ? { msgno: m.msgno } : {},
      },
      el('div', { class: 'meta' },
        el('span', { class: 'from' }, m.mine ? 'you' : m.from),
        el('time', { datetime: new Date(m.ts).toISOString(), title: full.format(new Date(m.ts)) },
          formatTime(m.ts)),
        m.offline ? el('span', {}, 'while you were away') : null),
      el('div', { class: 'body' }, m.text),
      m.mine ? el('div', { class: 'status' },
        m.status === 'failed' ? ['not sent: ' + m.error + ' ', el('button', {
          type: 'button', class: 'link', onclick: () => deliver(conv, m).then(() => renderMessages()),
        }, 'retry')] : m.status || 'sent') : null));
    }
    if (!conv.messages.length && !conv.loading) {
      items.push(el('li', { class: 'msg system' }, 'No messages yet.'));
    }
    list.replaceChildren(...items);
    if (opts.keepFromBottom !== undefined) {
      list.scrollTop = list.scrollHeight - opts.keepFromBottom;
    } else if (opts.toBottom || atBottom) {
      list.scrollTop = list.scrollHeight;
    }
  }

  // ---------------------------------------------------------------- forms

  /** Runs an async form action with the form disabled, reporting failure as a notice. */
  function onSubmit(form, action) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const controls = [...form.elements];
      controls.forEach((c) => { c.disabled = true; });
      try {
        await action(form);
      } catch (e) {
        notice(e.message, 'error');
      } finally {
        controls.forEach((c) => { c.disabled = false; });
      }
    });
  }

  function positiveId(text, what) {
    const value = String(text).trim();
    if (!/^\d+$/.test(value)) throw new Error(what + ' must be a number');
    return Number(value);
  }

  function wireUp() {
    state.addingFriend = new Set();

    onSubmit($('login-form'), async (form) => {
      const who = form.elements.who.value.trim();
      const credentials = /^\d+$/.test(who) ? { id: Number(who) } : { name: who };
      credentials.password = form.elements.password.value;
      const id = credentials.id;
      clearSession();
      if (Number.isInteger(id)) loadCache(id);
      try {
        await login(credentials);
      } catch (e) {
        clearSession();
        throw new Error('Sign-in refused: ' + e.message);
      }
      clearNotice('connection');
      form.reset();
    });

    onSubmit($('register-form'), async (form) => {
      const name = form.elements.name.value.trim();
      const ack = await request({ msgid: MSG.REG, name, password: form.elements.password.value });
      if (ack.errno !== 0) throw new Error('Registration refused: ' + (ack.errmsg || 'error ' + ack.errno));
      form.reset();
      $('login-form').elements.who.value = String(ack.id);
      $('login-form').elements.password.focus();
      notice('Account "' + name + '" created with ID ' + ack.id + '. Sign in with it.', 'info');
    });

    onSubmit($('add-friend-form'), async (form) => {
      await addFriend(positiveId(form.elements.friendid.value, 'The user ID'));
      form.reset();
    });

    onSubmit($('join-group-form'), async (form) => {
      await joinGroup(positiveId(form.elements.groupid.value, 'The group ID'));
      form.reset();
    });

    onSubmit($('create-group-form'), async (form) => {
      await createGroup(form.elements.groupname.value.trim(), form.elements.groupdesc.value.trim());
      form.reset();
    });

    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      const box = $('msg');
      const text = box.value;
      box.value = '';
      sendChat(text);
    });
    $('msg').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    document.addEventListener('keydown', (event) => {
      if (!event.altKey || $('chat-view').hidden) return;
      if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
        event.preventDefault();
        stepConversation(event.key === 'ArrowUp' ? -1 : 1);
      }
    });
    $('messages').addEventListener('scroll', () => {
      const conv = state.convs.get(state.active);
      if (conv && $('messages').scrollTop < 40 && conv.more && !conv.loading) loadHistory(conv, true);
    });
    $('back').addEventListener('click', () => {
      $('chat-view').dataset.view = 'list';
      const button = document.querySelector('.sidebar .entry[data-key="' + state.active + '"]');
      if (button) button.focus();
    });

    $('logout').addEventListener('click', logout);
    $('resume-button').addEventListener('click', () => {
      const saved = savedSession();
      if (!saved) return;
      clearSession();
      loadCache(saved.id);
      if (state.me) {
        showChat();
        render();
      }
      resume();
    });
    $('resume-forget').addEventListener('click', () => {
      const saved = savedSession();
      saveSession(null);
      if (saved) dropCache(saved.id);
      showAuth();
    });

    document.addEventListener('visibilitychange', () => {
      const conv = state.convs.get(state.active);
      if (!document.hidden && conv && conv.unread) {
        conv.unread = 0;
        render();
        saveSoon();
      }
    });
    window.addEventListener('pagehide', saveCache);
    // Back on the network: try at once rather than wait out the backoff.
    window.addEventListener('online', () => {
      if (state.autoResume && !state.ws && state.reconnect) resume();
    });
  }

  wireUp();
  const saved = savedSession();
  if (saved) {
    // A reload: show what this tab had at once, then resume the login with the token.
    if (loadCache(saved.id)) {
      showChat();
      render();
      renderMessages({ toBottom: true });
      if (state.active) $('chat-view').dataset.view = 'conv';
    } else {
      state.me = { id: saved.id, name: saved.name || 'user ' + saved.id };
      showChat();
      render();
    }
    resume();
  } else {
    showAuth();
    ensureSocket().catch(() => notice('Cannot reach the chat server at ' + socketUrl() + '.', 'error',
      'connection'));
  }
}());
