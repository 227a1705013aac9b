// The admin console: one view per section (#articles, #playground, …), each drawn from the
// admin API.
'use strict';

const view = () => $('#view');

function field(label, input, hint) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hint ? h('span', { class: 'hint', text: hint }) : null);
}

function btn(label, fn, cls) {
  return h('button', { type: 'button', class: cls || '', onclick: async (ev) => {
    const b = ev.currentTarget; b.disabled = true;
    try { await fn(ev); } catch (e) { fail(e); } finally { b.disabled = false; }
  } }, label);
}

function diffView(lines) {
  return h('pre', { class: 'diff', 'aria-label': 'Differences' }, (lines || []).map((l) =>
    h('div', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : '', text: (l.op || ' ') + ' ' + l.text })));
}

function show(title, ...kids) {
  view().replaceChildren(h('h2', { text: title }), ...kids.filter((k) => k !== null && k !== undefined));
}

// ---- articles ----

async function articles(params) {
  const q = h('input', { type: 'search', id: 'article-q', value: params.get('q') || '' });
  const st = h('select', { id: 'article-status' }, ['', 'draft', 'published', 'archived'].map((s) =>
    h('option', { value: s, text: s || 'any status', selected: s === (params.get('status') || '') })));
  const list = h('tbody');
  const load = async () => {
    const qs = new URLSearchParams({ limit: '100' });
    if (q.value.trim()) qs.set('q', q.value.trim());
    if (st.value) qs.set('status', st.value);
    const r = await api('GET', '/v1/knowledge/articles?' + qs);
    list.replaceChildren(...(r.articles.length ? r.articles.map((a) => h('tr', null,
      h('td', null, h('a', { href: '#article/' + a.id, text: a.title })),
      h('td', { text: a.status }), h('td', { text: 'v' + a.version }), h('td', { text: a.language }),
      h('td', { text: (a.tags || []).join(', ') }), h('td', { text: when(a.updated_at) }))) :
      [h('tr', null, h('td', { colspan: 6, class: 'hint', text: 'No articles match.' }))]));
  };
  const search = h('form', { class: 'bar', role: 'search', onsubmit: (ev) => { ev.preventDefault(); load().catch(fail); } },
    h('label', { for: 'article-q', text: 'Search' }), q, h('label', { for: 'article-status', text: 'Status' }), st,
    h('button', { type: 'submit', text: 'Search' }),
    h('a', { href: '#article/new', text: 'New article' }));
  show('Articles', search, h('table', { class: 'list' },
    h('thead', null, h('tr', null, ['Title', 'Status', 'Version', 'Language', 'Tags', 'Updated'].map((t) => h('th', { scope: 'col', text: t })))), list),
  importForm());
  await load();
}

function importForm() {
  const url = h('input', { type: 'url', id: 'import-url', placeholder: 'https://help.example.com/sitemap.xml' });
  const file = h('input', { type: 'file', id: 'import-file', accept: '.md,.markdown,.csv,.jsonl' });
  const prog = h('progress', { id: 'import-progress', max: 1, value: 0, hidden: true });
  const status = h('p', { id: 'import-status', role: 'status' });
  const run = async () => {
    let body;
    if (file.files && file.files[0]) {
      const f = file.files[0];
      const ext = (f.name.split('.').pop() || '').toLowerCase();
      const format = { md: 'markdown', markdown: 'markdown', csv: 'csv', jsonl: 'jsonl' }[ext];
      if (!format) throw new Error('Choose a .md, .csv or .jsonl file.');
      body = { content: await f.text(), name: f.name, options: { format } };
    } else if (url.value.trim()) {
      body = { url: url.value.trim() };
    } else { throw new Error('Give a URL or choose a file.'); }
    let job = await api('POST', '/v1/knowledge/imports', body);
    prog.hidden = false;
    for (;;) {
      prog.max = Math.max(1, job.total); prog.value = job.done;
      status.textContent = 'Import #' + job.id + ': ' + job.status + ' — ' + job.done + ' of ' + (job.total || '?') +
        (job.summary ? ' (added ' + job.summary.added + ', updated ' + job.summary.updated + ', failed ' + job.summary.failed + ')' : '') +
        (job.error ? ' — ' + job.error : '');
      if (job.status === 'done' || job.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 1000));
      job = await api('GET', '/v1/knowledge/imports/' + job.id);
    }
  };
  const start = async () => {
    status.textContent = '';
    try { await run(); } catch (e) { status.textContent = 'Import refused: ' + e.message; throw e; }
  };
  return h('section', { class: 'card', 'aria-label': 'Import' }, h('h3', { text: 'Import' }),
    field('From a URL (page or sitemap)', url), field('Or from a file (Markdown, CSV or JSONL)', file),
    btn('Start import', start, 'primary'), prog, status);
}

