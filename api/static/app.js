/* kb web front end: hash routing, plain DOM, no dependencies. */
'use strict';
(function () {
  /** Every UI string: key -> [Russian, English]. */
  const I18N = {
    skip: ['Перейти к содержимому', 'Skip to content'], navLabel: ['Разделы', 'Sections'],
    navAsk: ['Спросить', 'Ask'], navClients: ['Клиенты', 'Clients'], navGaps: ['Пробелы', 'Gaps'],
    langBtn: ['EN', 'RU'], langTitle: ['Switch to English', 'Переключить на русский'],
    askTitle: ['Вопрос к базе знаний', 'Ask the knowledge base'],
    askIntro: ['Спросите про клиента, продукт или порядок работы — ответ придёт со ссылками на источники.',
      'Ask about a client, a product or a procedure — the answer comes with links to its sources.'],
    question: ['Вопрос', 'Question'], client: ['Клиент', 'Client'], allClients: ['Все клиенты', 'All clients'],
    questionPh: ['Например: какие условия оплаты у клиента?', 'E.g. what are the client’s payment terms?'],
    ask: ['Спросить', 'Ask'], searching: ['Ищу…', 'Searching…'], emptyQuestion: ['Введите вопрос.', 'Type a question.'],
    yourQuestion: ['Вопрос: {q}', 'Question: {q}'], notInKb: ['Нет в базе знаний', 'Not in the knowledge base'],
    gapRecorded: ['Вопрос записан как пробел в базе; ответственный: {owner}',
      'The question was recorded as a knowledge-base gap; owner: {owner}'],
    gapRecordedNoOwner: ['Вопрос записан как пробел в базе.', 'The question was recorded as a knowledge-base gap.'],
    ownerLine: ['Ответственный: {owner}', 'Owner: {owner}'], confidence: ['уверенность {pct}%', 'confidence {pct}%'],
    vConfident: ['Уверенный ответ', 'Confident'], vCheck: ['Проверьте источник', 'Check the source'],
    vNone: ['Нет в базе знаний', 'Not in the knowledge base'],
    sources: ['Источники', 'Sources'], nearest: ['Ближайшие материалы', 'Closest material'],
    lines: ['строки {a}–{b}', 'lines {a}–{b}'],
    feedbackLabel: ['Ответ помог?', 'Did this help?'], comment: ['Комментарий (необязательно)', 'Comment (optional)'],
    helpful: ['Полезно', 'Helpful'], unhelpful: ['Не полезно', 'Not helpful'], thanks: ['Спасибо!', 'Thank you!'],
    clientsTitle: ['Клиенты', 'Clients'], docsCount: ['документов: {n}', 'documents: {n}'],
    noClients: ['Клиентов пока нет.', 'No clients yet.'], clientDocs: ['Документы', 'Documents'],
    askClient: ['Вопрос по клиенту', 'Ask about this client'], noDocs: ['Документов нет.', 'No documents.'],
    type: ['Тип', 'Type'], owner: ['Ответственный', 'Owner'], verified: ['Проверено', 'Verified'],
    contents: ['Содержание', 'Contents'], toClient: ['Страница клиента', 'Client page'],
    gapsTitle: ['Пробелы в базе знаний', 'Knowledge-base gaps'],
    gapsIntro: ['Вопросы, на которые база не ответила или ответ отметили бесполезным. Новые сверху.',
      'Questions the knowledge base could not answer or whose answer was marked not helpful. Newest first.'],
    noGaps: ['Пробелов нет.', 'No gaps.'], colQuestion: ['Вопрос', 'Question'], colClient: ['Клиент', 'Client'],
    colReason: ['Причина', 'Reason'], colCount: ['Сколько раз', 'Count'], colLastSeen: ['Последний раз', 'Last seen'],
    colOwner: ['Ответственный', 'Owner'],
    rRefused: ['Не нашлось ответа', 'No answer found'], rUnhelpful: ['Отмечен как бесполезный', 'Marked not helpful'],
    notFound: ['Страница не найдена', 'Page not found'], loading: ['Загрузка…', 'Loading…'],
    httpError: ['Ошибка сервера', 'Server error'],
    networkError: ['Сервер недоступен. Проверьте соединение и попробуйте ещё раз.',
      'The server is unreachable. Check the connection and try again.'],
  };

  const VERDICTS = { // verdict -> [label key, badge colour class]
    'confident': ['vConfident', 'ok'], 'check the source': ['vCheck', 'warn'], 'not in the knowledge base': ['vNone', 'none'],
  };
  const REASONS = { refused: 'rRefused', unhelpful: 'rUnhelpful' };
  const LANG_KEY = 'kb.lang';

  const state = {
    lang: loadLang(),
    clients: null, // Promise<[client]>, cached
    answers: {}, // scope -> {question, client, result, sent}
    doc: null, // {path, data}: the last document, reused when only the anchor changes
    seq: 0, // bumped on every navigation; stale responses are dropped
  };

  /* ---------- small helpers ---------- */

  function $(sel, root) { return (root || document).querySelector(sel); }

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat()) {
      if (k !== null && k !== undefined && k !== false) n.append(k instanceof Node ? k : String(k));
    }
    return n;
  }

  function t(key, vars) {
    const pair = I18N[key];
    const s = pair ? pair[state.lang === 'en' ? 1 : 0] : key;
    return vars ? s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? '')) : s;
  }

  function loadLang() {
    try { return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ru'; } catch (e) { return 'ru'; }
  }

  function locale() { return state.lang === 'en' ? 'en-GB' : 'ru-RU'; }

  function fmtTime(sec) {
    return sec ? new Date(sec * 1000).toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' }) : '—';
  }

  function safeDecode(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  function encPath(p) { return p.split('/').map(encodeURIComponent).join('/'); }
  function decPath(p) { return p.split('/').map(safeDecode).join('/'); }

  function docHash(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const qs = q.toString();
    return '#/doc/' + encPath(path) + (qs ? '?' + qs : '');
  }

  function snippet(text, max = 220) {
    const s = String(text || '').replace(/^#+\s.*$/gm, '') // headings are already in the link text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/^>\s?/gm, '').replace(/[*`]+/g, '').replace(/[|\s]+/g, ' ').trim();
    return s.length > max ? s.slice(0, max).replace(/\s+\S*$/, '') + '…' : s;
  }

  function setTitle(text) { document.title = text ? text + ' — kb' : 'kb'; }

  function spinner(text) {
    return el('p', { class: 'loading', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
  }

  function showError(msg) { const b = $('#error'); b.textContent = msg; b.hidden = false; }
  function clearError() { const b = $('#error'); b.textContent = ''; b.hidden = true; }

  function focusHeading(view) { $('h1', view)?.focus({ preventScroll: true }); }

  /* ---------- API ---------- */

  async function api(method, url, body) {
    const opts = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try { res = await fetch(url, opts); } catch (e) { throw new Error(t('networkError')); }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new Error(errorMessage(data) || `${t('httpError')} (${res.status})`);
    return data;
  }

  function errorMessage(data) { // {"error": {...}} from kb, {"detail": ...} from FastAPI validation
    if (!data) return '';
    return data.error?.message || (typeof data.detail === 'string' ? data.detail : data.detail?.[0]?.msg) || '';
  }

  /** GET for a view: a spinner meanwhile, errors into #error, null if the user navigated away. */
  async function load(view, seq, url) {
    const spin = spinner(t('loading'));
    view.append(spin);
    try {
      const d = await api('GET', url);
      return seq === state.seq ? d : null;
    } catch (e) {
      if (seq === state.seq) showError(e.message);
      return null;
    } finally {
      spin.remove();
    }
  }

  function getClients() {
    if (!state.clients) {
      state.clients = api('GET', '/api/clients').then((d) => d.clients || [])
        .catch((e) => { state.clients = null; throw e; });
    }
    return state.clients;
  }

  /* ---------- ask box and answer card ---------- */

  function clientSelect(preset) {
    const sel = el('select', { id: 'client', name: 'client', 'data-testid': 'client' },
      el('option', { value: '' }, t('allClients')));
    getClients().then((list) => {
      for (const c of list) sel.append(el('option', { value: c.id }, c.title || c.id));
      if (preset) sel.value = preset;
    }).catch((e) => showError(e.message));
    return sel;
  }

  function field(label, control) {
    return el('div', { class: 'field' }, el('label', { for: control.id }, label), control);
  }

  /** scope keys the remembered answer; fixedClient scopes every question to one client. */
  function askBox(scope, fixedClient, preset) {
    const saved = state.answers[scope];
    const input = el('input', {
      id: 'question', type: 'text', name: 'question', autocomplete: 'off', autofocus: true,
      placeholder: t('questionPh'), maxlength: 2000, 'data-testid': 'question',
    });
    if (saved) input.value = saved.question;
    const select = fixedClient ? null : clientSelect(preset || (saved && saved.client) || '');
    const button = el('button', { id: 'ask', type: 'submit', class: 'primary', 'data-testid': 'ask' }, t('ask'));
    const result = el('div', { class: 'result', 'aria-live': 'polite' });
    const form = el('form', { class: 'ask-form' + (select ? '' : ' scoped'), novalidate: true },
      field(t('question'), input), select && field(t('client'), select), el('div', { class: 'field' }, button));
    const ctx = { scope, input, select, button, result, client: fixedClient || '' };
    form.addEventListener('submit', (e) => { e.preventDefault(); ask(ctx); });
    if (saved) result.append(answerCard(saved));
    return el('div', { class: 'askbox' }, form, result);
  }

  async function ask(ctx) {
    const question = ctx.input.value.trim();
    if (!question) { showError(t('emptyQuestion')); ctx.input.focus(); return; }
    clearError();
    const client = ctx.client || (ctx.select ? ctx.select.value : '');
    const token = {};
    ctx.pending = token;
    ctx.button.disabled = true;
    ctx.result.replaceChildren(spinner(t('searching')));
    try {
      const result = await api('POST', '/api/ask', client ? { question, client } : { question });
      const entry = { question, client, result, sent: null };
      state.answers[ctx.scope] = entry; // kept even if the view was re-rendered meanwhile
      if (ctx.pending !== token || !ctx.result.isConnected) return;
      ctx.result.replaceChildren(answerCard(entry));
    } catch (e) {
      if (ctx.pending !== token) return;
      ctx.result.replaceChildren();
      showError(e.message);
    } finally {
      if (ctx.pending === token) ctx.button.disabled = false;
    }
  }

  function verdictBadge(r) {
    const v = VERDICTS[r.verdict] || (r.answered ? VERDICTS['check the source'] : VERDICTS['not in the knowledge base']);
    return el('span', { id: 'verdict', class: 'badge ' + v[1], 'data-verdict': r.verdict, 'data-testid': 'verdict' }, t(v[0]));
  }

  function answerCard(entry) {
    const r = entry.result;
    const pct = Math.round((Number(r.confidence) || 0) * 100);
    const answered = r.answered && r.answer;
    const card = el('article', { id: 'answer', class: 'card answer', 'data-testid': 'answer' },
      el('p', { class: 'asked muted' }, t('yourQuestion', { q: entry.question })),
      el('div', { class: 'answer-head' }, verdictBadge(r), el('span', { class: 'muted small' }, t('confidence', { pct }))),
      el('div', { id: 'answer-text', class: 'answer-text' + (answered ? '' : ' none'), 'data-testid': 'answer-text' },
        answered ? r.answer : t('notInKb')));
    if (!answered && (r.owner || r.gap_id != null)) {
      card.append(el('p', { class: 'gap-note' }, r.owner ? t('gapRecorded', { owner: r.owner }) : t('gapRecordedNoOwner')));
    } else if (answered && r.owner) {
      card.append(el('p', { class: 'muted small' }, t('ownerLine', { owner: r.owner })));
    }
    if (r.sources && r.sources.length) card.append(sourcesList(r));
    card.append(feedbackBlock(entry));
    return card;
  }

  function sourceLabel(h) {
    const where = (h.heading_path && h.heading_path.length ? h.heading_path.join(' › ') : h.heading) || h.path;
    return `${where} — ${h.path}, ${t('lines', { a: h.start_line, b: h.end_line })}`;
  }

  function sourcesList(r) {
    const list = el('ol', { id: 'sources', class: 'sources', 'data-testid': 'sources' });
    for (const h of r.sources) {
      const href = docHash(h.path, { start: h.start_line, end: h.end_line, anchor: h.anchor });
      list.append(el('li', {},
        el('a', { class: 'source', href }, sourceLabel(h)),
        el('p', { class: 'snippet' }, snippet(h.text))));
    }
    return el('section', { class: 'sources-wrap' }, el('h2', { class: 'h3' }, t(r.answered ? 'sources' : 'nearest')), list);
  }

  function feedbackBlock(entry) {
    const comment = el('input', { id: 'feedback-comment', type: 'text', autocomplete: 'off', maxlength: 1000 });
    const yes = el('button', { id: 'helpful', type: 'button', 'data-testid': 'helpful' }, t('helpful'));
    const no = el('button', { id: 'unhelpful', type: 'button', 'data-testid': 'unhelpful' }, t('unhelpful'));
    const thanks = () => el('p', { id: 'feedback-thanks', role: 'status', 'data-testid': 'feedback-thanks' }, t('thanks'));
    const box = el('div', { class: 'feedback', role: 'group', 'aria-label': t('feedbackLabel') },
      el('p', { class: 'feedback-q' }, t('feedbackLabel')),
      field(t('comment'), comment),
      el('div', { class: 'buttons' }, yes, no));
    const lock = (on) => { yes.disabled = on; no.disabled = on; comment.disabled = on; };
    if (entry.sent !== null) {
      lock(true);
      (entry.sent ? yes : no).setAttribute('aria-pressed', 'true');
      box.append(thanks());
    }
    const send = async (helpful, btn) => {
      lock(true);
      const body = { question: entry.question, answer: entry.result.answer || '', helpful };
      if (comment.value.trim()) body.comment = comment.value.trim();
      try {
        await api('POST', '/api/feedback', body);
        entry.sent = helpful;
        btn.setAttribute('aria-pressed', 'true');
        box.append(thanks());
      } catch (e) {
        lock(false);
        showError(e.message);
      }
    };
    yes.addEventListener('click', () => send(true, yes));
    no.addEventListener('click', () => send(false, no));
    return box;
  }

  /* ---------- views ---------- */

  function viewAsk(view, params) {
    setTitle(t('askTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('askTitle')), el('p', { class: 'muted' }, t('askIntro')),
      askBox('all', '', params.get('client') || ''));
    $('#question', view).focus();
  }

  async function viewClients(view, seq) {
    setTitle(t('clientsTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('clientsTitle')));
    focusHeading(view);
    let list;
    try { list = await getClients(); } catch (e) { showError(e.message); return; }
    if (seq !== state.seq) return;
    if (!list.length) { view.append(el('p', {}, t('noClients'))); return; }
    view.append(el('ul', { class: 'linklist', id: 'clients' }, list.map((c) => el('li', {},
      el('a', { href: '#/client/' + encodeURIComponent(c.id) }, c.title || c.id),
      el('span', { class: 'muted small' }, t('docsCount', { n: c.documents }))))));
  }

  function metaLine(m) {
    const parts = [];
    if (m.type) parts.push(`${t('type')}: ${m.type}`);
    if (m.owner) parts.push(`${t('owner')}: ${m.owner}`);
    if (m.verified) parts.push(`${t('verified')}: ${m.verified}`);
    return parts.join(' · ');
  }

  async function viewClient(view, id, seq) {
    const d = await load(view, seq, '/api/clients/' + encodeURIComponent(id));
    if (!d) return;
    setTitle(d.title || id);
    const docs = d.documents || [];
    const list = docs.length
      ? el('ul', { class: 'linklist', id: 'client-docs' }, docs.map((doc) => el('li', {},
        el('a', { href: docHash(doc.path) }, doc.title || doc.path),
        el('span', { class: 'muted small' }, metaLine({ owner: doc.owner, verified: doc.verified })))))
      : el('p', {}, t('noDocs'));
    view.append(el('h1', { tabindex: '-1' }, d.title || id),
      el('h2', {}, t('clientDocs')), list,
      el('h2', {}, t('askClient')), askBox('client:' + id, id));
    focusHeading(view);
  }

  function toc(d, path) {
    const secs = (d.sections || []).filter((s) => s.anchor && s.level > 1);
    if (secs.length < 2) return null;
    return el('details', { class: 'toc' }, el('summary', {}, t('contents')),
      el('ul', {}, secs.map((s) => el('li', { class: 'lvl' + s.level },
        el('a', { href: docHash(path, { anchor: s.anchor }) }, s.heading)))));
  }

  async function viewDoc(view, path, params, seq) {
    const cached = state.doc && state.doc.path === path ? state.doc.data : null;
    const d = cached || await load(view, seq, '/api/documents/' + encPath(path));
    if (!d) return;
    state.doc = { path, data: d };
    const m = d.meta || {};
    const title = d.title || path;
    setTitle(title);
    const body = el('div', { id: 'doc', class: 'doc', 'data-testid': 'doc' });
    body.innerHTML = d.html || ''; // trusted: rendered by our own server
    hideDuplicateTitle(body, title);
    view.append(el('header', { class: 'doc-head' },
      el('h1', { tabindex: '-1' }, title),
      el('p', { class: 'muted doc-meta' }, metaLine(m)),
      el('p', { class: 'path small' }, path,
        m.client ? [' · ', el('a', { href: '#/client/' + encodeURIComponent(m.client) }, t('toClient'))] : null)),
    toc(d, path), body);
    focusHeading(view);
    highlight(body, params);
  }

  function hideDuplicateTitle(body, title) {
    const first = body.firstElementChild;
    if (first && first.tagName === 'H1' && first.textContent.trim() === title.trim()) {
      first.classList.add('dup-title');
      first.setAttribute('aria-hidden', 'true');
    }
  }

  function highlight(root, params) {
    const start = parseInt(params.get('start'), 10);
    const end = parseInt(params.get('end'), 10) || start;
    let first = null;
    if (Number.isFinite(start)) {
      for (const node of root.querySelectorAll('[data-start-line]')) {
        const a = parseInt(node.dataset.startLine, 10);
        const b = parseInt(node.dataset.endLine, 10) || a;
        if (a <= end && b >= start) { node.classList.add('hl'); first = first || node; }
      }
    }
    const anchor = params.get('anchor');
    const target = first || (anchor ? root.querySelector(`[id="${CSS.escape(anchor)}"]`) : null);
    if (target) requestAnimationFrame(() => target.scrollIntoView({ block: 'start' }));
  }

  function gapRow(g, cols) {
    const client = g.client ? el('a', { href: '#/client/' + encodeURIComponent(g.client) }, g.client) : '—';
    const reason = REASONS[g.reason] ? t(REASONS[g.reason]) : (g.reason || '—');
    const cells = [g.question, client, reason, g.count ?? '', fmtTime(g.last_seen), g.owner || '—'];
    return el('tr', {}, cells.map((c, i) => el('td', { 'data-label': t(cols[i]), class: 'c-' + i }, c)));
  }

  async function viewGaps(view, seq) {
    setTitle(t('gapsTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('gapsTitle')), el('p', { class: 'muted' }, t('gapsIntro')));
    focusHeading(view);
    const d = await load(view, seq, '/api/gaps');
    if (!d) return;
    const gaps = (d.gaps || []).slice().sort((a, b) => (b.last_seen || 0) - (a.last_seen || 0));
    if (!gaps.length) { view.append(el('p', {}, t('noGaps'))); return; }
    const cols = ['colQuestion', 'colClient', 'colReason', 'colCount', 'colLastSeen', 'colOwner'];
    view.append(el('table', { id: 'gaps', class: 'gaps', 'data-testid': 'gaps' },
      el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, t(c))))),
      el('tbody', {}, gaps.map((g) => gapRow(g, cols)))));
  }

  /* ---------- routing and chrome ---------- */

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const i = raw.indexOf('?');
    return { path: i < 0 ? raw : raw.slice(0, i), params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
  }

  function setActiveNav(path) {
    const key = path === '/' || path === '' ? 'ask'
      : path.startsWith('/client') ? 'clients' : path === '/gaps' ? 'gaps' : '';
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function route() {
    const { path, params } = parseHash();
    const seq = ++state.seq;
    const view = $('#view');
    clearError();
    setActiveNav(path);
    if (!path.startsWith('/doc/')) state.doc = null; // the cache only serves anchor hops within one document
    view.replaceChildren();
    if (path === '/' || path === '') return viewAsk(view, params);
    if (path === '/clients') return viewClients(view, seq);
    if (path === '/gaps') return viewGaps(view, seq);
    if (path.startsWith('/client/')) return viewClient(view, safeDecode(path.slice(8)), seq);
    if (path.startsWith('/doc/')) return viewDoc(view, decPath(path.slice(5)), params, seq);
    setTitle(t('notFound'));
    view.append(el('h1', { tabindex: '-1' }, t('notFound')), el('p', {}, el('a', { href: '#/' }, t('navAsk'))));
    focusHeading(view);
  }

  function applyStatic() {
    document.documentElement.lang = state.lang;
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    for (const n of document.querySelectorAll('[data-i18n-label]')) n.setAttribute('aria-label', t(n.dataset.i18nLabel));
    const b = $('#lang');
    b.textContent = t('langBtn');
    b.title = t('langTitle');
    b.setAttribute('lang', state.lang === 'ru' ? 'en' : 'ru');
  }

  function toggleLang() {
    const q = $('#question');
    const draft = q ? q.value : '';
    state.lang = state.lang === 'ru' ? 'en' : 'ru';
    try { localStorage.setItem(LANG_KEY, state.lang); } catch (e) { /* private mode */ }
    applyStatic();
    route();
    const q2 = $('#question');
    if (q2 && draft && !q2.value) q2.value = draft;
    $('#lang').focus();
  }

  function init() {
    applyStatic();
    $('#lang').addEventListener('click', toggleLang);
    $('#skip').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
    window.addEventListener('hashchange', route);
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
