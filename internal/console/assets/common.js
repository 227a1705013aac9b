// Shared by the agent inbox and the admin console: sign-in, the JSON API with the CSRF token,
// a DOM builder that only ever sets text (customer and admin text is data, never markup), and
// a small Markdown renderer built on it.
'use strict';

const B = { csrf: '', user: null };

// api calls the JSON API with the session cookie; writes carry the CSRF token. Errors carry the
// API's code, message and (for templates) line.
async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && B.csrf) opts.headers['X-CSRF-Token'] = B.csrf;
  const r = await fetch(path, opts);
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const e = (data && data.error) || {};
    const err = new Error(e.message || r.statusText || ('HTTP ' + r.status));
    err.status = r.status; err.code = e.code; err.line = e.line;
    throw err;
  }
  return data;
}

// h builds an element: attrs are properties (class, text, on…) or attributes; children are
// nodes or strings (as text).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function $(sel, root) { return (root || document).querySelector(sel); }

let toastTimer = null;
function toast(msg, ok) {
  const t = $('#toast');
  t.textContent = msg;
  t.className = 'toast show' + (ok ? ' ok' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast'; }, 6000);
}

function fail(e) { toast(e.message || String(e)); }

// ago says how long since t, in words.
function ago(t) {
  if (!t) return '';
  let s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min';
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + ' h ' + (m % 60) + ' min';
  return Math.floor(hr / 24) + ' d';
}

function when(t) { return t ? new Date(t).toLocaleString() : '—'; }

function sentimentWord(x) {
  if (x === null || x === undefined || isNaN(x)) return 'unknown';
  if (x <= -0.5) return 'very negative';
  if (x < -0.05) return 'negative';
  if (x >= 0.5) return 'very positive';
  if (x > 0.05) return 'positive';
  return 'neutral';
}

function sentimentBadge(x) {
  const w = sentimentWord(x);
  return h('span', { class: 'sent sent-' + w.replace(' ', '-'), title: 'sentiment ' + Number(x || 0).toFixed(2) },
    w + ' (' + Number(x || 0).toFixed(2) + ')');
}

// inline renders `code`, **bold**, *emphasis* and [links](http…) as nodes.
function inline(text) {
  const out = [];
  const re = /(`[^`]+`|\*\*[^*]+\*\*|\*[^*\s][^*]*\*|\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0, m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    if (t[0] === '`') out.push(h('code', { text: t.slice(1, -1) }));
    else if (t.startsWith('**')) out.push(h('strong', { text: t.slice(2, -2) }));
    else if (t[0] === '*') out.push(h('em', { text: t.slice(1, -1) }));
    else {
      const lm = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
      if (/^https?:\/\//i.test(lm[2])) out.push(h('a', { href: lm[2], rel: 'noopener noreferrer', target: '_blank', text: lm[1] }));
      else out.push(t);
    }
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// markdown renders headings, lists, code blocks and paragraphs; anything else stays text.
function markdown(src) {
  const root = h('div', { class: 'md' });
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let para = [], list = null;
  const flush = () => {
    if (para.length) root.append(h('p', null, inline(para.join(' '))));
    para = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^```/.test(line)) {
      flush();
      const code = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      root.append(h('pre', null, h('code', { text: code.join('\n') })));
      continue;
    }
    const hm = /^(#{1,6})\s+(.*)$/.exec(line);
    if (hm) { flush(); root.append(h('h' + Math.min(6, hm[1].length + 2), null, inline(hm[2]))); continue; }
    const li = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line);
    if (li) {
      if (para.length) { root.append(h('p', null, inline(para.join(' ')))); para = []; }
      const tag = li[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) { list = h(tag); root.append(list); }
      list.append(h('li', null, inline(li[2])));
      continue;
    }
    if (line.trim() === '') { flush(); continue; }
    list = null;
    para.push(line.trim());
  }
  flush();
  return root;
}

// boot signs the page in (a #token= link, the session cookie, or the form) and calls start.
async function boot(needAdmin, start) {
  const form = $('#signin');
  const show = (msg) => {
    $('#app').hidden = true; $('#who').hidden = true;
    form.hidden = false;
    $('#signin-error').textContent = msg || '';
    $('#token').focus();
  };
  const ready = (me) => {
    B.user = me; B.csrf = me.csrf_token || B.csrf;
    if (needAdmin && me.role !== 'admin') { show('This console needs an admin token; agents work in /agent.'); return; }
    form.hidden = true; $('#app').hidden = false; $('#who').hidden = false;
    $('#me-name').textContent = (me.name || me.email) + ' (' + me.role + ')';
    start();
  };
  const signIn = async (token) => {
    const s = await api('POST', '/v1/auth/session', { token });
    B.csrf = s.csrf_token;
    return Object.assign({}, s.user, { csrf_token: s.csrf_token });
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { ready(await signIn($('#token').value.trim())); $('#token').value = ''; } catch (e) { show(e.message); }
  });
  $('#signout').addEventListener('click', async () => {
    try { await api('DELETE', '/v1/auth/session'); } catch (e) { /* signed out anyway */ }
    location.reload();
  });
  // A sign-in link: #token=… is exchanged for a session and removed from the address bar.
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + location.search);
    try { ready(await signIn(decodeURIComponent(m[1]))); } catch (e) { show(e.message); }
    return;
  }
  try { ready(await api('GET', '/v1/auth/me')); } catch (e) { show(e.status === 401 ? '' : e.message); }
}