async function article(id) {
  const isNew = id === 'new';
  const a = isNew ? { title: '', body: '', tags: [], status: 'draft', version: 0, language: 'en' } : await api('GET', '/v1/knowledge/articles/' + id);
  const title = h('input', { type: 'text', id: 'article-title', value: a.title, size: 50 });
  const tags = h('input', { type: 'text', id: 'article-tags', value: (a.tags || []).join(', ') });
  const body = h('textarea', { id: 'article-body', value: a.body, spellcheck: 'true' });
  const preview = h('div', { class: 'preview', id: 'article-preview', 'aria-label': 'Preview', 'aria-live': 'polite' });
  const render = () => preview.replaceChildren(markdown(body.value));
  body.addEventListener('input', render);
  render();
  const state = h('p', { id: 'article-state', role: 'status', text: isNew ? 'New article' : a.status + ' · version ' + a.version + ' · ' + a.chunks + ' chunks' });
  const input = () => ({ title: title.value, body: body.value, tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean) });
  const save = async () => {
    if (isNew) {
      const n = await api('POST', '/v1/knowledge/articles', Object.assign(input(), { status: 'draft' }));
      location.hash = '#article/' + n.id;
      return n;
    }
    const n = await api('PATCH', '/v1/knowledge/articles/' + id, input());
    toast('Saved as version ' + n.version + '.', true);
    await article(id);
    return n;
  };
  const publish = async (yes) => {
    if (isNew) { const n = await save(); await api('POST', '/v1/knowledge/articles/' + n.id + '/publish'); return; }
    await api('PATCH', '/v1/knowledge/articles/' + id, input());
    const n = await api('POST', '/v1/knowledge/articles/' + id + (yes ? '/publish' : '/unpublish'));
    toast((yes ? 'Published' : 'Unpublished') + ' version ' + n.version + '.', true);
    await article(id);
  };
  const versions = h('div', { id: 'article-versions' });
  show(isNew ? 'New article' : 'Article #' + id, h('p', null, h('a', { href: '#articles', text: '← all articles' })), state,
    field('Title', title), field('Tags (comma-separated)', tags),
    h('div', { class: 'split' }, h('div', { class: 'field' }, h('label', { for: 'article-body', text: 'Markdown' }), body),
      h('div', { class: 'field' }, h('span', { class: 'hint', text: 'Preview' }), preview)),
    h('div', { class: 'bar' }, btn('Save draft', save), btn('Save and publish', () => publish(true), 'primary publish'),
      !isNew && a.status === 'published' ? btn('Unpublish', () => publish(false)) : null,
      !isNew ? btn('Delete', async () => {
        if (!confirm('Delete this article?')) return;
        await api('DELETE', '/v1/knowledge/articles/' + id); location.hash = '#articles';
      }) : null),
    versions);
  if (!isNew) await articleVersions(id, a, versions);
}

