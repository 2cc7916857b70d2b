// Web chat client: speaks the JSON protocol v1 over ws(s)://<this host>/ws.
// All text from users and the server is put into the page with textContent, never as HTML.
(function () {
  'use strict';

  const MSG = {
    LOGIN: 1, LOGIN_ACK: 2, LOGOUT: 3, REG: 4, REG_ACK: 5, ONE_CHAT: 6, ADD_FRIEND: 7,
    CREATE_GROUP: 8, ADD_GROUP: 9, GROUP_CHAT: 10,
    PING: 100, PONG: 101, KICKED: 102, PRESENCE: 103, ERROR: 104, ACK: 105,
    SERVER_CLOSING: 106, PRESENCE_QUERY: 107, BROADCAST: 108,
  };
  const REQUEST_TIMEOUT_MS = 10000;
  const MAX_BACKOFF_MS = 30000;
  const STORAGE_KEY = 'chat.session';

  const state = {
    ws: null,
    opening: null,        // Promise of the socket being opened
    seq: 0,
    pending: new Map(),   // seq -> {resolve, reject, timer}
    me: null,             // {id, name} once logged in
    friends: new Map(),   // id -> {id, name, state}
    groups: new Map(),    // id -> {id, groupname, groupdesc, users: Map(id -> member)}
    convs: new Map(),     // 'u:13' / 'g:3' -> {kind, id, messages: [], unread}
    active: null,         // key of the open conversation
    heartbeat: null,      // interval timer
    reconnect: null,      // timeout timer
    backoffMs: 1000,
    closingDelayMs: null, // set by SERVER_CLOSING: reconnect after that many ms
    autoResume: false,    // reconnect and resume with the token when the socket drops
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

  function notice(text, kind) {
    const item = el('li', { class: kind || 'info' },
      el('span', { class: 'text' }, text),
      el('span', { class: 'muted' }, clock(new Date())),
      el('button', { type: 'button', title: 'dismiss', onclick: () => item.remove() }, '\u00d7'));
    $('notices').prepend(item);
    while ($('notices').children.length > 5) $('notices').lastElementChild.remove();
    if (kind !== 'error' && kind !== 'broadcast') setTimeout(() => item.remove(), 8000);
  }

  function clock(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds());
  }

  function setConnection(status) {
    $('conn').dataset.state = status;
    $('conn-text').textContent = status;
  }

  // ---------------------------------------------------------------- saved session

  function savedSession() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
      return saved && Number.isInteger(saved.id) && typeof saved.token === 'string' ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function saveSession(session) {
    try {
      if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      else localStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      // Storage may be disabled; resuming then simply is not offered.
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
    setConnection('connecting');
    state.opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(socketUrl());
      state.ws = ws;
      ws.onopen = () => {
        state.opening = null;
        setConnection('connected');
        resolve();
      };
      ws.onmessage = (event) => onFrame(event.data);
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
    if (!state.me || !state.ws || state.ws.readyState !== WebSocket.OPEN) {
      throw new Error('not connected to the server right now');
    }
    return exchange(message);
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
    stopHeartbeat();
    failPending('connection closed');
    setConnection('offline');
    if (!state.autoResume) return;
    let delay;
    if (state.closingDelayMs !== null) {
      delay = state.closingDelayMs;
      state.closingDelayMs = null;
    } else {
      delay = state.backoffMs;
      state.backoffMs = Math.min(state.backoffMs * 2, MAX_BACKOFF_MS);
      notice('Connection lost (code ' + event.code + '). Reconnecting in '
        + Math.round(delay / 1000) + ' s.', 'info');
    }
    scheduleResume(delay);
  }

  function scheduleResume(delayMs) {
    clearTimeout(state.reconnect);
    // A little jitter so the clients of a stopped node do not all come back at once.
    const jitter = Math.floor(Math.random() * 500);
    state.reconnect = setTimeout(resume, delayMs + jitter);
  }

  /** Logs in again with the saved token (after a reconnect, or from the resume button). */
  async function resume() {
    const saved = savedSession();
    if (!saved) {
      state.autoResume = false;
      showAuth();
      return;
    }
    try {
      await login({ id: saved.id, token: saved.token });
    } catch (e) {
      if (e.retry && state.autoResume) {
        // A lost socket already has its retry scheduled by the close handler.
        if (state.ws) {
          scheduleResume(state.backoffMs);
          state.backoffMs = Math.min(state.backoffMs * 2, MAX_BACKOFF_MS);
        }
        return;
      }
      state.autoResume = false;
      if (e.denied) saveSession(null);
      clearSession();
      showAuth();
      notice('Could not resume the session: ' + e.message, 'error');
    }
  }

  // ---------------------------------------------------------------- heartbeat

  function startHeartbeat(heartbeat) {
    stopHeartbeat();
    const seconds = heartbeat && Number(heartbeat.interval) > 0 ? Number(heartbeat.interval) : 10;
    state.heartbeat = setInterval(() => {
      try {
        send({ msgid: MSG.PING });
      } catch (e) {
        stopHeartbeat();
      }
    }, seconds * 1000);
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
        reject(error);
      } else {
        resolve(message);
      }
      return;
    }

    switch (message.msgid) {
      case MSG.ONE_CHAT:
      case MSG.GROUP_CHAT:
        receiveChat(message, false);
        break;
      case MSG.PRESENCE:
        updatePresence(message.id, message.state);
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

  function trySend(message) {
    try {
      send(message);
    } catch (e) {
      // The socket is going away; its close handler deals with it.
    }
  }

  function onKicked(message) {
    // Another login of this account took over. Coming back on our own would throw it out.
    state.autoResume = false;
    clearSession();
    showAuth();
    notice('Signed out: ' + (message.errmsg || 'this account logged in elsewhere') + '.', 'error');
  }

  function onServerClosing(message) {
    const ms = Number(message.reconnect_after_ms);
    state.closingDelayMs = Number.isFinite(ms) && ms >= 0 ? ms : 1000;
    notice('The server is restarting; reconnecting in about '
      + Math.max(1, Math.round(state.closingDelayMs / 1000)) + ' s.', 'info');
    // The server closes the socket itself; the close handler reconnects.
  }

  // ---------------------------------------------------------------- account

  async function login(credentials) {
    const ack = await request(Object.assign({ msgid: MSG.LOGIN, format: 'structured' }, credentials))
      .catch((e) => {
        e.retry = e.errno === undefined || e.errno >= 500;
        throw e;
      });
    if (ack.errno !== 0) {
      const error = new Error('Sign-in refused: ' + (ack.errno === 2
        ? 'this account is already online elsewhere'
        : (ack.errmsg || 'error ' + ack.errno)));
      error.denied = ack.errno === 1;
      throw error;
    }
    onLoggedIn(ack);
  }

  function onLoggedIn(ack) {
    state.me = { id: ack.id, name: ack.name };
    state.autoResume = true;
    state.backoffMs = 1000;
    if (typeof ack.token === 'string' && ack.token) {
      saveSession({ id: ack.id, name: ack.name, token: ack.token });
    }

    state.friends.clear();
    for (const friend of (ack.friends || []).map(parseItem)) {
      if (friend) state.friends.set(friend.id, { id: friend.id, name: friend.name, state: friend.state });
    }
    state.groups.clear();
    for (const group of (ack.groups || []).map(parseItem)) {
      if (!group) continue;
      const users = new Map();
      for (const user of (group.users || []).map(parseItem)) {
        if (user) users.set(user.id, user);
      }
      state.groups.set(group.id, {
        id: group.id, groupname: group.groupname, groupdesc: group.groupdesc || '', users,
      });
    }

    startHeartbeat(ack.heartbeat);
    showChat();
    const offline = (ack.offlinemsg || []).map(parseItem).filter(Boolean);
    for (const message of offline) receiveChat(message, true);
    if (offline.length) {
      notice(offline.length + ' message' + (offline.length === 1 ? '' : 's')
        + ' arrived while you were away.', 'info');
    }
    render();
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
    state.friends.clear();
    state.groups.clear();
    state.convs.clear();
    state.active = null;
  }

  async function logout() {
    state.autoResume = false;
    clearTimeout(state.reconnect);
    try {
      if (state.ws && state.ws.readyState === WebSocket.OPEN) {
        await request({ msgid: MSG.LOGOUT, id: state.me ? state.me.id : 0 });
      }
    } catch (e) {
      // Logged out locally either way.
    }
    // The server revokes every token issued before the logout.
    saveSession(null);
    clearSession();
    showAuth();
  }

  // ---------------------------------------------------------------- conversations

  function conversation(kind, id) {
    const key = kind + ':' + id;
    if (!state.convs.has(key)) state.convs.set(key, { key, kind, id, messages: [], unread: 0 });
    return state.convs.get(key);
  }

  function receiveChat(message, offline) {
    let conv;
    if (message.msgid === MSG.ONE_CHAT && Number.isInteger(message.id)) {
      conv = conversation('u', message.id);
      const friend = state.friends.get(message.id);
      if (friend && !friend.name && message.name) friend.name = message.name;
    } else if (message.msgid === MSG.GROUP_CHAT && Number.isInteger(message.groupid)) {
      conv = conversation('g', message.groupid);
      const group = state.groups.get(message.groupid);
      if (group && message.id !== undefined && !group.users.has(message.id)) {
        group.users.set(message.id, { id: message.id, name: message.name, state: 'online' });
      }
    } else {
      notice('Stored message of an unknown kind (msgid ' + message.msgid + ').', 'info');
      return;
    }
    conv.messages.push({
      mine: false,
      from: message.name || 'user ' + message.id,
      time: message.time || '',
      text: String(message.msg === undefined ? '' : message.msg),
      offline,
    });
    if (state.active !== conv.key) conv.unread++;
    render();
  }

  async function sendChat(text) {
    const conv = state.convs.get(state.active);
    if (!conv || !text.trim()) return;
    const entry = {
      mine: true, from: state.me.name, time: clock(new Date()), text, status: 'sending',
    };
    conv.messages.push(entry);
    renderMessages();
    const message = conv.kind === 'u'
      ? { msgid: MSG.ONE_CHAT, toid: conv.id, msg: text }
      : { msgid: MSG.GROUP_CHAT, groupid: conv.id, msg: text };
    try {
      await userRequest(message);
      entry.status = 'sent';
    } catch (e) {
      entry.status = 'failed';
      entry.error = e.message;
    }
    renderMessages();
  }

  // ---------------------------------------------------------------- friends and groups

  function updatePresence(id, presence) {
    if (!Number.isInteger(id) || (presence !== 'online' && presence !== 'offline')) return;
    const friend = state.friends.get(id);
    if (friend) friend.state = presence;
    for (const group of state.groups.values()) {
      const member = group.users.get(id);
      if (member) member.state = presence;
    }
    render();
  }

  async function addFriend(id) {
    await userRequest({ msgid: MSG.ADD_FRIEND, friendid: id });
    if (!state.friends.has(id)) state.friends.set(id, { id, name: null, state: 'offline' });
    render();
    notice('User ' + id + ' is now your friend.', 'info');
    // The ACK carries no state: ask for it.
    try {
      const ack = await userRequest({ msgid: MSG.PRESENCE_QUERY, ids: [id] });
      if (ack.states && ack.states[String(id)]) updatePresence(id, ack.states[String(id)]);
    } catch (e) {
      // The state then shows once PRESENCE arrives.
    }
  }

  async function createGroup(groupname, groupdesc) {
    const ack = await userRequest({ msgid: MSG.CREATE_GROUP, groupname, groupdesc });
    if (!Number.isInteger(ack.groupid)) throw new Error('the server gave no group id');
    const users = new Map([[state.me.id,
      { id: state.me.id, name: state.me.name, state: 'online', role: 'creator' }]]);
    state.groups.set(ack.groupid, { id: ack.groupid, groupname, groupdesc, users });
    notice('Group "' + groupname + '" created with ID ' + ack.groupid + '.', 'info');
    openConversation('g', ack.groupid);
  }

  async function joinGroup(id) {
    await userRequest({ msgid: MSG.ADD_GROUP, groupid: id });
    if (!state.groups.has(id)) {
      const users = new Map([[state.me.id,
        { id: state.me.id, name: state.me.name, state: 'online', role: 'normal' }]]);
      state.groups.set(id, { id, groupname: null, groupdesc: '', users });
    }
    notice('You joined group ' + id + '.', 'info');
    openConversation('g', id);
  }

  function openConversation(kind, id) {
    const conv = conversation(kind, id);
    conv.unread = 0;
    state.active = conv.key;
    render();
    $('composer').elements.msg.focus();
  }

  // ---------------------------------------------------------------- rendering

  function showAuth() {
    $('chat-view').hidden = true;
    $('me').hidden = true;
    $('auth-view').hidden = false;
    const saved = savedSession();
    $('resume').hidden = !saved;
    if (saved) {
      $('resume-button').textContent = 'Resume as ' + (saved.name || 'user') + ' (ID ' + saved.id + ')';
    }
  }

  function showChat() {
    $('auth-view').hidden = true;
    $('chat-view').hidden = false;
    $('me').hidden = false;
  }

  function render() {
    if (!state.me) return;
    $('me-name').textContent = state.me.name;
    $('me-id').textContent = 'ID ' + state.me.id;
    renderFriends();
    renderGroups();
    renderHeader();
    renderMessages();
  }

  function entryButton(key, label, id, extra) {
    const conv = state.convs.get(key);
    const [kind, rawId] = key.split(':');
    return el('li', {},
      el('button', {
        type: 'button',
        class: 'entry' + (state.active === key ? ' active' : ''),
        onclick: () => openConversation(kind, Number(rawId)),
      },
      extra,
      el('span', { class: 'label' }, label),
      el('span', { class: 'id' }, '#' + id),
      conv && conv.unread ? el('span', { class: 'badge' }, String(conv.unread)) : null));
  }

  function friendLabel(friend) {
    return friend.name || 'user ' + friend.id;
  }

  function groupLabel(group) {
    return group.groupname || 'group ' + group.id;
  }

  function renderFriends() {
    const friends = [...state.friends.values()].sort((a, b) =>
      (a.state === b.state ? 0 : a.state === 'online' ? -1 : 1)
      || friendLabel(a).localeCompare(friendLabel(b)));
    const items = friends.map((f) => entryButton('u:' + f.id, friendLabel(f), f.id,
      el('span', { class: 'dot' + (f.state === 'online' ? ' online' : ''),
        title: f.state || 'offline' })));
    // People who wrote to us without being friends still get a conversation.
    for (const conv of state.convs.values()) {
      if (conv.kind === 'u' && !state.friends.has(conv.id)) {
        const last = conv.messages.find((m) => !m.mine);
        items.push(entryButton(conv.key, last ? last.from : 'user ' + conv.id, conv.id,
          el('span', { class: 'dot', title: 'not a friend' })));
      }
    }
    $('friend-list').replaceChildren(...(items.length ? items
      : [el('li', { class: 'empty' }, 'No friends yet: add one by ID.')]));
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
      $('conv-sub').replaceChildren('Pick a friend or a group on the left.');
      return;
    }
    if (conv.kind === 'u') {
      const friend = state.friends.get(conv.id);
      const last = conv.messages.find((m) => !m.mine);
      $('conv-title').textContent = friend ? friendLabel(friend) : (last ? last.from : 'user ' + conv.id);
      $('conv-sub').replaceChildren('ID ' + conv.id + ' \u00b7 '
        + (friend ? friend.state || 'offline' : 'not in your friends'));
    } else {
      const group = state.groups.get(conv.id);
      $('conv-title').textContent = group ? groupLabel(group) : 'group ' + conv.id;
      const members = group ? [...group.users.values()] : [];
      $('conv-sub').replaceChildren(
        group && group.groupdesc ? group.groupdesc + ' \u00b7 ' : '',
        'ID ' + conv.id + ' \u00b7 ' + members.length + ' member' + (members.length === 1 ? '' : 's') + ': ',
        el('span', { class: 'members' }, members.map((m) =>
          el('span', {},
            el('span', { class: 'dot' + (m.state === 'online' ? ' online' : '') }),
            m.name || 'user ' + m.id))));
    }
  }

  function renderMessages() {
    const conv = state.convs.get(state.active);
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (!conv) {
      list.replaceChildren();
      return;
    }
    const items = conv.messages.map((m) => el('li', {
      class: 'msg' + (m.mine ? ' mine' : '') + (m.status === 'failed' ? ' failed' : ''),
    },
    el('div', { class: 'meta' },
      el('span', { class: 'from' }, m.mine ? 'you' : m.from),
      el('span', {}, m.time),
      m.offline ? el('span', {}, 'while you were away') : null),
    el('div', { class: 'body' }, m.text),
    m.mine ? el('div', { class: 'status' },
      m.status === 'failed' ? 'not sent: ' + m.error : m.status) : null));
    if (!items.length) items.push(el('li', { class: 'msg system' }, 'No messages yet.'));
    list.replaceChildren(...items);
    if (atBottom || conv.messages.length && conv.messages[conv.messages.length - 1].mine) {
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
    onSubmit($('login-form'), async (form) => {
      const who = form.elements.who.value.trim();
      const credentials = /^\d+$/.test(who) ? { id: Number(who) } : { name: who };
      credentials.password = form.elements.password.value;
      await login(credentials);
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
      const box = $('composer').elements.msg;
      const text = box.value;
      box.value = '';
      sendChat(text);
    });
    $('composer').elements.msg.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });

    $('logout').addEventListener('click', logout);
    $('resume-button').addEventListener('click', () => {
      state.autoResume = false;
      resume();
    });
    $('resume-forget').addEventListener('click', () => {
      saveSession(null);
      showAuth();
    });
  }

  wireUp();
  showAuth();
  ensureSocket().catch(() => notice('Cannot reach the chat server at ' + socketUrl() + '.', 'error'));
}());
