// 承办单位工作台: the handling units' console. Plain JavaScript, nothing loaded from elsewhere.
//
// A clerk pastes a bearer token; it is kept in sessionStorage only (gone with the tab, or on 退出)
// and never put in a URL. A unit token lists the unit's tickets (GET /api/units/tickets) and acts
// on them; an operator token (which the unit API refuses with 403) gets the operator queue and
// the dispatch form instead. The server decides everything: the page offers the actions the
// ticket's status opens, and shows the API's refusals (401/403/409, `{code, message}`) plainly.
(() => {
  'use strict';

  const TOKEN_KEY = 'hotline.console.token';
  const REFRESH_MS = 60000;

  const $ = (id) => document.getElementById(id);
  const el = {
    status: $('status'),
    session: $('session'),
    role: $('role'),
    logout: $('logout'),
    login: $('login'),
    loginForm: $('login-form'),
    token: $('token'),
    loginError: $('login-error'),
    loginSubmit: $('login-submit'),
    workspace: $('workspace'),
    listTitle: $('list-title'),
    listSummary: $('list-summary'),
    listError: $('list-error'),
    tickets: $('tickets'),
    refresh: $('refresh'),
    detailPane: $('detail-pane'),
    detail: $('detail'),
    back: $('back'),
  };

  const state = { token: null, mode: null, tickets: [], current: null, busy: false, timer: null };

  // sessionStorage may be switched off: the console then works until the page is left.
  const kept = {
    get() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (_) { return null; } },
    set(token) {
      try {
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch (_) { /* kept in memory only */ }
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

  async function api(method, path, body, token) {
    const headers = { Authorization: 'Bearer ' + (token || state.token) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, 'network', '');
    }
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.code) || 'http_' + response.status,
        (data && data.message) || '');
    }
    return data;
  }

  const MODES = {
    unit: {
      role: '承办单位',
      title: '本单位工单',
      list: '/api/units/tickets',
      ticket: (n) => '/api/units/tickets/' + encodeURIComponent(n),
      empty: '目前没有派给本单位的工单。',
    },
    operator: {
      role: '话务员',
      title: '待处理队列',
      list: '/api/operator/queue',
      ticket: (n) => '/api/operator/tickets/' + encodeURIComponent(n),
      empty: '队列中没有待派单、待审核的工单。',
    },
  };

  // A Chinese lead-in for each kind of refusal; the server's own words follow it.
  const LEAD = {
    0: '网络连接失败，请检查网络后重试',
    400: '提交的内容有误，请修改后重试',
    401: '身份验证失败：令牌无效或已被撤销',
    403: '无权进行此操作',
    404: '未找到该工单或接口',
    408: '服务器响应超时，操作可能未完成，请刷新后查看',
    409: '当前工单状态不允许此操作',
    413: '内容过长，请精简后重试',
  };

  // Where the code says more than the status: a 409 is either the status or a rule.
  const LEAD_BY_CODE = {
    transition_not_allowed: '当前工单状态不允许此操作',
    rule_broken: '此操作不符合办理规则',
    empty_text: '请填写必要的文字说明',
    invalid_time: '时间格式不正确',
    invalid: '填写的单位编号或内容有误',
    unknown_ticket: '未找到该工单',
  };

  function explain(error) {
    const lead = LEAD_BY_CODE[error.code] || LEAD[error.status] ||
      (error.status >= 500 ? '服务暂时出现问题，请稍后再试' : '请求未成功（HTTP ' + error.status + '）');
    return error.serverMessage ? lead + '。服务器说明：' + error.serverMessage : lead + '。';
  }

  // ---- Small helpers ----

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function showError(node, error) {
    node.textContent = typeof error === 'string' ? error : explain(error);
    node.hidden = false;
  }

  function hideError(node) {
    node.textContent = '';
    node.hidden = true;
  }

  function announce(text) {
    el.status.textContent = '';
    // A fresh text node makes screen readers read the same words again.
    setTimeout(() => { el.status.textContent = text; }, 30);
  }

  function excerpt(text, max) {
    const chars = Array.from(String(text || '').replace(/\s+/g, ' ').trim());
    return chars.length > max ? chars.slice(0, max).join('') + '…' : chars.join('');
  }

  function place(ticket) {
    return [ticket.district, ticket.address].filter(Boolean).join(' ') || '未提供地点';
  }

  function badge(text, kind) {
    return make('span', 'badge badge-' + kind, text);
  }

  // ---- Login and logout ----

  async function login(token) {
    try {
      await api('GET', MODES.unit.list, undefined, token);
      return 'unit';
    } catch (error) {
      if (error.status !== 403) throw error;
    }
    // Not a unit token: an operator's (or admin's) is offered the queue.
    await api('GET', MODES.operator.list, undefined, token);
    return 'operator';
  }

  el.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (state.busy) return;
    const token = el.token.value.trim().replace(/^Bearer\s+/i, '');
    if (!token) {
      showError(el.loginError, '请先粘贴访问令牌。');
      el.token.focus();
      return;
    }
    hideError(el.loginError);
    setBusy(true, el.loginSubmit);
    try {
      const mode = await login(token);
      kept.set(token);
      el.token.value = '';
      await enter(token, mode);
    } catch (error) {
      const text = error.status === 401
        ? '登录失败：令牌无效或已被撤销，请核对后重新粘贴。服务器说明：' + (error.serverMessage || '无')
        : (error.status === 403 ? '登录失败：此令牌无权使用工作台。' : '登录失败：') + explain(error);
      showError(el.loginError, text);
      el.token.setAttribute('aria-invalid', 'true');
      el.token.focus();
    } finally {
      setBusy(false, el.loginSubmit);
    }
  });

  async function enter(token, mode) {
    state.token = token;
    state.mode = mode;
    el.token.removeAttribute('aria-invalid');
    el.role.textContent = '当前身份：' + MODES[mode].role;
    el.listTitle.textContent = MODES[mode].title;
    el.login.hidden = true;
    el.session.hidden = false;
    el.workspace.hidden = false;
    closeDetail(false);
    await loadList();
    el.listTitle.focus();
    clearInterval(state.timer);
    state.timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !state.busy) loadList().catch(() => {});
    }, REFRESH_MS);
  }

  function logout(reason) {
    kept.set(null);
    clearInterval(state.timer);
    Object.assign(state, { token: null, mode: null, tickets: [], current: null });
    el.tickets.replaceChildren();
    el.detail.replaceChildren();
    el.workspace.hidden = true;
    el.session.hidden = true;
    el.login.hidden = false;
    if (reason) showError(el.loginError, reason);
    else hideError(el.loginError);
    announce(reason ? '已退出登录。' : '已退出登录，令牌已从本浏览器清除。');
    el.token.focus();
  }

  el.logout.addEventListener('click', () => logout(null));

  // A token revoked while in use: back to the login, saying why.
  function handleAuthLoss(error) {
    if (error.status !== 401) return false;
    logout('登录已失效：' + explain(error) + ' 请重新粘贴有效的令牌。');
    return true;
  }

  function setBusy(busy, button) {
    state.busy = busy;
    if (button) button.setAttribute('aria-disabled', String(busy));
  }

  // ---- The list ----

  async function loadList() {
    if (!state.token) return;
    try {
      state.tickets = await api('GET', MODES[state.mode].list);
      hideError(el.listError);
    } catch (error) {
      if (handleAuthLoss(error)) return;
      showError(el.listError, '工单列表加载失败：' + explain(error));
      return;
    }
    renderList();
  }

  function renderList() {
    const tickets = Array.isArray(state.tickets) ? state.tickets : [];
    const overdue = tickets.filter((t) => t.overdue).length;
    el.listSummary.textContent = tickets.length
      ? '共 ' + tickets.length + ' 件' + (overdue ? '，其中已超期 ' + overdue + ' 件（排在最前）' : '')
      : MODES[state.mode].empty;
    // A refresh must not take the focus away from the ticket a keyboard user is on.
    const focused = el.tickets.contains(document.activeElement) && document.activeElement.dataset.number;
    el.tickets.replaceChildren(...tickets.map(renderItem));
    const again = focused && el.tickets.querySelector('.ticket-item[data-number="' + focused + '"]');
    if (again) again.focus();
  }

  function renderItem(ticket) {
    const item = make('li');
    const open = item.appendChild(make('button', 'ticket-item' + (ticket.overdue ? ' is-overdue' : '')));
    open.type = 'button';
    open.dataset.number = ticket.number;
    if (state.current && state.current.number === ticket.number) open.setAttribute('aria-current', 'true');
    const head = open.appendChild(make('span', 'item-head'));
    head.appendChild(make('span', 'item-number', '工单 ' + ticket.number));
    head.appendChild(badge(ticket.category, 'category'));
    head.appendChild(badge(ticket.status_label, 'status'));
    if (ticket.overdue) head.appendChild(badge('已超期', 'overdue'));
    open.appendChild(make('span', 'item-place', place(ticket)));
    open.appendChild(make('span', 'item-excerpt', excerpt(ticket.content, 60)));
    if (ticket.deadline) {
      open.appendChild(make('span', 'item-deadline', '办理时限：' + ticket.deadline));
    }
    return item;
  }

  el.tickets.addEventListener('click', (event) => {
    const open = event.target.closest('.ticket-item');
    if (open && !state.busy) openTicket(open.dataset.number);
  });

  el.refresh.addEventListener('click', async () => {
    if (state.busy) return;
    await loadList();
    if (state.token) announce('列表已刷新。');
  });

  // ---- One ticket ----

  async function openTicket(number) {
    let ticket;
    try {
      ticket = await api('GET', MODES[state.mode].ticket(number));
    } catch (error) {
      if (handleAuthLoss(error)) return;
      showError(el.listError, '工单 ' + number + ' 打开失败：' + explain(error));
      return;
    }
    showTicket(ticket);
    const title = $('detail-title');
    if (title) title.focus();
  }

  function showTicket(ticket) {
    state.current = ticket;
    el.detail.replaceChildren(...window.HotlineConsoleDetail.render(ticket, state.mode));
    el.detailPane.hidden = false;
    el.workspace.classList.add('showing-detail');
    for (const item of el.tickets.querySelectorAll('.ticket-item')) {
      if (item.dataset.number === ticket.number) item.setAttribute('aria-current', 'true');
      else item.removeAttribute('aria-current');
    }
  }

  function closeDetail(focusList) {
    const number = state.current && state.current.number;
    state.current = null;
    el.detail.replaceChildren();
    el.detailPane.hidden = true;
    el.workspace.classList.remove('showing-detail');
    for (const item of el.tickets.querySelectorAll('[aria-current]')) item.removeAttribute('aria-current');
    if (!focusList) return;
    const item = number && el.tickets.querySelector('.ticket-item[data-number="' + number + '"]');
    (item || el.listTitle).focus();
  }

  el.back.addEventListener('click', () => closeDetail(true));

  // Runs an action from the detail view; `form` holds its error line.
  async function act(action, body, form) {
    if (state.busy || !state.current) return;
    const number = state.current.number;
    const token = state.token;
    const error = form.querySelector('.error');
    hideError(error);
    const submit = form.querySelector('[type="submit"]');
    setBusy(true, submit);
    try {
      const ticket = await api('POST', MODES[state.mode].ticket(number) + '/' + action.path, body);
      if (state.token !== token) return; // logged out meanwhile
      showTicket(ticket);
      announce(action.done + '：工单 ' + number + ' 现为“' + ticket.status_label + '”。');
      const title = $('detail-title');
      if (title) title.focus();
      await loadList();
    } catch (failure) {
      if (handleAuthLoss(failure)) return;
      showError(error, action.label + '未成功：' + explain(failure));
    } finally {
      setBusy(false, submit);
    }
  }

  window.HotlineConsole = { act };

  el.detail.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.isComposing && window.innerWidth < 900) closeDetail(true);
  });

  // ---- Start ----

  async function boot() {
    const token = kept.get();
    if (!token) {
      el.login.hidden = false;
      return;
    }
    try {
      await enter(token, await login(token));
    } catch (error) {
      // A refused token is forgotten; after a network failure a reload may still use it.
      if (error.status === 401 || error.status === 403) kept.set(null);
      el.login.hidden = false;
      showError(el.loginError, (error.status === 401 ? '上次的登录已失效：' : '无法恢复登录：') + explain(error));
    }
  }

  boot();
})();
