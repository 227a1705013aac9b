// The agent inbox: the queue and the agent's own conversations, several open at once as tabs,
// live through server-sent events with a 10 s refresh when the stream is unavailable.
'use strict';

const S = {
  open: new Map(),   // conversation id → {tab, panel, conv}
  active: 0,
  items: new Map(),  // conversation id → inbox item
  unread: new Set(),
  seen: {},          // conversation id → time of the last customer message seen
  canned: [],
  poll: null,
  es: null,
  refreshTimer: null,
};

const POLL_MS = 10000;

try { S.seen = JSON.parse(localStorage.getItem('baton.seen') || '{}'); } catch (e) { S.seen = {}; }

function saveSeen() { try { localStorage.setItem('baton.seen', JSON.stringify(S.seen)); } catch (e) { /* private mode */ } }

function setLive(text, cls) { const l = $('#live'); l.textContent = text; l.className = 'live ' + (cls || ''); }

// ---- the lists ----

async function refreshInbox() {
  let data;
  try { data = await api('GET', '/v1/agent/inbox'); } catch (e) { if (e.status === 401) location.reload(); else fail(e); return; }
  S.items.clear();
  for (const it of data.queue.concat(data.mine)) {
    S.items.set(it.id, it);
    const seen = S.seen[it.id];
    if (it.last_message_at && it.id !== S.active && (!seen || new Date(it.last_message_at) > new Date(seen))) S.unread.add(it.id);
  }
  renderList($('#queue'), data.queue, 'Nobody is waiting.');
  renderList($('#mine'), data.mine, 'You hold no conversations.');
  $('#queue-count').textContent = '(' + data.queue.length + ')';
  $('#mine-count').textContent = '(' + data.mine.length + ')';
  for (const id of S.open.keys()) markTab(id);
}

function scheduleRefresh() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = setTimeout(refreshInbox, 250);
}

function renderList(ul, items, empty) {
  ul.replaceChildren();
  if (!items.length) { ul.append(h('li', { class: 'hint', text: empty })); return; }
  for (const it of items) {
    const unread = S.unread.has(it.id);
    const name = it.customer_name || ('Customer of #' + it.id);
    ul.append(h('li', null, h('button', {
      type: 'button', class: 'item' + (unread ? ' is-unread' : '') + (it.id === S.active ? ' is-active' : ''),
      'data-id': it.id, 'aria-label': name + ', priority ' + it.priority + ', waiting ' + ago(it.waiting_since) + (unread ? ', unread' : ''),
      onclick: () => openConversation(it.id),
    },
    h('span', { class: 'row' },
      h('strong', { class: 'name', text: name }),
      unread ? h('span', { class: 'unread', text: 'new', title: 'unread messages' }) : null,
      h('span', { class: 'prio', text: 'P' + it.priority })),
    h('span', { class: 'row meta' },
      h('span', { class: 'wait', text: 'waiting ' + ago(it.waiting_since) }),
      sentimentBadge(it.sentiment)),
    h('span', { class: 'row meta' },
      h('span', { text: (it.reason || '').replace(/_/g, ' ') }),
      h('span', { text: it.team }),
      it.sla_due_at ? h('span', { class: new Date(it.sla_due_at) < new Date() ? 'late' : '', text: 'SLA ' + when(it.sla_due_at) }) : null),
    it.summary ? h('span', { class: 'summary', text: it.summary }) : null)));
  }
}

// ---- tabs ----

function markTab(id) {
  const o = S.open.get(id);
  if (!o) return;
  o.tab.classList.toggle('is-unread', S.unread.has(id));
  $('.dot', o.tab).hidden = !S.unread.has(id);
}

function activate(id) {
  S.active = id;
  for (const [cid, o] of S.open) {
    const on = cid === id;
    o.tab.setAttribute('aria-selected', on ? 'true' : 'false');
    o.tab.tabIndex = on ? 0 : -1;
    o.panel.hidden = !on;
  }
  $('#empty').hidden = S.open.size > 0;
  const o = S.open.get(id);
  if (o && o.conv) markSeen(id, o.conv);
  for (const b of document.querySelectorAll('.item')) b.classList.toggle('is-active', Number(b.dataset.id) === id);
}