async function articleVersions(id, a, box) {
  const r = await api('GET', '/v1/knowledge/articles/' + id + '/versions');
  const out = h('div');
  box.replaceChildren(h('h3', { text: 'Versions' }), h('table', { class: 'list' }, h('tbody', null, (r.versions || []).slice().reverse().map((v) =>
    h('tr', null, h('td', { text: 'v' + v.version + (v.version === a.version ? ' (current)' : '') }), h('td', { text: when(v.created_at) }),
      h('td', { text: v.note || '' }),
      h('td', null, v.version !== a.version ? [
        btn('Diff with current', async () => {
          const d = await api('GET', '/v1/knowledge/articles/' + id + '/diff?from=' + v.version + '&to=' + a.version);
          out.replaceChildren(h('h4', { text: 'v' + v.version + ' → v' + a.version }), diffView(d.lines));
        }), ' ',
        btn('Restore', async () => {
          const n = await api('POST', '/v1/knowledge/articles/' + id + '/restore', { version: v.version });
          toast('Restored as version ' + n.version + '.', true); await article(id);
        })] : null))))), out);
}

// ---- gaps ----

async function gaps() {
  const r = await api('GET', '/v1/knowledge/gaps?days=30&limit=100');
  show('Knowledge gaps', h('p', { class: 'hint', text: 'Questions of the last 30 days the help centre could not answer, most frequent first.' }),
    h('table', { class: 'list' }, h('thead', null, h('tr', null, ['Question', 'Times', 'Wordings', 'Why', 'Last seen', 'Conversations'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, (r.gaps || []).length ? r.gaps.map((g) => h('tr', null, h('td', { text: g.question }), h('td', { text: String(g.count) }),
        h('td', { text: (g.examples || []).join(' · ') }), h('td', { text: Object.entries(g.reasons || {}).map(([k, v]) => k + ' ' + v).join(', ') }),
        h('td', { text: when(g.last_seen) }),
        h('td', null, (g.conversation_ids || []).slice(0, 5).map((c) => h('a', { href: '#conversation/' + c, text: '#' + c + ' ' }))))) :
        h('tr', null, h('td', { colspan: 6, class: 'hint', text: 'No gaps recorded.' })))));
}

// ---- playground ----

async function playground(params) {
  const q = h('input', { type: 'text', id: 'play-q', size: 60, value: params.get('q') || '' });
  const out = h('div', { id: 'play-out', 'aria-live': 'polite' });
  const run = async () => {
    if (!q.value.trim()) return;
    const r = await api('POST', '/v1/knowledge/search', { query: q.value.trim() });
    const a = r.answer;
    out.replaceChildren(
      h('section', { class: 'card', id: 'play-answer' }, h('h3', { text: 'The answer the bot would give' }),
        a.no_answer ? h('p', { class: 'hint', text: 'No answer (' + (a.reason || 'low confidence') + ')' + (a.suggest ? '; it would ask about “' + a.suggest.title + '”' : '') }) : null,
        h('p', { class: 'answer-text', text: a.text || '' }),
        h('p', { class: 'hint', text: 'confidence ' + Number(a.confidence).toFixed(3) + ' · search confidence ' + Number(r.search.confidence).toFixed(3) }),
        (a.citations || []).length ? h('p', null, 'Cites: ', a.citations.map((c) => h('a', { href: '#article/' + c.article_id, text: c.title + ' ' }))) : null),
      h('h3', { text: 'Retrieved chunks' }),
      h('table', { class: 'list', id: 'play-chunks' }, h('thead', null, h('tr', null, ['#', 'Article', 'Fused', 'Vector', 'Full text', 'Text'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, (r.search.hits || []).map((hit) => h('tr', null, h('td', { text: String(hit.rank) }),
          h('td', null, h('a', { href: '#article/' + hit.article_id, text: hit.title }), (hit.heading_path || []).length ? h('div', { class: 'hint', text: hit.heading_path.join(' › ') }) : null),
          h('td', { class: 'score', text: Number(hit.fused_score).toFixed(4) }),
          h('td', { class: 'score', text: hit.vector ? Number(hit.vector.score).toFixed(3) + ' (#' + hit.vector.rank + ')' : '—' }),
          h('td', { class: 'score', text: hit.fts ? Number(hit.fts.score).toFixed(3) + ' (#' + hit.fts.rank + ')' : '—' }),
          h('td', { class: 'chunk-text', text: hit.text }))))));
  };
  show('Retrieval playground', h('form', { class: 'bar', onsubmit: (ev) => { ev.preventDefault(); run().catch(fail); } },
    h('label', { for: 'play-q', text: 'Question' }), q, h('button', { type: 'submit', class: 'primary', text: 'Ask' })), out);
  if (q.value) await run();
}

// ---- prompts ----

async function promptList() {
  const r = await api('GET', '/v1/prompts');
  show('Prompts', h('table', { class: 'list' }, h('thead', null, h('tr', null, ['Template', 'Active version', 'Input'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, r.prompts.map((p) => h('tr', null, h('td', null, h('a', { href: '#prompt/' + p.name, text: p.name })),
      h('td', { text: p.default ? 'default' : 'v' + p.active_version }), h('td', { text: p.input }))))));
}

async function prompt(name) {
  const p = await api('GET', '/v1/prompts/' + encodeURIComponent(name));
  const body = h('textarea', { id: 'prompt-body', value: p.body, rows: 14, spellcheck: 'false' });
  const err = h('p', { id: 'prompt-error', class: 'tpl-error', role: 'alert' });
  const out = h('div', { id: 'prompt-out', 'aria-live': 'polite' });
  const showErr = (e) => {
    err.textContent = e.line ? 'Line ' + e.line + ': ' + e.message : e.message;
    if (e.line) { // put the cursor on the refused line
      const lines = body.value.split('\n');
      const start = lines.slice(0, e.line - 1).join('\n').length + (e.line > 1 ? 1 : 0);
      body.focus(); body.setSelectionRange(start, start + (lines[e.line - 1] || '').length);
    }
  };
  const guard = (fn) => async () => { err.textContent = ''; try { await fn(); } catch (e) { if (e.code === 'invalid_template') showErr(e); else throw e; } };
  const data = h('textarea', { id: 'prompt-data', rows: 4, spellcheck: 'false', placeholder: '{"Customer": {"Name": "Ana"}}' });
  const versions = h('div', { id: 'prompt-versions' });
  show('Prompt ' + name, h('p', null, h('a', { href: '#prompts', text: '← all prompts' })),
    h('p', { class: 'hint', text: 'Active: ' + (p.default ? 'the default' : 'version ' + p.active_version) + '. Fields: ' + (p.fields || []).join(', ') }),
    field('Template (Go text/template)', body), err,
    field('Preview data (JSON of the template input; empty = the sample conversation)', data),
    h('div', { class: 'bar' },
      btn('Preview', guard(async () => {
        const req = { body: body.value };
        if (data.value.trim()) {
          try { req.data = JSON.parse(data.value); } catch (e) { throw new Error('The preview data is not valid JSON: ' + e.message); }
        }
        const r = await api('POST', '/v1/prompts/' + name + '/preview', req);
        out.replaceChildren(h('h3', { text: req.data ? 'Preview with your data' : 'Preview with the sample conversation' }), h('pre', { id: 'prompt-preview', text: r.text || '(empty: the bot would say nothing)' }));
      })),
      btn('Save as new version', guard(async () => {
        const v = await api('PUT', '/v1/prompts/' + name, { body: body.value });
        toast('Saved version ' + v.version + ' (not active yet).', true);
        await promptVersions(name, versions, out);
      }), 'primary save')),
    out, versions);
  await promptVersions(name, versions, out);
}

async function promptVersions(name, box, out) {
  const r = await api('GET', '/v1/prompts/' + name + '/versions');
  const active = (r.versions || []).find((v) => v.active) || { version: 0 };
  box.replaceChildren(h('h3', { text: 'Versions' }), h('table', { class: 'list' }, h('tbody', null, (r.versions || []).slice().reverse().map((v) =>
    h('tr', null, h('td', { text: v.version === 0 ? 'default' : 'v' + v.version }), h('td', { text: v.active ? 'active' : '' }),
      h('td', { text: v.created_at ? when(v.created_at) : '' }),
      h('td', null, btn('Diff with active', async () => {
        const d = await api('GET', '/v1/prompts/' + name + '/diff?from=' + active.version + '&to=' + v.version);
        out.replaceChildren(h('h3', { text: (active.version || 'default') + ' → ' + (v.version || 'default') }), diffView(d.lines));
      }), ' ', v.active ? null : btn(v.version > active.version ? 'Activate' : 'Roll back to this', async () => {
        await api('POST', '/v1/prompts/' + name + '/activate', { version: v.version });
        toast('Version ' + (v.version || 'default') + ' is active.', true); await prompt(name);
      })))))));
}

// ---- intents ----

async function intentList() {
  const r = await api('GET', '/v1/intents');
  show('Intents', h('p', null, h('a', { href: '#intent/new', text: 'New intent' })),
    h('table', { class: 'list' }, h('thead', null, h('tr', null, ['Intent', 'Action', 'Team', 'Required details', 'Examples'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, (r.intents || []).map((i) => h('tr', null, h('td', null, h('a', { href: '#intent/' + i.name, text: i.name })),
        h('td', { text: i.action || 'answer' }), h('td', { text: i.team || '' }), h('td', { text: (i.required_details || []).join(', ') }),
        h('td', { text: String((i.examples || []).length) }))))));
}

async function intent(name) {
  const isNew = name === 'new';
  const i = isNew ? { name: '', examples: [], required_details: [], action: '', team: '', description: '', reply: '' } : await api('GET', '/v1/intents/' + name);
  const nm = h('input', { type: 'text', id: 'intent-name', value: i.name, disabled: !isNew, pattern: '[a-z][a-z0-9_]*' });
  const desc = h('input', { type: 'text', id: 'intent-desc', value: i.description || '', size: 60 });
  const ex = h('textarea', { id: 'intent-examples', rows: 10, value: (i.examples || []).join('\n') });
  const req = h('input', { type: 'text', id: 'intent-details', value: (i.required_details || []).join(', ') });
  const action = h('select', { id: 'intent-action' }, ['', 'answer', 'gather_then_handoff', 'handoff', 'reply'].map((a) => h('option', { value: a, text: a || '(default)', selected: a === (i.action || '') })));
  const team = h('input', { type: 'text', id: 'intent-team', value: i.team || '' });
  const reply = h('textarea', { id: 'intent-reply', rows: 3, value: i.reply || '' });
  const save = async () => {
    const body = Object.assign({}, i, { name: isNew ? nm.value.trim() : i.name, description: desc.value, action: action.value, team: team.value.trim(), reply: reply.value,
      examples: ex.value.split('\n').map((s) => s.trim()).filter(Boolean), required_details: req.value.split(',').map((s) => s.trim()).filter(Boolean) });
    for (const k of Object.keys(body)) if (body[k] === '' || (Array.isArray(body[k]) && !body[k].length && k !== 'examples')) delete body[k];
    const out = isNew ? await api('POST', '/v1/intents', body) : await api('PUT', '/v1/intents/' + i.name, body);
    toast('Saved ' + out.name + '.', true);
    location.hash = '#intent/' + out.name;
  };
  show(isNew ? 'New intent' : 'Intent ' + i.name, h('p', null, h('a', { href: '#intents', text: '← all intents' })),
    field('Name', nm), field('Description', desc), field('Examples (one per line)', ex),
    field('Required details (comma-separated detail types)', req), field('Action', action), field('Team', team, 'the team a handoff of this intent goes to'),
    field('Fixed reply (optional)', reply),
    h('div', { class: 'bar' }, btn('Save', save, 'primary'), !isNew ? btn('Delete', async () => {
      if (!confirm('Delete intent ' + i.name + '?')) return;
      await api('DELETE', '/v1/intents/' + i.name); location.hash = '#intents';
    }) : null));
}

// ---- conversations ----

async function conversationList(params) {
  const st = h('select', { id: 'conv-status', onchange: () => { location.hash = '#conversations?status=' + st.value; } },
    ['', 'bot', 'queued', 'agent', 'resolved'].map((s) => h('option', { value: s, text: s || 'any status', selected: s === (params.get('status') || '') })));
  const qs = new URLSearchParams({ limit: '100' });
  if (params.get('status')) qs.set('status', params.get('status'));
  const r = await api('GET', '/v1/conversations?' + qs);
  show('Conversations', h('div', { class: 'bar' }, h('label', { for: 'conv-status', text: 'Status' }), st),
    h('table', { class: 'list' }, h('thead', null, h('tr', null, ['#', 'Customer', 'Status', 'Channel', 'Priority', 'Sentiment', 'Updated'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, r.conversations.map((c) => h('tr', null, h('td', null, h('a', { href: '#conversation/' + c.id, text: '#' + c.id })),
        h('td', { text: (c.customer && c.customer.name) || '' }), h('td', { text: c.status }), h('td', { text: c.channel }),
        h('td', { text: String(c.priority) }), h('td', null, sentimentBadge(c.sentiment_trend)), h('td', { text: when(c.updated_at) }))))));
}

function traceCard(t) {
  const d = t.data || {};
  const facts = Object.entries(d).filter(([, v]) => v === null || typeof v !== 'object');
  const llm = d.llm && typeof d.llm === 'object' ? d.llm : null;
  return h('section', { class: 'card trace', 'aria-label': 'Turn ' + t.id },
    h('h4', { text: 'Turn ' + t.id + ' · ' + when(t.started_at) + ' · ' + (new Date(t.finished_at) - new Date(t.started_at)) + ' ms · messages ' + (t.message_ids || []).join(', ') }),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', { text: k.replace(/_/g, ' ') }), h('dd', { text: String(v) })]),
      Array.isArray(d.actions) ? [h('dt', { text: 'actions' }), h('dd', { text: d.actions.join(', ') })] : null,
      llm ? [h('dt', { text: 'llm' }), h('dd', { text: Object.entries(llm).filter(([, v]) => typeof v !== 'object').map(([k, v]) => k + ' ' + v).join(' · ') })] : null),
    h('details', null, h('summary', { text: 'Everything the turn recorded' }), h('pre', { text: JSON.stringify(d, null, 2) })));
}

async function conversation(id) {
  const [c, tr] = await Promise.all([api('GET', '/v1/conversations/' + id), api('GET', '/v1/conversations/' + id + '/traces')]);
  const byMsg = new Map();
  for (const t of tr.traces) for (const m of t.message_ids || []) byMsg.set(m, t);
  show('Conversation #' + id, h('p', null, h('a', { href: '#conversations', text: '← all conversations' })),
    h('p', { class: 'hint', text: ((c.customer && c.customer.name) || 'Customer') + ' · ' + c.status + ' · ' + c.channel + ' · episode ' + c.episode }),
    c.handoff ? h('section', { class: 'card' }, h('h3', { text: 'Handoff: ' + c.handoff.reason }), h('p', { text: c.handoff.summary }), h('p', { class: 'hint', text: 'Next step: ' + (c.handoff.next_step || '—') })) : null,
    h('div', { class: 'split' },
      h('section', null, h('h3', { text: 'Transcript' }), h('ol', { class: 'transcript' }, (c.messages || []).map((m) =>
        h('li', { class: 'msg author-' + m.author + (m.visibility === 'internal' ? ' note' : '') },
          h('span', { class: 'by', text: (m.visibility === 'internal' ? 'Internal note · ' : '') + m.author + ' · ' + when(m.created_at) + (byMsg.has(m.id) ? ' · turn ' + byMsg.get(m.id).id : '') }),
          h('span', { text: m.text }))))),
      h('section', null, h('h3', { text: 'Turn traces: why the bot said what it said' }),
        tr.traces.length ? tr.traces.map(traceCard) : h('p', { class: 'hint', text: 'No turns recorded.' }))));
}

// ---- settings, users and teams ----

async function settings() {
  const [s, teams, bot] = await Promise.all([api('GET', '/v1/admin/settings'), api('GET', '/v1/admin/teams'), api('GET', '/v1/admin/bot').catch(() => null)]);
  const hours = h('div');
  show('Settings',
    h('section', { class: 'card' }, h('h3', { text: 'Thresholds and brand voice' }), h('p', { class: 'hint', text: 'Set by BATON_* variables at start; shown here read-only.' }),
      h('dl', { class: 'facts', id: 'settings-list' }, Object.entries(s.settings || {}).map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v || '—' })]))),
    bot ? h('section', { class: 'card' }, h('h3', { text: 'Bot' }), h('pre', { text: JSON.stringify(bot, null, 2) })) : null,
    h('section', { class: 'card' }, h('h3', { text: 'Business hours per team' }), hours));
  for (const t of teams.teams || []) {
    const r = await api('GET', '/v1/teams/' + t.id + '/hours');
    const ta = h('textarea', { id: 'hours-' + t.id, rows: 5, value: r.hours ? JSON.stringify(r.hours, null, 2) : '' });
    hours.append(h('div', { class: 'field' }, h('label', { for: 'hours-' + t.id, text: t.name + (r.always_open ? ' (always open)' : '') }), ta,
      h('span', { class: 'hint', text: '{"timezone": "Europe/Berlin", "weekly": {"mon": ["09:00-17:00"]}, "holidays": ["2026-12-25"]}; empty = always open' }),
      btn('Save hours of ' + t.name, async () => {
        let v = null;
        if (ta.value.trim()) { try { v = JSON.parse(ta.value); } catch (e) { throw new Error('Hours are not valid JSON: ' + e.message); } }
        await api('PUT', '/v1/teams/' + t.id + '/hours', { hours: v });
        toast('Saved the hours of ' + t.name + '.', true);
      })));
  }
}

async function users() {
  const [u, t] = await Promise.all([api('GET', '/v1/admin/users'), api('GET', '/v1/admin/teams')]);
  const teamName = new Map((t.teams || []).map((x) => [x.id, x.name]));
  const email = h('input', { type: 'email', id: 'user-email', required: true });
  const name = h('input', { type: 'text', id: 'user-name' });
  const role = h('select', { id: 'user-role' }, h('option', { value: 'agent', text: 'agent' }), h('option', { value: 'admin', text: 'admin' }));
  const teams = h('input', { type: 'text', id: 'user-teams', placeholder: 'support, billing' });
  const created = h('p', { role: 'status' });
  const team = h('input', { type: 'text', id: 'team-name' });
  show('Users & teams',
    h('table', { class: 'list' }, h('thead', null, h('tr', null, ['#', 'Email', 'Name', 'Role', 'Status', 'Capacity', 'Teams'].map((x) => h('th', { scope: 'col', text: x })))),
      h('tbody', null, (u.users || []).map((x) => h('tr', null, h('td', { text: String(x.id) }), h('td', { text: x.email }), h('td', { text: x.name }),
        h('td', { text: x.role }), h('td', { text: x.status }), h('td', { text: String(x.capacity) }),
        h('td', { text: (x.team_ids || []).map((i) => teamName.get(i) || i).join(', ') }))))),
    h('section', { class: 'card' }, h('h3', { text: 'New user' }), field('Email', email), field('Name', name), field('Role', role), field('Teams', teams),
      btn('Create user', async () => {
        const r = await api('POST', '/v1/admin/users', { email: email.value.trim(), name: name.value.trim(), role: role.value,
          teams: teams.value.split(',').map((s) => s.trim()).filter(Boolean) });
        created.replaceChildren('Created ', h('strong', { text: r.user.email }), '. Their token, shown once: ', h('code', { text: r.token }));
      }, 'primary'), created),
    h('section', { class: 'card' }, h('h3', { text: 'Teams' }), h('p', { text: (t.teams || []).map((x) => x.name).join(', ') || 'none' }),
      field('New team', team), btn('Create team', async () => { await api('POST', '/v1/admin/teams', { name: team.value.trim() }); await users(); })));
}

// ---- dashboard ----

const chartNames = [['conversations', 'Conversations per day'], ['resolution', 'Bot resolution and handoff rate'],
  ['handoffs', 'Handoffs by reason'], ['first-response', 'Time to first response'], ['queue-wait', 'Queue wait'], ['csat', 'CSAT, bot vs human']];

async function dashboard(params) {
  const days = Number(params.get('days') || 7);
  const range = h('select', { id: 'dash-days', onchange: () => { location.hash = '#dashboard?days=' + range.value; } },
    [7, 30, 90].map((d) => h('option', { value: d, text: 'last ' + d + ' days', selected: d === days })));
  const day = (d) => d.toISOString().slice(0, 10);
  const to = new Date(), from = new Date(Date.now() - (days - 1) * 86400000);
  const qs = 'from=' + day(from) + '&to=' + day(to);
  let stats = null, note = null;
  try { stats = await api('GET', '/v1/stats?' + qs); } catch (e) {
    note = h('p', { class: 'hint', text: e.status === 404 ? 'This server has no statistics endpoint (/v1/stats) yet.' : e.message });
  }
  show('Dashboard', h('div', { class: 'bar' }, h('label', { for: 'dash-days', text: 'Range' }), range), note,
    stats ? h('div', { class: 'charts' }, chartNames.map(([n, title]) => h('figure', { class: 'card chart' },
      h('img', { src: '/console/charts/' + n + '.svg?' + qs, alt: title + ' — the numbers are in the table below', width: 720, height: 260 }),
      h('figcaption', { class: 'hint', text: title })))) : null,
    stats ? h('details', null, h('summary', { text: 'The numbers' }), h('table', { class: 'list', id: 'dash-table' },
      h('thead', null, h('tr', null, ['Day', 'Conversations', 'Bot resolved', 'Handoffs', 'First response bot / human (s)', 'Queue wait (s)', 'CSAT bot / human'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, (stats.days || []).map((d) => h('tr', null, h('td', { text: d.day }), h('td', { text: String(d.conversations) }),
        h('td', { text: String((d.bot_resolved_confirmed || 0) + (d.bot_resolved_assumed || 0)) }),
        h('td', { text: Object.entries(d.handoffs || {}).map(([k, v]) => k + ' ' + v).join(', ') || '0' }),
        h('td', { text: fmtN(d.first_response_bot_seconds) + ' / ' + fmtN(d.first_response_human_seconds) }),
        h('td', { text: fmtN(d.queue_wait_seconds) }), h('td', { text: fmtN(d.csat_bot) + ' / ' + fmtN(d.csat_human) })))))) : null);
}

function fmtN(v) { return v === null || v === undefined ? '—' : (Math.round(v * 10) / 10).toString(); }

// ---- routing ----

const routes = {
  dashboard: dashboard, articles: articles, article: (p, id) => article(id), gaps: gaps, playground: playground,
  prompts: promptList, prompt: (p, id) => prompt(id), intents: intentList, intent: (p, id) => intent(id),
  conversations: conversationList, conversation: (p, id) => conversation(id), settings: settings, users: users,
};

async function route() {
  const raw = location.hash.replace(/^#/, '') || 'articles';
  const [pathPart, query] = raw.split('?');
  const [name, id] = pathPart.split('/');
  const fn = routes[name] || articles;
  const section = { article: 'articles', prompt: 'prompts', intent: 'intents', conversation: 'conversations' }[name] || name;
  for (const a of document.querySelectorAll('.sections a')) {
    if (a.getAttribute('href') === '#' + section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  view().replaceChildren(h('p', { class: 'hint', text: 'Loading…' }));
  try { await fn(new URLSearchParams(query || ''), id && decodeURIComponent(id)); } catch (e) {
    if (e.status === 401) { location.reload(); return; }
    view().replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message }));
  }
}

document.addEventListener('DOMContentLoaded', () => boot(true, () => {
  window.addEventListener('hashchange', route);
  route();
}));
