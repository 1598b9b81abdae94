// 12345在线: the citizen chat page. Plain JavaScript, no framework, nothing loaded from elsewhere.
//
// The server's transcript (GET …/messages) is the truth: after each message the page fetches it
// and appends what it has not shown yet, counting entries. So replies that arrive over
// server-sent events, or while the connection was down, are never shown twice nor missed.
// Requests run one at a time through `serially`.
(() => {
  'use strict';

  const API = '/api/chat/sessions';
  const SESSION_KEY = 'hotline.session';
  const EMBEDDED = document.documentElement.classList.contains('embed');
  const DISCONNECTED = '连接已断开，正在重连…';

  const el = {
    log: document.getElementById('log'),
    status: document.getElementById('status'),
    form: document.getElementById('composer'),
    input: document.getElementById('input'),
    send: document.getElementById('send'),
    newChat: document.getElementById('new-chat'),
    close: document.getElementById('close'),
  };

  const state = {
    session: null,
    shown: 0, // transcript entries on screen
    busy: false,
    queue: Promise.resolve(),
    events: null,
    eventsRetry: null,
    eventsDelay: 2000,
  };

  // localStorage can be switched off or full; the chat still works for this visit then.
  const saved = {
    get() {
      try { return localStorage.getItem(SESSION_KEY); } catch (_) { return null; }
    },
    set(id) {
      try {
        if (id) localStorage.setItem(SESSION_KEY, id);
        else localStorage.removeItem(SESSION_KEY);
      } catch (_) { /* not kept across reloads, nothing more */ }
    },
  };

  // ---- The API ----

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code);
      this.status = status;
      this.code = code;
      this.serverMessage = message || '';
    }
  }

  async function api(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (_) {
      throw new ApiError(0, 'network', '');
    }
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      const code = (data && data.code) || 'http_' + response.status;
      throw new ApiError(response.status, code, (data && data.message) || '');
    }
    return data;
  }

  const messagesPath = (id) => API + '/' + encodeURIComponent(id) + '/messages';

  // What the citizen reads when a request fails. A message the server wrote for citizens (in
  // Chinese) is shown as it is; one written for developers is put in plain words instead.
  const PLAIN = {
    network: '网络连接不稳定，消息没有发出。请检查网络后再试一次。',
    empty_text: '请先输入您要咨询或反映的内容。',
    text_too_long: '消息太长了，请精简一些，或分成几条发送。',
    body_too_large: '消息太长了，请精简一些，或分成几条发送。',
    http_408: '服务响应超时，消息可能没有发出，请稍后再试一次。',
    http_429: '您发送得太快了，请稍等片刻再试。',
  };

  function explain(error) {
    if (/[\u4e00-\u9fff]/.test(error.serverMessage)) return error.serverMessage;
    return PLAIN[error.code] ||
      '抱歉，服务暂时出现问题，消息没有发出，请稍后再试；如情况紧急请直接拨打12345。';
  }

  // ---- Rendering ----

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Hotline texts use a little Markdown: paragraphs, "- " lists and **bold**. Built as DOM nodes,
  // never as HTML, so nothing in a reply can run as markup.
  function renderRich(container, text) {
    let paragraph = null;
    let list = null;
    for (const line of String(text).split('\n')) {
      const item = /^\s*[-*•]\s+(.*)$/.exec(line);
      if (item) {
        if (!list) list = container.appendChild(make('ul'));
        appendInline(list.appendChild(make('li')), item[1]);
        paragraph = null;
        continue;
      }
      list = null;
      if (!line.trim()) { paragraph = null; continue; }
      if (paragraph) paragraph.appendChild(make('br'));
      else paragraph = container.appendChild(make('p'));
      // A title in 【】 on a line of its own reads as a heading.
      appendInline(paragraph, /^【[^【】]+】$/.test(line.trim()) ? '**' + line.trim() + '**' : line);
    }
  }

  function appendInline(parent, text) {
    text.split(/\*\*(.+?)\*\*/).forEach((part, i) => {
      if (!part) return;
      parent.appendChild(i % 2 ? make('strong', '', part) : document.createTextNode(part));
    });
  }

  function timeOf(at) {
    if (!at) return null;
    const date = new Date(String(at).replace(/\[.*\]$/, ''));
    if (Number.isNaN(date.getTime())) return null;
    const time = make('time', 'meta');
    time.dateTime = date.toISOString();
    time.textContent = date.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' });
    return time;
  }

  function renderEntry(entry) {
    const citizen = entry.from === 'citizen';
    const item = make('div', 'msg ' + (citizen ? 'msg-citizen' : 'msg-hotline'));
    item.appendChild(make('span', 'sr-only', citizen ? '我：' : '12345：'));
    const bubble = item.appendChild(make('div', 'bubble'));
    if (citizen) bubble.textContent = entry.text;
    else renderRich(bubble, entry.text);
    const buttons = Array.isArray(entry.buttons) ? entry.buttons : [];
    if (buttons.length) {
      const group = item.appendChild(make('div', 'choices'));
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', '可选回复');
      for (const button of buttons) {
        const choice = group.appendChild(make('button', 'choice', button.label));
        choice.type = 'button';
        choice.dataset.payload = button.payload;
      }
    }
    const time = timeOf(entry.at);
    if (time) item.appendChild(time);
    return item;
  }

  // Appends nodes to the log and scrolls so the first of them is in view (a long answer is read
  // from its start, a short one sits at the bottom), or to the very end (a history on load).
  function reveal(nodes, toEnd) {
    if (!nodes.length) return;
    for (const node of nodes) el.log.appendChild(node);
    const bottom = el.log.scrollHeight - el.log.clientHeight;
    el.log.scrollTop = toEnd ? bottom : Math.min(Math.max(nodes[0].offsetTop - 8, 0), bottom);
  }

  // A reply that opened, joined or answered about a ticket is followed by the ticket's card.
  function showEntries(entries, toEnd) {
    reveal(entries.flatMap((entry) => {
      const card = ticketCard(entry.ticket, '工单信息');
      return card ? [renderEntry(entry), card] : [renderEntry(entry)];
    }), toEnd);
    state.shown += entries.length;
  }

  function showTicket(ticket, title) {
    const card = ticketCard(ticket, title);
    if (card) reveal([card]);
  }

  function ticketCard(ticket, title) {
    if (!ticket || !ticket.number) return null;
    const card = make('div', 'ticket');
    card.appendChild(make('p', 'ticket-title', title));
    const line = card.appendChild(make('p', 'ticket-line'));
    line.appendChild(document.createTextNode('工单号 '));
    line.appendChild(make('strong', 'ticket-number', ticket.number));
    if (ticket.status) {
      line.appendChild(document.createTextNode(' · '));
      line.appendChild(make('span', 'ticket-status', ticket.status));
    }
    card.appendChild(make('p', 'ticket-tip', '请记下工单号，方便查询办理进度。'));
    return card;
  }

  function showNotice(text, kind) {
    reveal([make('div', 'notice notice-' + (kind || 'error'), text)]);
  }

  function clearLog() {
    el.log.replaceChildren();
    state.shown = 0;
  }

  // The citizen's message while it is on its way, with the hotline "typing". Hidden from screen
  // readers: the confirmed message is announced once it is in the transcript.
  function showPending(text) {
    const mine = renderEntry({ from: 'citizen', text, buttons: [] });
    mine.classList.add('msg-pending');
    const typing = make('div', 'msg msg-hotline');
    const dots = typing.appendChild(make('div', 'bubble typing'));
    dots.append(make('span'), make('span'), make('span'));
    for (const node of [mine, typing]) node.setAttribute('aria-hidden', 'true');
    reveal([mine, typing]);
    return { remove() { mine.remove(); typing.remove(); } };
  }

  function setStatus(text) {
    if (el.status.textContent !== text) el.status.textContent = text;
  }

  function setBusy(busy) {
    state.busy = busy;
    el.form.setAttribute('aria-busy', String(busy));
    // aria-disabled rather than disabled: the focused control keeps its focus.
    el.send.setAttribute('aria-disabled', String(busy));
    for (const choice of el.log.querySelectorAll('.choice')) {
      choice.setAttribute('aria-disabled', String(busy));
    }
  }

  // ---- Conversation ----

  function serially(task) {
    const run = state.queue.then(task);
    state.queue = run.catch(() => {});
    return run;
  }

  // Appends the transcript entries not shown yet.
  async function sync(toEnd) {
    if (!state.session) return;
    const history = await api('GET', messagesPath(state.session));
    const messages = Array.isArray(history.messages) ? history.messages : [];
    if (messages.length < state.shown) clearLog();
    showEntries(messages.slice(state.shown), toEnd === true);
  }

  async function startSession() {
    closeEvents();
    const created = await api('POST', API);
    state.session = created.session_id;
    saved.set(state.session);
    clearLog();
    try {
      await sync();
    } catch (_) {
      showEntries((created.replies || []).map((r) => ({ from: 'hotline', ...r })));
    }
    connectEvents();
  }

  function send(text, fromInput) {
    if (state.busy || !text.trim()) return;
    setBusy(true);
    if (fromInput) {
      el.input.value = '';
      fitInput();
    }
    serially(async () => {
      let pending = null;
      try {
        if (!state.session) await startSession();
        pending = showPending(text);
        const response = await api('POST', messagesPath(state.session), { text });
        pending.remove();
        pending = null;
        try {
          // A new ticket, one the matter joined (并单), or one asked about: the transcript's
          // entry names it, and its card follows the reply.
          await sync();
        } catch (_) {
          showEntries([{ from: 'citizen', text, buttons: [] }]);
          showEntries((response.replies || []).map((r) => ({ from: 'hotline', ...r })));
          showTicket(response.ticket, '工单信息');
        }
      } catch (error) {
        if (pending) pending.remove();
        if (fromInput) restoreInput(text);
        // A timed-out message may still have been handled: show whatever the server has.
        if (error.status === 408) await sync().catch(() => {});
        await explainFailure(error);
      } finally {
        setBusy(false);
      }
    });
  }

  // Puts unsent text back, ahead of anything typed since.
  function restoreInput(text) {
    const typed = el.input.value;
    el.input.value = typed.trim() ? text + '\n' + typed : text;
    fitInput();
  }

  async function explainFailure(error) {
    if (error.code !== 'unknown_session') {
      showNotice(explain(error), 'error');
      return;
    }
    // The server no longer knows this conversation: begin a new one; the text stays typed.
    saved.set(null);
    state.session = null;
    try {
      await startSession();
      showNotice('之前的对话已结束，已为您开始新的对话，请再发送一次。', 'info');
    } catch (again) {
      showNotice(explain(again), 'error');
    }
  }

  // ---- Live replies (server-sent events) ----
  // EventSource reconnects by itself after a network error. It gives up for good when the server
  // answers with an error status (404 where /events is not served): if the stream never opened
  // the page stays quiet; if it had worked, the page retries, more and more slowly.

  function closeEvents() {
    clearTimeout(state.eventsRetry);
    if (state.events) state.events.close();
    state.events = null;
  }

  function connectEvents() {
    closeEvents();
    if (!state.session || typeof EventSource !== 'function') return;
    const source = new EventSource(API + '/' + encodeURIComponent(state.session) + '/events');
    state.events = source;
    let opened = false;
    source.addEventListener('open', () => {
      if (state.events !== source) return;
      opened = true;
      state.eventsDelay = 2000;
      setStatus('');
      serially(() => sync(state.shown === 0)).catch(() => {}); // whatever came meanwhile
    });
    source.addEventListener('reply', (event) => {
      if (state.events !== source) return;
      let reply;
      try { reply = JSON.parse(event.data); } catch (_) { return; }
      serially(async () => {
        // The server records a reply before announcing it, so the transcript has it; should it
        // not (yet), show the event itself rather than nothing.
        const before = state.shown;
        try { await sync(); } catch (_) { /* shown from the event below */ }
        if (state.shown === before) {
          reveal([renderEntry({ from: 'hotline', text: reply.text, buttons: reply.buttons || [] })]);
        }
        showTicket(reply.ticket, '工单办理进度');
      }).catch(() => {});
    });
    // The server fell behind and dropped events: the transcript has them all.
    source.addEventListener('resync', () => {
      if (state.events === source) serially(() => sync()).catch(() => {});
    });
    source.addEventListener('error', () => {
      if (state.events !== source) return;
      if (source.readyState !== EventSource.CLOSED) {
        if (opened) setStatus(DISCONNECTED);
        return;
      }
      closeEvents();
      if (!opened && !el.status.textContent) return;
      setStatus(DISCONNECTED);
      state.eventsRetry = setTimeout(connectEvents, state.eventsDelay);
      state.eventsDelay = Math.min(state.eventsDelay * 2, 60000);
    });
  }

  // ---- Wiring ----

  function fitInput() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(el.input.scrollHeight + 3, 160) + 'px';
  }

  el.form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!el.input.value.trim()) {
      el.input.focus();
      return;
    }
    send(el.input.value, true);
  });

  el.input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter is a new line; leave Enter alone while an IME is composing.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    el.form.requestSubmit ? el.form.requestSubmit() : el.send.click();
  });

  el.input.addEventListener('input', fitInput);

  el.log.addEventListener('click', (event) => {
    const choice = event.target.closest('.choice');
    if (!choice || state.busy) return;
    send(choice.dataset.payload || choice.textContent, false);
  });

  el.newChat.addEventListener('click', () => {
    if (state.busy) return;
    setBusy(true);
    serially(startSession)
      .catch((error) => showNotice(explain(error), 'error'))
      .finally(() => {
        setBusy(false);
        el.input.focus();
      });
  });

  // Inside the widget: the host page closes the panel; it may also ask us to take the focus.
  function closeWidget() {
    if (window.parent !== window) window.parent.postMessage({ type: 'hotline:close' }, '*');
  }
  el.close.addEventListener('click', closeWidget);
  if (EMBEDDED) {
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !event.isComposing) closeWidget();
    });
    window.addEventListener('message', (event) => {
      if (event.source === window.parent && event.data && event.data.type === 'hotline:focus') {
        el.input.focus();
      }
    });
  }

  async function boot() {
    const id = saved.get();
    if (id) {
      state.session = id;
      try {
        // A screen reader should not read out the whole history on every reload.
        el.log.setAttribute('aria-live', 'off');
        await sync(true);
        connectEvents();
        return;
      } catch (error) {
        if (error.code !== 'unknown_session') {
          // Keep the conversation: once the server answers again the stream opens and syncs.
          showNotice('暂时无法载入对话记录，请稍后再试；如情况紧急请直接拨打12345。', 'error');
          connectEvents();
          return;
        }
        saved.set(null);
        state.session = null;
      }
    }
    try {
      await startSession();
    } catch (error) {
      showNotice('暂时无法连接到服务，请稍后再试；如情况紧急请直接拨打12345。', 'error');
    }
  }

  serially(boot).finally(() => el.log.setAttribute('aria-live', 'polite'));
})();