function markSeen(id, conv) {
  let last = S.seen[id] || '';
  for (const m of conv.messages || []) {
    if (m.author === 'customer' && (!last || new Date(m.created_at) > new Date(last))) last = m.created_at;
  }
  const item = S.items.get(id);
  if (item && item.last_message_at && (!last || new Date(item.last_message_at) > new Date(last))) last = item.last_message_at;
  if (last) { S.seen[id] = last; saveSeen(); }
  S.unread.delete(id);
  markTab(id);
  const b = document.querySelector('.item[data-id="' + id + '"]');
  if (b) { b.classList.remove('is-unread'); const u = $('.unread', b); if (u) u.remove(); }
}

async function openConversation(id) {
  if (S.open.has(id)) { activate(id); S.open.get(id).tab.focus(); return; }
  const tab = h('button', { type: 'button', role: 'tab', id: 'tab-' + id, 'aria-controls': 'panel-' + id, class: 'tab',
    onclick: () => activate(id), onkeydown: tabKeys },
  h('span', { class: 'dot', 'aria-label': 'unread', hidden: true, text: '●' }), ' ',
  h('span', { class: 'tab-name', text: '#' + id }));
  const close = h('button', { type: 'button', class: 'tab-close', 'aria-label': 'Close conversation ' + id, text: '×',
    onclick: () => closeConversation(id) });
  const wrap = h('span', { class: 'tabwrap' }, tab, close);
  const panel = h('section', { role: 'tabpanel', id: 'panel-' + id, 'aria-labelledby': 'tab-' + id, class: 'panel' },
    h('div', { class: 'head' }), h('ol', { class: 'transcript', 'aria-label': 'Transcript', 'aria-live': 'polite' }), composer(id));
  $('#tabs').append(wrap);
  $('#panels').append(panel);
  S.open.set(id, { tab, panel, wrap, conv: null });
  activate(id);
  await loadConversation(id);
  tab.focus();
}

function tabKeys(ev) {
  if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
  const ids = [...S.open.keys()];
  const i = ids.indexOf(S.active) + (ev.key === 'ArrowRight' ? 1 : -1);
  const id = ids[(i + ids.length) % ids.length];
  activate(id);
  S.open.get(id).tab.focus();
}

function closeConversation(id) {
  const o = S.open.get(id);
  if (!o) return;
  o.wrap.remove(); o.panel.remove();
  S.open.delete(id);
  if (S.active === id) {
    const next = [...S.open.keys()].pop();
    if (next) activate(next); else { S.active = 0; $('#empty').hidden = false; }
  }
}

async function loadConversation(id) {
  const o = S.open.get(id);
  if (!o) return;
  let c;
  try { c = await api('GET', '/v1/conversations/' + id); } catch (e) { fail(e); return; }
  o.conv = c;
  $('.tab-name', o.tab).textContent = (c.customer && c.customer.name ? c.customer.name : 'Customer') + ' #' + id;
  o.panel.querySelector('.head').replaceWith(head(c));
  const ol = o.panel.querySelector('.transcript');
  ol.replaceChildren(...(c.messages || []).map(messageItem));
  ol.scrollTop = ol.scrollHeight;
  const f = o.panel.querySelector('.compose');
  f.querySelector('.claim-hint').hidden = c.status !== 'queued';
  if (id === S.active) markSeen(id, c);
}

// ---- one conversation ----

