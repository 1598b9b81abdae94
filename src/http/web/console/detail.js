// 承办单位工作台: one ticket in full (content, contact, deadlines, the events as a timeline) and
// the forms for the actions its status opens. Built as DOM nodes, never as HTML, so nothing a
// citizen wrote can run as markup. Actions go through `HotlineConsole.act` (console.js).
(() => {
  'use strict';

  // What a unit may do, by the ticket's status (the server's transition table has the last word).
  const UNIT_ACTIONS = [
    {
      path: 'sign', label: '签收', done: '已签收', statuses: ['dispatched'], fields: [],
      hint: '签收后开始办理；主办单位签收后可查看市民的完整联系电话（保密工单除外）。',
    },
    {
      path: 'progress', label: '办理进展', done: '办理进展已记录', statuses: ['signed', 'in_progress'],
      fields: [{ name: 'text', label: '办理进展说明', multiline: true }],
    },
    {
      path: 'reply', label: '答复', done: '答复已发送给市民', statuses: ['signed', 'in_progress'],
      fields: [{ name: 'text', label: '答复内容（将发送给市民）', multiline: true }],
    },
    {
      path: 'close', label: '办结', done: '工单已办结', statuses: ['replied'],
      fields: [{ name: 'text', label: '办结说明', multiline: true }],
    },
    {
      path: 'extension', label: '申请延期', done: '延期申请已提交，等待热线审核',
      statuses: ['signed', 'in_progress'],
      fields: [
        { name: 'reason', label: '延期理由', multiline: true },
        { name: 'until', label: '申请延期至', type: 'datetime-local' },
      ],
    },
    {
      path: 'objection', label: '管辖异议', done: '管辖异议已提交，等待热线审核',
      statuses: ['dispatched', 'signed', 'in_progress'],
      fields: [{ name: 'reason', label: '异议理由（为何不属本单位职责，建议由哪个单位办理）', multiline: true }],
    },
  ];

  // What an operator may do from the queue.
  const OPERATOR_ACTIONS = [
    {
      path: 'dispatch', label: '派单', done: '已派单',
      when: (t) => t.status === 'accepted' || t.status === 'returned',
      fields: [
        { name: 'lead', label: '主办单位编号（如 nanshan-urban）' },
        { name: 'co_handlers', label: '协办单位编号（可选，多个用逗号分隔）', optional: true, list: true },
      ],
    },
    {
      path: 'objection/reject', label: '驳回异议', done: '已驳回异议', when: (t) => t.status === 'returned',
      fields: [{ name: 'text', label: '驳回理由（工单仍由原单位办理）', multiline: true }],
    },
    {
      path: 'extension/approve', label: '批准延期', done: '已批准延期', when: (t) => !!t.pending_extension,
      fields: [],
    },
    {
      path: 'extension/refuse', label: '不批准延期', done: '已不批准延期', when: (t) => !!t.pending_extension,
      fields: [{ name: 'text', label: '不批准的理由', multiline: true }],
    },
  ];

  const CHANNELS = { web: '网页', telegram: 'Telegram', sms: '短信', api: '接口' };

  let serial = 0;

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatTime(at) {
    if (!at) return '';
    const date = new Date(String(at).replace(/\[.*\]$/, '').replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isNaN(date.getTime())) return String(at);
    return date.toLocaleString('zh-CN', {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      hour12: false,
    });
  }

  function section(title, className) {
    const id = 'detail-section-' + (++serial);
    const node = make('section', 'detail-section ' + (className || ''));
    node.setAttribute('aria-labelledby', id);
    node.appendChild(make('h3', '', title)).id = id;
    return node;
  }

  function facts(ticket) {
    const list = make('dl', 'facts');
    const add = (term, value, extra) => {
      if (value === null || value === undefined || value === '') return;
      list.appendChild(make('dt', '', term));
      const dd = list.appendChild(make('dd', '', value));
      if (extra) dd.appendChild(extra);
    };
    const contact = ticket.contact || {};
    add('地点', [ticket.district, ticket.address].filter(Boolean).join(' ') || '未提供');
    if (contact.confidential) {
      add('联系方式', '保密：市民身份与联系方式不向承办单位公开，回访由热线负责。');
    } else {
      add('联系人', contact.name || '未提供');
      add('联系电话', contact.phone || '未提供');
    }
    add('受理渠道', CHANNELS[ticket.channel] || ticket.channel);
    add('受理时间', formatTime(ticket.created_at));
    add('主办单位', ticket.lead_name || ticket.lead || '尚未派单');
    if (ticket.co_handlers && ticket.co_handlers.length) add('协办单位', ticket.co_handlers.join('、'));
    add('签收时限', ticket.accept_by);
    add('办理时限', ticket.deadline, ticket.overdue ? make('span', 'badge badge-overdue', '已超期') : null);
    add('异议时限', ticket.object_by);
    add('延期申请', ticket.pending_extension && ticket.pending_extension + '（待热线审核）');
    add('派单建议', ticket.proposal);
    // 回访 is run by the hotline; the unit sees the results (the citizen's words stay with it).
    const callback = ticket.callback || {};
    const rounds = callback.rounds || [];
    const last = rounds[rounds.length - 1];
    if (last && last.state !== '已完成') {
      const kind = last.cause === 'expired' ? '次超时回访' : '次回访';
      add('回访', '第' + last.round + kind + last.state + '（' + last.due_at + '起，由热线进行）');
    }
    add(rounds.length > 1 ? '首次回访' : '回访结果', callback.first);
    if (rounds.length > 1) add('最终回访', callback.final);
    return list;
  }

  function fieldControl(form, field) {
    const id = 'field-' + (++serial);
    const wrap = form.appendChild(make('div', 'field'));
    wrap.appendChild(make('label', '', field.label + (field.optional ? '' : '（必填）'))).htmlFor = id;
    const control = wrap.appendChild(make(field.multiline ? 'textarea' : 'input'));
    control.id = id;
    control.name = field.name;
    if (field.multiline) control.rows = 3;
    else control.type = field.type || 'text';
    if (!field.optional) control.setAttribute('aria-required', 'true');
    control.autocomplete = 'off';
    control.addEventListener('input', () => control.removeAttribute('aria-invalid'));
    return control;
  }

  // The JSON body from the form, or an error naming the field to fix.
  function bodyOf(action, form) {
    const body = {};
    for (const field of action.fields) {
      const control = form.elements.namedItem(field.name);
      const raw = control.value.trim();
      if (!raw && !field.optional) return { invalid: control, text: '请填写“' + field.label + '”。' };
      if (field.list) {
        body[field.name] = raw.split(/[,，、\s]+/).filter(Boolean);
      } else if (field.type === 'datetime-local') {
        const at = new Date(raw);
        if (Number.isNaN(at.getTime())) return { invalid: control, text: '请选择有效的日期和时间。' };
        body[field.name] = at.toISOString();
      } else {
        body[field.name] = raw;
      }
    }
    return { body: action.fields.length ? body : undefined };
  }

  function actionForm(action) {
    const form = make('form', 'action-form');
    form.noValidate = true;
    form.dataset.action = action.path;
    if (action.hint) form.appendChild(make('p', 'hint', action.hint));
    for (const field of action.fields) fieldControl(form, field);
    const error = form.appendChild(make('p', 'error'));
    error.setAttribute('role', 'alert');
    error.hidden = true;
    const buttons = form.appendChild(make('div', 'form-buttons'));
    const submit = buttons.appendChild(make('button', 'primary', action.fields.length ? '提交' + action.label : action.label));
    submit.type = 'submit';
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const built = bodyOf(action, form);
      if (built.invalid) {
        error.textContent = built.text;
        error.hidden = false;
        built.invalid.setAttribute('aria-invalid', 'true');
        built.invalid.focus();
        return;
      }
      window.HotlineConsole.act(action, built.body, form);
    });
    return { form, buttons };
  }

  // One action: a form at once when it needs no words (签收), else a button that opens its form.
  function actionBlock(action, toggles) {
    const block = make('div', 'action');
    const { form, buttons } = actionForm(action);
    if (!action.fields.length) {
      block.appendChild(form);
      return block;
    }
    const open = block.appendChild(make('button', 'secondary action-toggle', action.label));
    open.type = 'button';
    open.dataset.action = action.path;
    form.id = 'action-form-' + (++serial);
    form.hidden = true;
    open.setAttribute('aria-expanded', 'false');
    open.setAttribute('aria-controls', form.id);
    const cancel = buttons.appendChild(make('button', 'secondary', '取消'));
    cancel.type = 'button';
    const show = (shown) => {
      form.hidden = !shown;
      open.setAttribute('aria-expanded', String(shown));
    };
    open.addEventListener('click', () => {
      const opening = form.hidden;
      for (const other of toggles) other(false);
      show(opening);
      if (opening) form.querySelector('input, textarea').focus();
    });
    cancel.addEventListener('click', () => { show(false); open.focus(); });
    toggles.push(show);
    block.appendChild(form);
    return block;
  }

  function actions(ticket, mode) {
    const node = section('办理操作', 'actions');
    const open = mode === 'operator'
      ? OPERATOR_ACTIONS.filter((a) => a.when(ticket))
      : UNIT_ACTIONS.filter((a) => a.statuses.includes(ticket.status));
    if (!open.length) {
      node.appendChild(make('p', 'hint', '当前状态（' + ticket.status_label + '）下没有需要' +
        (mode === 'operator' ? '话务员' : '本单位') + '进行的操作。'));
      return node;
    }
    const toggles = [];
    const row = node.appendChild(make('div', 'action-list'));
    for (const action of open) row.appendChild(actionBlock(action, toggles));
    return node;
  }

  function timeline(events) {
    const node = section('办理记录', 'timeline-section');
    const list = node.appendChild(make('ol', 'timeline'));
    for (const event of events || []) {
      const item = list.appendChild(make('li'));
      const time = item.appendChild(make('time', 'event-time', formatTime(event.at)));
      time.dateTime = String(event.at || '');
      item.appendChild(make('span', 'badge badge-status', event.to));
      item.appendChild(make('p', 'event-text', event.citizen_text || event.note));
      item.appendChild(make('p', 'event-actor', '操作方：' + actorName(event.actor)));
    }
    return node;
  }

  function actorName(actor) {
    const text = String(actor || '');
    if (text === 'system') return '系统';
    if (text === 'citizen' || text.startsWith('citizen:')) return '市民';
    if (text.startsWith('operator:')) return '热线话务员（' + text.slice(9) + '）';
    if (text.startsWith('unit:')) return '承办单位（' + text.slice(5) + '）';
    return text;
  }

  function render(ticket, mode) {
    const nodes = [];
    const title = make('h2', 'detail-title', '工单 ' + ticket.number);
    title.id = 'detail-title';
    title.tabIndex = -1;
    nodes.push(title);
    const badges = make('p', 'badges');
    badges.append(make('span', 'badge badge-category', ticket.category),
      make('span', 'badge badge-status', ticket.status_label));
    if (ticket.overdue) badges.appendChild(make('span', 'badge badge-overdue', '已超期'));
    nodes.push(badges);
    const content = section('诉求内容');
    content.appendChild(make('p', 'content', ticket.content));
    nodes.push(content, facts(ticket));
    if (ticket.replies && ticket.replies.length) {
      const replies = section('已答复内容');
      const list = replies.appendChild(make('ol', 'replies'));
      for (const reply of ticket.replies) list.appendChild(make('li', '', reply));
      nodes.push(replies);
    }
    nodes.push(actions(ticket, mode), timeline(ticket.events));
    return nodes;
  }

  window.HotlineConsoleDetail = { render };
})();