function head(c) {
  const ho = c.handoff;
  const details = Object.entries((ho && ho.details) || c.details || {});
  const id = c.id;
  const pkg = ho ? h('section', { class: 'handoff', 'aria-label': 'Handoff package' },
    h('h3', { text: 'Handoff: ' + String(ho.reason || '').replace(/_/g, ' ') }),
    h('p', { class: 'summary-text', text: ho.summary || '(no summary)' }),
    h('dl', { class: 'facts' },
      h('dt', { text: 'Next step' }), h('dd', { class: 'next-step', text: ho.next_step || '—' }),
      h('dt', { text: 'Priority' }), h('dd', { text: String(ho.priority) }),
      h('dt', { text: 'Team' }), h('dd', { text: ho.team || '—' }),
      h('dt', { text: 'SLA due' }), h('dd', { text: when(ho.sla_due_at) }),
      h('dt', { text: 'Waiting since' }), h('dd', { text: when(ho.waiting_since) + ' (' + ago(ho.waiting_since) + ')' }),
      h('dt', { text: 'Sentiment' }), h('dd', null, sentimentBadge(typeof ho.sentiment === 'number' ? ho.sentiment : c.sentiment_trend))),
    details.length ? h('table', { class: 'details' }, h('caption', { text: 'Details' }),
      h('tbody', null, details.map(([k, v]) => h('tr', null, h('th', { scope: 'row', text: k.replace(/_/g, ' ') }), h('td', { text: v }))))) : h('p', { class: 'hint', text: 'No details gathered.' }))
    : h('section', { class: 'handoff' }, h('p', { class: 'hint', text: 'This conversation was never handed off.' }));
  const act = (label, fn, cls) => h('button', { type: 'button', class: cls || '', onclick: async (ev) => {
    ev.target.disabled = true;
    try { await fn(); await loadConversation(id); scheduleRefresh(); } catch (e) { fail(e); } finally { ev.target.disabled = false; }
  } }, label);
  const csat = h('input', { type: 'checkbox', id: 'csat-' + id, checked: true });
  const team = h('input', { type: 'text', id: 'team-' + id, placeholder: 'team name', size: 10 });
  const agent = h('input', { type: 'number', id: 'agent-' + id, placeholder: 'agent id', min: 1, class: 'narrow' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Conversation actions' },
    c.status === 'queued' ? act('Claim', () => api('POST', '/v1/conversations/' + id + '/claim'), 'primary claim') : null,
    h('span', { class: 'grp' }, act('Resolve', () => api('POST', '/v1/conversations/' + id + '/resolve', { ask_csat: csat.checked }), 'resolve'),
      csat, h('label', { for: 'csat-' + id, text: 'ask for CSAT' })),
    act('Return to bot', () => api('POST', '/v1/conversations/' + id + '/return'), 'return'),
    h('span', { class: 'grp' }, h('label', { for: 'team-' + id, text: 'Transfer to team' }), team,
      h('label', { for: 'agent-' + id, text: 'or agent' }), agent,
      act('Transfer', () => {
        const body = agent.value ? { user_id: Number(agent.value) } : { team: team.value.trim() };
        return api('POST', '/v1/conversations/' + id + '/transfer', body);
      })));
  return h('div', { class: 'head' },
    h('h2', null, (c.customer && c.customer.name) || 'Customer', ' ',
      h('span', { class: 'status status-' + c.status, text: c.status }), ' ',
      h('span', { class: 'hint', text: '#' + c.id + ' · ' + c.channel })),
    pkg, actions);
}

function messageItem(m) {
  const note = m.visibility === 'internal';
  return h('li', { class: 'msg author-' + m.author + (note ? ' note' : ''), 'data-id': m.id },
    h('span', { class: 'by', text: (note ? 'Internal note · ' : '') + m.author + ' · ' + when(m.created_at) +
      (m.delivery && m.delivery.state ? ' · ' + m.delivery.state : '') }),
    h('span', { class: 'text', text: m.text }),
    (m.citations && m.citations.length) ? h('span', { class: 'cites' }, 'Sources: ',
      m.citations.map((ct) => ct.url ? h('a', { href: ct.url, rel: 'noopener noreferrer', target: '_blank', text: ct.title }) : h('span', { text: ct.title }))) : null);
}

function composer(id) {
  const ta = h('textarea', { id: 'text-' + id, rows: 3, required: true, 'aria-describedby': 'keys-' + id });
  const canned = h('select', { id: 'canned-' + id, onchange: () => {
    const c = S.canned.find((x) => String(x.id) === canned.value);
    if (c) { ta.value = (ta.value ? ta.value + '\n' : '') + c.body; ta.focus(); }
    canned.value = '';
  } }, h('option', { value: '', text: '— insert a canned reply —' }),
  S.canned.map((c) => h('option', { value: c.id, text: (c.shortcut ? '/' + c.shortcut + ' · ' : '') + c.title })));
  const pub = h('input', { type: 'radio', name: 'vis-' + id, id: 'vis-pub-' + id, value: 'public', checked: true });
  const note = h('input', { type: 'radio', name: 'vis-' + id, id: 'vis-note-' + id, value: 'internal' });
  const send = h('button', { type: 'submit', class: 'primary send', text: 'Send reply' });
  const form = h('form', { class: 'compose', 'aria-label': 'Reply' },
    h('p', { class: 'claim-hint hint', hidden: true, text: 'Claim the conversation to take it over; a reply while queued is sent too.' }),
    h('fieldset', { class: 'vis' }, h('legend', { text: 'Send as' }),
      pub, h('label', { for: 'vis-pub-' + id, text: 'Reply to the customer' }),
      note, h('label', { for: 'vis-note-' + id, text: 'Internal note (never sent)' })),
    h('label', { for: 'canned-' + id, text: 'Canned reply' }), canned,
    h('label', { for: 'text-' + id, class: 'ta-label', text: 'Message' }), ta,
    h('span', { id: 'keys-' + id, class: 'hint', text: 'Ctrl+Enter sends.' }), send);
  const mode = () => {
    const isNote = note.checked;
    form.classList.toggle('is-note', isNote);
    send.textContent = isNote ? 'Add internal note' : 'Send reply';
  };
  pub.addEventListener('change', mode);
  note.addEventListener('change', mode);
  ta.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = ta.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      const m = await api('POST', '/v1/conversations/' + id + '/messages', { text, visibility: note.checked ? 'internal' : 'public' });
      ta.value = '';
      appendMessage(id, m);
      toast(note.checked ? 'Note added.' : 'Reply queued for delivery.', true);
    } catch (e) { fail(e); } finally { send.disabled = false; }
  });
  return form;
}

function appendMessage(id, m) {
  const o = S.open.get(id);
  if (!o) return false;
  const ol = o.panel.querySelector('.transcript');
  if (ol.querySelector('[data-id="' + m.id + '"]')) return true;
  ol.append(messageItem(m));
  ol.scrollTop = ol.scrollHeight;
  if (o.conv) (o.conv.messages = o.conv.messages || []).push(m);
  return true;
}

// ---- live updates ----

function onMessageEvent(d) {
  const id = d.conversation_id;
  const shown = appendMessage(id, d);
  if (d.author === 'customer' && id !== S.active) { S.unread.add(id); markTab(id); }
  if (shown && id === S.active) markSeen(id, S.open.get(id).conv || {});
  scheduleRefresh();
}

function onConversationEvent(d) {
  scheduleRefresh();
  if (S.open.has(d.conversation_id)) loadConversation(d.conversation_id);
}

function startPolling() {
  if (S.poll) return;
  setLive('refreshing every 10 s', 'is-poll');
  S.poll = setInterval(() => {
    refreshInbox();
    for (const id of S.open.keys()) loadConversation(id);
  }, POLL_MS);
}

function stopPolling() { clearInterval(S.poll); S.poll = null; }

function connect() {
  if (!window.EventSource) { startPolling(); return; }
  const es = new EventSource('/v1/agent/events');
  S.es = es;
  es.addEventListener('open', () => { stopPolling(); setLive('live', 'is-live'); refreshInbox(); });
  es.addEventListener('message', (ev) => { try { onMessageEvent(JSON.parse(ev.data)); } catch (e) { /* malformed event */ } });
  es.addEventListener('conversation', (ev) => { try { onConversationEvent(JSON.parse(ev.data)); } catch (e) { /* malformed */ } });
  es.addEventListener('error', () => {
    startPolling();
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 60000); // the browser gave up: try again later
  });
}

// ---- presence ----

async function setPresence(status) {
  try {
    const r = await api('PUT', '/v1/agent/presence', { status });
    try { localStorage.setItem('baton.presence', status); } catch (e) { /* private mode */ }
    if (r.assigned && r.assigned.length) { toast(r.assigned.length + ' conversation(s) assigned to you.', true); scheduleRefresh(); }
  } catch (e) { fail(e); }
}

async function start() {
  const sel = $('#presence');
  sel.value = localStorage.getItem('baton.presence') || 'away';
  sel.addEventListener('change', () => setPresence(sel.value));
  setPresence(sel.value);
  // The heartbeat: an agent without one for 2 minutes is marked offline.
  setInterval(() => { if (sel.value !== 'offline') setPresence(sel.value); }, 60000);
  try { S.canned = (await api('GET', '/v1/canned-replies')).canned_replies || []; } catch (e) { S.canned = []; }
  await refreshInbox();
  connect();
  // Wait times grow and priorities are recomputed without an event: redraw the lists now and then.
  setInterval(() => { if (!S.poll) refreshInbox(); }, 30000);
}

document.addEventListener('DOMContentLoaded', () => boot(false, start));
