// sluice web viewer, the Discover page: a query bar and time picker over
// GET /api/search (newest first, cursor pages), GET /api/histogram (drawn on a
// canvas; drag to zoom), GET /api/fields (top values; click to filter) and
// GET /api/tail (EventSource, live tail).
//
// Security: see common.js. Every string from the API goes through
// appendSafeText (textContent); nothing from data is ever parsed as HTML,
// used as a URL or as a style.
//
// State lives in the URL (?q=&range= or &from=&to=, &tail=1, &ev=, &size=) so
// a link reproduces the view; a search pushes a history entry, so back and
// forward step through searches.
//
// Speed: the first rows are appended synchronously (the mark
// 'sluice-first-results' times navigation start to them), the rest in chunks
// of DocumentFragments between tasks; rows carry no listeners (one delegated
// listener on the table) and build only six elements each, so 10,000 rows
// stay responsive. Each full render is recorded as the measure 'sluice-render'.
'use strict';

(function () {
  const { el: h, appendSafeText, button, queryString, fetchJson, formatTime, formatMs } = window.sluice;

  // Rows per search page; ?size= overrides up to the server's max_results.
  // 200 fill several screens; "load more" follows the cursor. A page of 500
  // (380 KB of JSON) cost the first paint 50-100 ms on a large store.
  const kPageSize = 200;
  const kMaxPageSize = 10000;
  // The first chunk fills a screen or two quickly; later chunks are larger
  // because they render while the user is already reading.
  const kFirstChunkRows = 100;
  const kChunkRows = 1000;
  // A message longer than this is cut in the list (the row expands to it).
  const kListChars = 1000;
  // The detail view shows this much of a field before a "show all" button.
  const kDetailChars = 100000;
  // Live tail keeps at most this many rows (oldest dropped) and buffers at
  // most this many events while paused.
  const kTailCap = 2000;
  const kPausedCap = 5000;

  const kRanges = {
    '15m': { label: 'Last 15 minutes', ms: 15 * 60e3 },
    '1h': { label: 'Last 1 hour', ms: 3600e3 },
    '4h': { label: 'Last 4 hours', ms: 4 * 3600e3 },
    '24h': { label: 'Last 24 hours', ms: 24 * 3600e3 },
    '7d': { label: 'Last 7 days', ms: 7 * 86400e3 },
    '30d': { label: 'Last 30 days', ms: 30 * 86400e3 },
    all: { label: 'All time', ms: null },
  };
  const kDefaultRange = '24h';

  // Known severities get a colour; anything else is shown plainly.
  const kSeverityClass = {
    emerg: 'sev-crit', emergency: 'sev-crit', alert: 'sev-crit', crit: 'sev-crit',
    critical: 'sev-crit', fatal: 'sev-crit', panic: 'sev-crit',
    err: 'sev-err', error: 'sev-err',
    warning: 'sev-warn', warn: 'sev-warn',
    notice: 'sev-notice', info: 'sev-info', informational: 'sev-info',
    debug: 'sev-debug', trace: 'sev-debug',
  };

  const $ = (id) => document.getElementById(id);
  const dom = {
    form: $('search-form'),
    q: $('q'),
    rangeButton: $('range-button'),
    rangePanel: $('range-panel'),
    quick: $('quick-ranges'),
    from: $('from'),
    to: $('to'),
    rangeApply: $('range-apply'),
    rangeError: $('range-error'),
    tail: $('tail'),
    tailPause: $('tail-pause'),
    tailStatus: $('tail-status'),
    queryError: $('query-error'),
    queryErrorMessage: $('query-error-message'),
    queryErrorCaret: $('query-error-caret'),
    fields: $('fields'),
    fieldsStatus: $('fields-status'),
    fieldsSampled: $('fields-sampled'),
    hits: $('hits'),
    status: $('status'),
    canvas: $('histogram-canvas'),
    tip: $('histogram-tip'),
    histStatus: $('histogram-status'),
    results: $('results'),
    loadMore: $('load-more'),
    moreStatus: $('more-status'),
  };

  // ---- state and the URL ------------------------------------------------------

  // range: a key of kRanges, or 'custom' with from/to as typed (RFC3339,
  // now-1h, Unix ms; empty = unbounded).
  const state = { q: '', range: kDefaultRange, from: '', to: '', tail: false, ev: '', size: kPageSize };

  function stateFromUrl() {
    const p = new URLSearchParams(window.location.search);
    const s = {
      q: p.get('q') || '',
      range: p.get('range') || '',
      from: p.get('from') || '',
      to: p.get('to') || '',
      tail: p.get('tail') === '1',
      ev: p.get('ev') || '',
      size: Math.min(Math.max(parseInt(p.get('size'), 10) || kPageSize, 1), kMaxPageSize),
    };
    if (!Object.prototype.hasOwnProperty.call(kRanges, s.range)) {
      s.range = (s.from || s.to) ? 'custom' : kDefaultRange;
    }
    if (s.range !== 'custom') { s.from = ''; s.to = ''; }
    return s;
  }

  function urlOf(s) {
    const pairs = [];
    if (s.q) pairs.push(['q', s.q]);
    if (s.range === 'custom') {
      if (s.from) pairs.push(['from', s.from]);
      if (s.to) pairs.push(['to', s.to]);
      if (!s.from && !s.to) pairs.push(['range', 'all']);
    } else {
      pairs.push(['range', s.range]);
    }
    if (s.tail) pairs.push(['tail', '1']);
    if (s.size !== kPageSize) pairs.push(['size', String(s.size)]);
    if (s.ev) pairs.push(['ev', s.ev]);
    return window.location.pathname + '?' + queryString(pairs);
  }

  function writeUrl(push) {
    const url = urlOf(state);
    if (url === window.location.pathname + window.location.search) return;
    window.history[push ? 'pushState' : 'replaceState'](null, '', url);
  }

  function syncControls() {
    dom.q.value = state.q;
    dom.rangeButton.textContent = rangeLabel();
    dom.from.value = state.range === 'custom' ? state.from : '';
    dom.to.value = state.range === 'custom' ? state.to : '';
    for (const b of dom.quick.querySelectorAll('button')) {
      b.classList.toggle('active', b.dataset.range === state.range);
    }
    dom.tail.setAttribute('aria-pressed', state.tail ? 'true' : 'false');
    dom.tail.classList.toggle('on', state.tail);
    dom.tailPause.hidden = !state.tail;
  }

  function rangeLabel() {
    if (state.range !== 'custom') return kRanges[state.range].label;
    return `${state.from || '\u2212\u221e'} \u2192 ${state.to || 'now'}`;
  }

  // ---- time bounds --------------------------------------------------------------

  const kRelative = /^now(?:-(\d+)([smhdw]))?$/;
  const kUnitMs = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };
  const kZoned = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
  const kUnzoned = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$/;
  const msOf = (rfc3339) => Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));

  // What the user typed -> {text (canonical, for the URL), api (sent), ms}
  // or {error}. Relative times resolve here, so search, histogram and fields
  // see one and the same window; absolute times pass through exactly (ns).
  function parseBound(text, nowMs, label) {
    const s = text.trim();
    if (s === '') return { text: '', api: '', ms: null };
    const rel = kRelative.exec(s);
    if (rel) {
      const ms = rel[1] ? nowMs - Number(rel[1]) * kUnitMs[rel[2]] : nowMs;
      return { text: s, api: String(ms), ms };
    }
    if (/^\d{1,15}$/.test(s)) return { text: s, api: s, ms: Number(s) };
    if (kZoned.test(s)) {
      const v = s.replace(' ', 'T').replace(/z$/, 'Z');
      if (!isNaN(msOf(v))) return { text: v, api: v, ms: msOf(v) };
    }
    const m = kUnzoned.exec(s);
    if (m) {
      const v = `${m[1]}-${m[2]}-${m[3]}T${m[4] || '00'}:${m[5] || '00'}:${m[6] || '00'}${m[7] || ''}Z`;
      if (!isNaN(msOf(v))) return { text: v, api: v, ms: msOf(v) };
    }
    return { error: `${label}: expected RFC3339 (2026-11-22T10:00:00Z), a UTC date and time, now-1h or Unix ms; got "${s}"` };
  }

  // The window of the current state: {from, to} as sent ('' = unbounded),
  // {fromMs, toMs} (null = unbounded), or {error}.
  function currentWindow(nowMs) {
    if (state.range !== 'custom') {
      const span = kRanges[state.range].ms;
      if (span === null) return { from: '', to: '', fromMs: null, toMs: null };
      return { from: String(nowMs - span), to: String(nowMs), fromMs: nowMs - span, toMs: nowMs };
    }
    const f = parseBound(state.from, nowMs, 'from');
    const t = parseBound(state.to, nowMs, 'to');
    if (f.error || t.error) return { error: f.error || t.error };
    if (f.ms !== null && t.ms !== null && f.ms > t.ms) return { error: 'from is after to' };
    return { from: f.api, to: t.api, fromMs: f.ms, toMs: t.ms };
  }

  // ---- query editing (filters from fields) ------------------------------------

  // A value as the query language reads it, literally: bare when it is one
  // plain word (letters, digits, _ . @ -), else quoted with \" and \\
  // escaped, so wildcards (* ?), regexes (/../), comparisons (>, <), ranges
  // ([, {), groups and keywords in a value stay literal.
  const kBareValue = /^[\p{L}\p{N}_.@][\p{L}\p{N}_.@-]*$/u;
  const kKeywords = new Set(['AND', 'OR', 'NOT', 'TO']);
  function quoteValue(value) {
    const v = String(value);
    if (kBareValue.test(v) && !kKeywords.has(v)) return v;
    return '"' + v.replace(/["\\]/g, (c) => '\\' + c) + '"';
  }
  const kFieldName = /^[A-Za-z0-9_.@-]+$/;
  // Text fields match words, not values; these are not query fields at all.
  const kNotFilterable = new Set(['message', 'raw', 'id', 'timestamp', 'received']);
  const canFilter = (name) => kFieldName.test(name) && !kNotFilterable.has(name);

  // Top-level terms of a query: split on whitespace outside quotes.
  function splitTerms(q) {
    const terms = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < q.length; i++) {
      const c = q[i];
      if (quoted && c === '\\' && i + 1 < q.length) { cur += c + q[++i]; continue; }
      if (c === '"') quoted = !quoted;
      if (!quoted && /\s/.test(c)) {
        if (cur) terms.push(cur);
        cur = '';
      } else {
        cur += c;
      }
    }
    if (cur) terms.push(cur);
    return terms;
  }

  // Adds field:value (or -field:value), replacing its opposite, and searches.
  function addFilter(field, value, negate) {
    const term = field + ':' + quoteValue(value);
    const want = negate ? '-' + term : term;
    const other = negate ? term : '-' + term;
    const terms = splitTerms(state.q).filter((t) => t !== want && t !== other);
    terms.push(want);
    state.q = terms.join(' ');
    dom.q.value = state.q;
    search({ push: true });
  }

  // ---- status lines ---------------------------------------------------------------

  function setStatus(kind, parts) {
    dom.status.className = 'status' + (kind ? ' ' + kind : '');
    dom.status.textContent = '';
    parts.forEach((part, i) => {
      if (i > 0) dom.status.appendChild(h('span', 'sep', ' \u00b7 '));
      if (typeof part === 'string') dom.status.appendChild(h('span', '', part));
      else dom.status.appendChild(h('span', part.cls, part.text));
    });
  }

  function setHits(count, exact) {
    dom.hits.textContent = '';
    if (count === null) { dom.hits.dataset.count = ''; return; }
    dom.hits.dataset.count = exact ? String(count) : '';
    dom.hits.appendChild(h('strong', '', count.toLocaleString('en-US') + (exact ? '' : '+')));
    dom.hits.appendChild(document.createTextNode(count === 1 && exact ? ' hit' : ' hits'));
  }

  // Shows the API's syntax error under the bar with a caret under its
  // position. `position` is a 0-based byte offset as in the message ("position 7: ..."),
  // counted in bytes of the UTF-8 query, like the server counts; the caret
  // goes under the character that byte starts.
  function showQueryError(q, result) {
    const body = result.body && typeof result.body === 'object' ? result.body : {};
    const message = typeof body.error === 'string' ? body.error : result.error;
    const expected = typeof body.expected === 'string' ? body.expected : '';
    // From the answer's member, or its message (a server without it).
    let position = null;
    const inText = /position (\d+)/.exec(message);
    if (Number.isInteger(body.position)) position = body.position;
    else if (inText) position = Number(inText[1]);

    dom.queryErrorMessage.textContent = '';
    dom.queryErrorMessage.appendChild(h('strong', '', 'Query error: '));
    appendSafeText(dom.queryErrorMessage, message);
    if (expected && !message.includes(expected)) {
      appendSafeText(dom.queryErrorMessage, ' \u2014 expected ' + expected);
    }
    dom.queryErrorCaret.textContent = '';
    if (position !== null && position >= 0) {
      const bytes = new TextEncoder().encode(q);
      const column = new TextDecoder().decode(bytes.slice(0, Math.min(position, bytes.length))).length;
      appendSafeText(dom.queryErrorCaret, q);
      dom.queryErrorCaret.appendChild(document.createTextNode('\n' + ' '.repeat(column)));
      dom.queryErrorCaret.appendChild(h('span', 'caret', '^'));
      dom.queryErrorCaret.hidden = false;
    } else {
      dom.queryErrorCaret.hidden = true;
    }
    dom.queryError.hidden = false;
    dom.q.setAttribute('aria-invalid', 'true');
  }

  function hideQueryError() {
    dom.queryError.hidden = true;
    dom.q.removeAttribute('aria-invalid');
  }

  // ---- result rows ------------------------------------------------------------------

  const rowEvent = new WeakMap();  // .event row -> its event object
  let rowById = new Map();         // event id -> .event row, for ?ev=
  let pending = [];                // events waiting for the next chunk
  let pumpScheduled = false;
  let renderStarted = 0;
  let rowCount = 0;
  let selected = null;             // the .event row that j/k move
  let firstResultsMarked = false;
  let wantExpand = '';             // ?ev= to open once its row exists

  function text(value) {
    if (value == null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  function buildRow(ev) {
    const tr = document.createElement('div');
    tr.className = 'event';
    tr.setAttribute('role', 'row');
    tr.tabIndex = -1;
    const ts = text(ev.timestamp);
    const time = h('div', 'time', formatTime(ts));
    time.title = ts;
    tr.appendChild(time);
    tr.appendChild(h('div', 'host', text(ev.host)));
    tr.appendChild(h('div', 'app', text(ev.app)));
    const sev = text(ev.severity);
    const sevCell = document.createElement('div');
    sevCell.className = 'sev';
    if (sev) {
      const cls = kSeverityClass[sev.toLowerCase()];
      sevCell.appendChild(h('span', cls ? 'badge ' + cls : 'badge', sev));
    }
    tr.appendChild(sevCell);
    const msg = text(ev.message);
    const msgCell = document.createElement('div');
    msgCell.className = 'msg';
    if (msg.length > kListChars) {
      appendSafeText(msgCell, msg.slice(0, kListChars));
      msgCell.appendChild(h('span', 'trunc', ` \u2026 +${(msg.length - kListChars).toLocaleString('en-US')} chars (expand)`));
    } else {
      appendSafeText(msgCell, msg);
    }
    tr.appendChild(msgCell);
    rowEvent.set(tr, ev);
    if (typeof ev.id === 'string' && ev.id !== '') {
      tr.dataset.id = ev.id;
      rowById.set(ev.id, tr);
    }
    return tr;
  }

  function clearRows() {
    dom.results.textContent = '';
    pending = [];
    rowById = new Map();
    rowCount = 0;
    selected = null;
  }

  // Queues events for appending at the end of the list.
  function appendRows(events) {
    if (pending.length === 0 && !pumpScheduled) renderStarted = performance.now();
    for (const ev of events) if (ev && typeof ev === 'object') pending.push(ev);
    pump();
  }

  function pump() {
    pumpScheduled = false;
    if (pending.length === 0) return;
    const n = rowCount === 0 ? kFirstChunkRows : kChunkRows;
    const chunk = pending.splice(0, n);
    dom.results.appendChild(buildChunk(chunk));
    rowCount += chunk.length;
    if (!firstResultsMarked && rowCount > 0) {
      firstResultsMarked = true;
      performance.mark('sluice-first-results');
      requestAnimationFrame(() => performance.mark('sluice-first-results-frame'));
    }
    if (wantExpand && rowById.has(wantExpand)) {
      const tr = rowById.get(wantExpand);
      wantExpand = '';
      select(tr, true);
      if (!isOpen(tr)) toggle(tr);
    }
    if (pending.length > 0) {
      pumpScheduled = true;
      setTimeout(pump, 0);
    } else {
      performance.measure('sluice-render', { start: renderStarted, detail: { rows: rowCount } });
      dom.results.dataset.rows = String(rowCount);
    }
  }

  // Rows go into chunks: a chunk off screen is skipped by style, layout and
  // paint (content-visibility: auto), so appending the tenth thousand rows
  // costs what the first did. Its size estimate is replaced by the real one
  // once it was rendered ('auto').
  const kRowPx = 25;
  function buildChunk(events) {
    const chunk = document.createElement('div');
    chunk.className = 'chunk';
    chunk.setAttribute('role', 'rowgroup');
    let n = 0;
    for (const ev of events) {
      if (ev && typeof ev === 'object') { chunk.appendChild(buildRow(ev)); n++; }
    }
    chunk.style.containIntrinsicSize = `auto ${n * kRowPx}px`;  // CSSOM: allowed by the CSP
    return chunk;
  }

  // Live tail: newest first at the top; the list keeps at most kTailCap rows.
  function prependRows(events) {
    const chunk = buildChunk(events);
    const added = chunk.childElementCount;
    dom.results.insertBefore(chunk, dom.results.firstChild);
    rowCount += added;
    if (added) dom.moreStatus.textContent = '';
    let trimmed = false;
    while (rowCount + pending.length > kTailCap && pending.length > 0) { pending.pop(); trimmed = true; }
    while (rowCount > kTailCap) {
      const lastChunk = dom.results.lastElementChild;
      if (!lastChunk) break;
      const last = lastChunk.lastElementChild;
      if (!last) { lastChunk.remove(); continue; }
      last.remove();
      if (last.classList.contains('event')) {
        rowCount--;
        trimmed = true;
        if (last === selected) selected = null;
        const ev = rowEvent.get(last);
        if (ev && typeof ev.id === 'string') rowById.delete(ev.id);
      }
    }
    // A cursor continues after the last row of the first page; once rows
    // were dropped from the bottom it would leave a gap.
    if (trimmed) setNextCursor(null);
    dom.results.dataset.rows = String(rowCount);
    return added;
  }

  // ---- expanded event ------------------------------------------------------------------

  function valueCell(value) {
    const td = document.createElement('td');
    td.className = 'value';
    const s = text(value);
    if (s.length <= kDetailChars) {
      appendSafeText(td, s);
    } else {
      appendSafeText(td, s.slice(0, kDetailChars));
      td.appendChild(button('show-all', `show all ${s.length.toLocaleString('en-US')} characters`, '', () => {
        td.textContent = '';
        appendSafeText(td, s);
      }));
    }
    return td;
  }

  function filterButtons(name, value) {
    const td = document.createElement('td');
    td.className = 'actions';
    if (canFilter(name) && value !== null && typeof value !== 'object') {
      const v = String(value);
      td.appendChild(button('filter-for', '+', `Filter for ${name}:${v}`, () => addFilter(name, v, false)));
      td.appendChild(button('filter-out', '\u2212', `Filter out ${name}:${v}`, () => addFilter(name, v, true)));
    }
    return td;
  }

  function detailRow(ev) {
    const tr = document.createElement('div');
    tr.className = 'event-detail';
    const td = tr;

    const table = document.createElement('table');
    table.className = 'kv';
    const tbody = document.createElement('tbody');
    const add = (name, value) => {
      if (value === undefined || value === null || value === '') return;
      const row = document.createElement('tr');
      row.dataset.field = name;
      row.appendChild(filterButtons(name, value));
      row.appendChild(h('th', 'name', name));
      row.appendChild(valueCell(value));
      tbody.appendChild(row);
    };
    for (const k of ['timestamp', 'received', 'host', 'app', 'severity', 'facility', 'input', 'message', 'id']) {
      add(k, ev[k]);
    }
    const fields = ev.fields && typeof ev.fields === 'object' ? ev.fields : {};
    for (const k of Object.keys(fields).sort()) add(k, fields[k]);
    table.appendChild(tbody);
    td.appendChild(table);

    if (typeof ev.raw === 'string' && ev.raw !== '') {
      td.appendChild(h('div', 'raw-label', 'raw'));
      const pre = h('pre', 'raw');
      const shown = ev.raw.length > kDetailChars ? ev.raw.slice(0, kDetailChars) : ev.raw;
      appendSafeText(pre, shown);
      td.appendChild(pre);
      if (shown !== ev.raw) {
        td.appendChild(button('show-all', `show all ${ev.raw.length.toLocaleString('en-US')} characters`, '', (e) => {
          pre.textContent = '';
          appendSafeText(pre, ev.raw);
          e.currentTarget.remove();
        }));
      }
    }
    return tr;
  }

  const isOpen = (tr) => tr.classList.contains('open');

  function toggle(tr) {
    const ev = rowEvent.get(tr);
    if (!ev) return;
    if (isOpen(tr)) {
      const next = tr.nextElementSibling;
      if (next && next.classList.contains('event-detail')) next.remove();
      tr.classList.remove('open');
      tr.setAttribute('aria-expanded', 'false');
      if (state.ev && state.ev === ev.id) { state.ev = ''; writeUrl(false); }
    } else {
      tr.after(detailRow(ev));
      tr.classList.add('open');
      tr.setAttribute('aria-expanded', 'true');
      if (typeof ev.id === 'string' && ev.id) { state.ev = ev.id; writeUrl(false); }
    }
  }

  function select(tr, scroll) {
    if (selected) selected.classList.remove('selected');
    selected = tr;
    if (!tr) return;
    tr.classList.add('selected');
    tr.focus({ preventScroll: true });
    if (scroll) tr.scrollIntoView({ block: 'nearest' });
  }

  // The next (previous) row, across chunk boundaries, skipping detail rows.
  function neighbour(tr, forward) {
    let n = tr;
    for (;;) {
      const sibling = forward ? n.nextElementSibling : n.previousElementSibling;
      if (sibling) {
        n = sibling;
      } else {
        let chunk = n.parentElement === dom.results ? null : n.parentElement;
        do {
          chunk = chunk && (forward ? chunk.nextElementSibling : chunk.previousElementSibling);
        } while (chunk && !chunk.firstElementChild);
        if (!chunk) return null;
        n = forward ? chunk.firstElementChild : chunk.lastElementChild;
      }
      if (n.classList.contains('event')) return n;
    }
  }

  dom.results.addEventListener('click', (e) => {
    if (e.target.closest('button')) return;
    const tr = e.target.closest('.event');
    if (!tr) return;
    // Selecting text in a row should not collapse or expand it.
    if (String(window.getSelection() || '') !== '') return;
    select(tr, false);
    toggle(tr);
  });

  // ---- search ---------------------------------------------------------------------------

  let controller = null;   // aborts the running requests of a superseded search
  let generation = 0;      // answers of superseded searches are ignored
  let lastParams = null;   // [[k, v]] of the shown results: load more reuses them
  let nextCursor = null;

  function setNextCursor(cursor) {
    nextCursor = typeof cursor === 'string' && cursor !== '' ? cursor : null;
    dom.loadMore.hidden = nextCursor === null;
  }

  async function search({ push }) {
    state.q = dom.q.value.trim();
    const win = currentWindow(Date.now());
    if (win.error) {
      dom.rangeError.textContent = win.error;
      openRangePanel();
      setStatus('error', [win.error]);
      return;
    }
    dom.rangeError.textContent = '';
    wantExpand = state.ev;
    writeUrl(push);
    syncControls();

    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const mine = ++generation;
    const params = [['q', state.q]];
    if (win.from) params.push(['from', win.from]);
    if (win.to) params.push(['to', win.to]);

    const started = performance.now();
    setStatus('busy', ['Searching\u2026']);
    dom.results.setAttribute('aria-busy', 'true');
    const quiet = (p) => p.catch((err) => ({ ok: false, status: 0, body: null, error: String(err && err.message || err), aborted: signal.aborted }));
    const searchP = quiet(fetchJson('api/search?' + queryString(params.concat([['limit', String(state.size)]])), { signal }));

    const result = await searchP;
    if (mine !== generation) return;
    // The histogram and the field sidebar are asked for once the results are
    // in: on a large store a histogram of a common word reads every block, and
    // running it beside the search would delay the rows people look at first.
    const histP = result.status === 400 ? null : quiet(fetchJson('api/histogram?' + queryString(params), { signal }));
    const fieldsP = result.status === 400 ? null : quiet(fetchJson('api/fields?' + queryString(params), { signal }));
    dom.results.removeAttribute('aria-busy');
    if (!result.ok) {
      if (result.status === 400) {
        // A syntax error keeps the previous results on screen.
        showQueryError(state.q, result);
        setStatus('error', ['The query was not run; the results below are from the previous search']);
      } else {
        setStatus('error', ['Search failed: ' + result.error]);
      }
      return;
    }
    hideQueryError();
    const body = result.body;
    const events = Array.isArray(body.events) ? body.events : [];
    lastParams = params;
    clearRows();
    setNextCursor(body.next_cursor);
    appendRows(events);
    const more = nextCursor !== null || (body.next_cursor === undefined && events.length >= state.size);
    setHits(events.length, !more);
    const parts = [`${events.length.toLocaleString('en-US')} shown`];
    if (body.partial) parts.push({ cls: 'partial', text: 'partial' });
    const took = Number.isFinite(body.took_ms) ? body.took_ms : Math.round(performance.now() - started);
    parts.push(`${took} ms`);
    setStatus('', parts);
    dom.moreStatus.textContent = '';
    if (events.length === 0) dom.moreStatus.textContent = 'No events match this query in this time range.';

    histP.then((r) => { if (mine === generation) renderHistogram(r, win); });
    fieldsP.then((r) => { if (mine === generation) renderFields(r); });
    if (state.tail) startTail();
  }

  async function loadMore() {
    if (!nextCursor || !lastParams) return;
    const mine = generation;
    dom.loadMore.disabled = true;
    dom.moreStatus.textContent = 'Loading\u2026';
    let result;
    try {
      result = await fetchJson('api/search?' + queryString(lastParams.concat(
        [['limit', String(state.size)], ['cursor', nextCursor]])));
    } catch (err) {
      result = { ok: false, error: String(err && err.message || err) };
    }
    dom.loadMore.disabled = false;
    if (mine !== generation) return;
    if (!result.ok) {
      dom.moreStatus.textContent = 'Load more failed: ' + result.error;
      return;
    }
    const events = Array.isArray(result.body.events) ? result.body.events : [];
    setNextCursor(result.body.next_cursor);
    appendRows(events);
    const shown = rowCount + pending.length;
    dom.moreStatus.textContent = `${shown.toLocaleString('en-US')} shown`;
    if (dom.hits.dataset.count === '') setHits(shown, nextCursor === null);
  }

  // ---- histogram ---------------------------------------------------------------------------

  const hist = {
    buckets: [], intervalMs: 0, fromMs: 0, toMs: 0, max: 0,
    hover: -1, dragFrom: null, dragTo: null, error: '',
  };
  const kPad = { left: 48, right: 8, top: 8, bottom: 20 };
  const kTickSteps = [1e3, 5e3, 10e3, 30e3, 60e3, 5 * 60e3, 10 * 60e3, 30 * 60e3, 3600e3, 3 * 3600e3,
    6 * 3600e3, 12 * 3600e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3];

  function renderHistogram(result, win) {
    dom.histStatus.textContent = '';
    if (!result.ok) {
      if (result.aborted) return;
      hist.buckets = [];
      hist.error = result.error;
      dom.histStatus.textContent = 'Histogram unavailable: ' + result.error;
      dom.canvas.dataset.bars = '0';
      drawHistogram();
      return;
    }
    const body = result.body;
    const buckets = (Array.isArray(body.buckets) ? body.buckets : [])
      .filter((b) => b && Number.isFinite(b.t) && Number.isFinite(b.count));
    const interval = Number.isFinite(body.interval_ms) && body.interval_ms > 0 ? body.interval_ms
      : (buckets.length > 1 ? buckets[1].t - buckets[0].t : 60e3);
    hist.error = '';
    hist.buckets = buckets;
    hist.intervalMs = interval;
    const from = typeof body.from === 'string' ? msOf(body.from) : NaN;
    const to = typeof body.to === 'string' ? msOf(body.to) : NaN;
    hist.fromMs = Number.isFinite(from) ? from : (win.fromMs ?? (buckets.length ? buckets[0].t : 0));
    hist.toMs = Number.isFinite(to) ? to : (win.toMs ?? (buckets.length ? buckets[buckets.length - 1].t + interval : 0));
    if (buckets.length) {
      hist.fromMs = Math.min(hist.fromMs, buckets[0].t);
      hist.toMs = Math.max(hist.toMs, buckets[buckets.length - 1].t + interval);
    }
    hist.max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
    dom.canvas.dataset.bars = String(buckets.filter((b) => b.count > 0).length);
    dom.canvas.dataset.buckets = String(buckets.length);
    if (Number.isFinite(body.total)) {
      setHits(body.total, true);
      dom.canvas.dataset.total = String(body.total);
    }
    if (body.partial) dom.histStatus.textContent = 'partial: the search hit its time limit';
    drawHistogram();
  }

  function plotWidth() { return Math.max(10, dom.canvas.clientWidth - kPad.left - kPad.right); }
  function plotHeight() { return Math.max(10, dom.canvas.clientHeight - kPad.top - kPad.bottom); }
  function xOf(t) { return kPad.left + (t - hist.fromMs) / Math.max(1, hist.toMs - hist.fromMs) * plotWidth(); }
  function tOf(x) { return hist.fromMs + (x - kPad.left) / plotWidth() * (hist.toMs - hist.fromMs); }

  function bucketAt(x) {
    if (!hist.buckets.length) return -1;
    const t = tOf(x);
    const first = hist.buckets[0].t;
    let i = Math.floor((t - first) / hist.intervalMs);
    if (i < 0 || i >= hist.buckets.length) return -1;
    // Buckets are contiguous by contract; search nearby if they are not.
    while (i > 0 && hist.buckets[i].t > t) i--;
    while (i + 1 < hist.buckets.length && hist.buckets[i + 1].t <= t) i++;
    return i;
  }

  function tickLabel(t, step, first) {
    const full = formatMs(t, false);  // "YYYY-MM-DD HH:MM:SS"
    if (step >= 86400e3) return full.slice(5, 10);
    const clock = step < 60e3 ? full.slice(11, 19) : full.slice(11, 16);
    return first || full.slice(11, 19) === '00:00:00' ? full.slice(5, 10) + ' ' + clock : clock;
  }

  let drawQueued = false;
  function drawHistogram() {
    drawQueued = false;
    const canvas = dom.canvas;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const pw = plotWidth();
    const ph = plotHeight();
    const base = kPad.top + ph;

    // Axes and grid.
    ctx.strokeStyle = '#d0d7de';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(kPad.left, base + 0.5);
    ctx.lineTo(kPad.left + pw, base + 0.5);
    ctx.stroke();
    if (!hist.buckets.length || hist.max === 0) {
      ctx.fillStyle = '#656d76';
      ctx.textAlign = 'center';
      ctx.fillText(hist.error ? 'no histogram' : 'no events', kPad.left + pw / 2, kPad.top + ph / 2);
      return;
    }
    const max = Math.max(1, hist.max);
    ctx.fillStyle = '#656d76';
    ctx.textAlign = 'right';
    ctx.strokeStyle = '#eaeef2';
    // Gridlines at the maximum and half of it, when half is a whole count.
    for (const frac of max >= 2 ? [0.5, 1] : [1]) {
      const y = Math.round(base - frac * ph) + 0.5;
      ctx.beginPath();
      ctx.moveTo(kPad.left, y);
      ctx.lineTo(kPad.left + pw, y);
      ctx.stroke();
      ctx.fillText(Math.round(max * frac).toLocaleString('en-US'), kPad.left - 6, y);
    }
    ctx.fillText('0', kPad.left - 6, base);

    // Bars.
    const barW = Math.max(1, pw * hist.intervalMs / Math.max(1, hist.toMs - hist.fromMs) - 1);
    hist.buckets.forEach((b, i) => {
      if (b.count <= 0) return;
      const x = xOf(b.t);
      const barH = Math.max(1, b.count / max * ph);
      ctx.fillStyle = i === hist.hover ? '#1f5fa8' : '#54b399';
      ctx.fillRect(x, base - barH, barW, barH);
    });

    // Time ticks, about one per 110 px.
    const span = hist.toMs - hist.fromMs;
    const step = kTickSteps.find((s) => span / s <= pw / 110) || kTickSteps[kTickSteps.length - 1];
    ctx.fillStyle = '#656d76';
    ctx.textAlign = 'center';
    let first = true;
    for (let t = Math.ceil(hist.fromMs / step) * step; t <= hist.toMs; t += step) {
      const x = xOf(t);
      ctx.fillRect(Math.round(x), base, 1, 4);
      ctx.fillText(tickLabel(t, step, first), x, base + 12);
      first = false;
    }

    // Drag selection.
    if (hist.dragFrom !== null && hist.dragTo !== null) {
      const x0 = Math.min(hist.dragFrom, hist.dragTo);
      const x1 = Math.max(hist.dragFrom, hist.dragTo);
      ctx.fillStyle = 'rgba(9, 105, 218, 0.15)';
      ctx.fillRect(x0, kPad.top, x1 - x0, ph);
      ctx.strokeStyle = 'rgba(9, 105, 218, 0.7)';
      ctx.strokeRect(x0 + 0.5, kPad.top + 0.5, x1 - x0, ph);
    }
  }

  function queueDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(drawHistogram);
  }

  function canvasX(e) { return e.clientX - dom.canvas.getBoundingClientRect().left; }

  function showTip(e, i) {
    if (i < 0) { dom.tip.hidden = true; return; }
    const b = hist.buckets[i];
    dom.tip.textContent = '';
    dom.tip.appendChild(h('strong', '', b.count.toLocaleString('en-US') + (b.count === 1 ? ' event' : ' events')));
    dom.tip.appendChild(h('div', '', formatMs(b.t, false) + ' \u2013 ' + formatMs(b.t + hist.intervalMs, false).slice(11)));
    dom.tip.hidden = false;
    const x = canvasX(e);
    const left = Math.min(Math.max(0, x + 12), dom.canvas.clientWidth - dom.tip.offsetWidth);
    dom.tip.style.left = left + 'px';  // CSSOM, allowed by the CSP (no style attribute markup)
  }

  // Zooms to [fromMs, toMs): a custom absolute range, pushed to history.
  function zoomTo(fromMs, toMs) {
    state.range = 'custom';
    state.from = new Date(fromMs).toISOString();
    state.to = new Date(toMs).toISOString();
    state.ev = '';
    search({ push: true });
  }

  dom.canvas.addEventListener('pointerdown', (e) => {
    if (!hist.buckets.length || e.button !== 0) return;
    dom.canvas.setPointerCapture(e.pointerId);
    hist.dragFrom = canvasX(e);
    hist.dragTo = null;
  });
  dom.canvas.addEventListener('pointermove', (e) => {
    const x = canvasX(e);
    if (hist.dragFrom !== null) {
      hist.dragTo = Math.min(Math.max(x, kPad.left), kPad.left + plotWidth());
      dom.tip.hidden = true;
      queueDraw();
      return;
    }
    const i = bucketAt(x);
    if (i !== hist.hover) { hist.hover = i; queueDraw(); }
    showTip(e, i);
  });
  dom.canvas.addEventListener('pointerup', (e) => {
    if (hist.dragFrom === null) return;
    const x0 = hist.dragFrom;
    const x1 = hist.dragTo === null ? x0 : hist.dragTo;
    hist.dragFrom = null;
    hist.dragTo = null;
    queueDraw();
    if (Math.abs(x1 - x0) >= 4) {
      // Snap outwards to whole buckets: the zoomed view then shows them whole.
      const a = tOf(Math.min(x0, x1));
      const b = tOf(Math.max(x0, x1));
      const origin = hist.buckets[0].t;
      const from = origin + Math.floor((a - origin) / hist.intervalMs) * hist.intervalMs;
      const to = origin + Math.ceil((b - origin) / hist.intervalMs) * hist.intervalMs;
      zoomTo(Math.max(from, hist.fromMs), Math.min(Math.max(to, from + 1), hist.toMs));
    } else {
      const i = bucketAt(x0);
      if (i >= 0 && hist.buckets[i].count > 0) zoomTo(hist.buckets[i].t, hist.buckets[i].t + hist.intervalMs);
    }
  });
  dom.canvas.addEventListener('pointerleave', () => {
    dom.tip.hidden = true;
    if (hist.hover !== -1) { hist.hover = -1; queueDraw(); }
  });
  window.addEventListener('resize', queueDraw);

  // ---- fields sidebar --------------------------------------------------------------------------

  // Fields whose values show without a click; the user's choices persist.
  const openFields = new Set(['host', 'app', 'severity']);

  function renderFields(result) {
    dom.fields.textContent = '';
    dom.fieldsStatus.textContent = '';
    dom.fieldsSampled.textContent = '';
    if (!result.ok) {
      if (!result.aborted) dom.fieldsStatus.textContent = 'Fields unavailable: ' + result.error;
      return;
    }
    const fields = Array.isArray(result.body.fields) ? result.body.fields : [];
    if (Number.isFinite(result.body.sampled)) {
      dom.fieldsSampled.textContent = `(${result.body.sampled.toLocaleString('en-US')} events sampled)`;
    }
    if (fields.length === 0) dom.fieldsStatus.textContent = 'No fields.';
    const frag = document.createDocumentFragment();
    for (const field of fields) {
      if (!field || typeof field.name !== 'string') continue;
      frag.appendChild(fieldItem(field));
    }
    dom.fields.appendChild(frag);
  }

  function fieldItem(field) {
    const li = document.createElement('li');
    li.className = 'field';
    li.dataset.field = field.name;
    const head = document.createElement('button');
    head.type = 'button';
    head.className = 'field-name';
    head.appendChild(h('span', 'name', field.name));
    if (Number.isFinite(field.count)) head.appendChild(h('span', 'count', field.count.toLocaleString('en-US')));
    const open = openFields.has(field.name);
    head.setAttribute('aria-expanded', open ? 'true' : 'false');
    li.appendChild(head);

    const values = document.createElement('ul');
    values.className = 'values';
    values.hidden = !open;
    const total = Number.isFinite(field.count) && field.count > 0 ? field.count : 0;
    const filterable = canFilter(field.name);
    for (const item of Array.isArray(field.values) ? field.values : []) {
      if (!item || item.value === undefined || item.value === null) continue;
      const value = text(item.value);
      const count = Number.isFinite(item.count) ? item.count : 0;
      const row = document.createElement('li');
      row.className = 'value';
      row.dataset.value = value;
      const bar = h('span', 'vbar');
      bar.style.width = (total ? Math.min(100, count / total * 100) : 0).toFixed(1) + '%';
      row.appendChild(bar);
      const add = button('value-add', '', filterable ? `Filter for ${field.name}:${value}` : '', () => addFilter(field.name, value, false));
      add.appendChild(h('span', 'v', value === '' ? '(empty)' : value));
      add.appendChild(h('span', 'count', count.toLocaleString('en-US')));
      add.disabled = !filterable;
      row.appendChild(add);
      const neg = button('value-neg', '\u2212', `Filter out ${field.name}:${value}`, () => addFilter(field.name, value, true));
      neg.disabled = !filterable;
      row.appendChild(neg);
      values.appendChild(row);
    }
    li.appendChild(values);
    head.addEventListener('click', () => {
      values.hidden = !values.hidden;
      head.setAttribute('aria-expanded', values.hidden ? 'false' : 'true');
      if (values.hidden) openFields.delete(field.name); else openFields.add(field.name);
    });
    return li;
  }

  // ---- live tail -------------------------------------------------------------------------------

  let source = null;
  let tailQuery = null;
  let paused = false;
  let pausedEvents = [];
  let tailReceived = 0;

  function setTailStatus(kind, message) {
    dom.tailStatus.className = 'tail-status' + (kind ? ' ' + kind : '');
    dom.tailStatus.textContent = message;
    dom.tailStatus.dataset.state = kind || '';
  }

  const newestFirst = (a, b) => (text(a.timestamp) < text(b.timestamp) ? 1 : text(a.timestamp) > text(b.timestamp) ? -1 : 0);

  function startTail() {
    if (source && tailQuery === state.q) return;
    stopTail();
    tailQuery = state.q;
    tailReceived = 0;
    const url = 'api/tail?' + queryString([['q', state.q]]);
    const es = new EventSource(url);
    source = es;
    setTailStatus('connecting', 'Live tail: connecting\u2026');
    es.addEventListener('open', () => { if (source === es) setTailStatus('live', paused ? 'Live tail: paused' : 'Live tail: on'); });
    es.addEventListener('events', (e) => {
      if (source !== es) return;
      let body;
      try { body = JSON.parse(e.data); } catch (_) { return; }
      const events = (body && Array.isArray(body.events) ? body.events : [])
        .filter((ev) => ev && typeof ev === 'object').sort(newestFirst);
      if (!events.length) return;
      tailReceived += events.length;
      if (paused) {
        pausedEvents = events.concat(pausedEvents).slice(0, kPausedCap);
        setTailStatus('live', `Live tail: paused \u00b7 ${pausedEvents.length.toLocaleString('en-US')} new`);
        return;
      }
      prependRows(events);
      setTailStatus('live', `Live tail: on \u00b7 ${tailReceived.toLocaleString('en-US')} new`);
    });
    es.addEventListener('error', () => {
      if (source !== es) return;
      if (es.readyState !== EventSource.CLOSED) {
        setTailStatus('connecting', 'Live tail: reconnecting\u2026');
        return;
      }
      // Closed for good (a non-200 answer): ask once more to read its error.
      setTailStatus('error', 'Live tail failed');
      diagnoseTail(url, es);
    });
  }

  async function diagnoseTail(url, es) {
    const ctl = new AbortController();
    try {
      const response = await fetch(url, { signal: ctl.signal, headers: { Accept: 'text/event-stream' } });
      if (response.ok) {
        ctl.abort();
        if (source === es) setTailStatus('error', 'Live tail: the stream closed');
        return;
      }
      const t = await response.text();
      let msg = `HTTP ${response.status}`;
      try { const b = JSON.parse(t); if (b && typeof b.error === 'string') msg = b.error; } catch (_) { /* not JSON */ }
      if (response.status === 404) msg = 'not available on this server (HTTP 404 for api/tail)';
      if (source === es) setTailStatus('error', 'Live tail failed: ' + msg);
    } catch (err) {
      if (source === es) setTailStatus('error', 'Live tail failed: ' + String(err && err.message || err));
    }
  }

  function stopTail() {
    if (source) source.close();
    source = null;
    tailQuery = null;
    paused = false;
    pausedEvents = [];
    dom.tailPause.textContent = 'Pause';
    setTailStatus('', '');
  }

  function setTail(on) {
    state.tail = on;
    syncControls();
    writeUrl(true);
    if (on) startTail(); else stopTail();
  }

  dom.tail.addEventListener('click', () => setTail(!state.tail));
  dom.tailPause.addEventListener('click', () => {
    if (!source) return;
    paused = !paused;
    dom.tailPause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused && pausedEvents.length) {
      prependRows(pausedEvents);
      pausedEvents = [];
    }
    setTailStatus('live', paused ? 'Live tail: paused' : `Live tail: on \u00b7 ${tailReceived.toLocaleString('en-US')} new`);
  });

  // ---- time picker -----------------------------------------------------------------------------

  function openRangePanel() {
    dom.rangePanel.hidden = false;
    dom.rangeButton.setAttribute('aria-expanded', 'true');
  }
  function closeRangePanel() {
    dom.rangePanel.hidden = true;
    dom.rangeButton.setAttribute('aria-expanded', 'false');
  }

  function applyAbsolute() {
    const now = Date.now();
    const f = parseBound(dom.from.value, now, 'from');
    const t = parseBound(dom.to.value, now, 'to');
    if (f.error || t.error) {
      dom.rangeError.textContent = f.error || t.error;
      return;
    }
    state.range = (f.text || t.text) ? 'custom' : 'all';
    state.from = f.text;
    state.to = t.text;
    state.ev = '';
    closeRangePanel();
    search({ push: true });
  }

  dom.rangeButton.addEventListener('click', () => {
    if (dom.rangePanel.hidden) openRangePanel(); else closeRangePanel();
  });
  dom.quick.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-range]');
    if (!b) return;
    state.range = b.dataset.range;
    state.from = '';
    state.to = '';
    state.ev = '';
    closeRangePanel();
    search({ push: true });
  });
  dom.rangeApply.addEventListener('click', applyAbsolute);
  document.addEventListener('pointerdown', (e) => {
    if (!dom.rangePanel.hidden && !e.target.closest('.timepicker')) closeRangePanel();
  });

  // ---- wiring ------------------------------------------------------------------------------------

  dom.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (document.activeElement === dom.from || document.activeElement === dom.to) {
      applyAbsolute();
      return;
    }
    state.ev = '';
    search({ push: true });
  });
  dom.loadMore.addEventListener('click', loadMore);

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const typing = t instanceof Element && (t.matches('input, textarea, select') || t.isContentEditable);
    if (e.key === 'Escape') {
      if (!dom.rangePanel.hidden) { closeRangePanel(); return; }
      if (typing) { t.blur(); return; }
      if (selected && isOpen(selected)) toggle(selected);
      return;
    }
    if (typing) return;
    const onControl = t instanceof Element && t.matches('button, a, summary');
    if (e.key === '/') {
      e.preventDefault();
      dom.q.focus();
      dom.q.select();
    } else if (e.key === 'j' || e.key === 'k') {
      e.preventDefault();
      const first = dom.results.querySelector('.event');
      const next = selected && selected.isConnected ? neighbour(selected, e.key === 'j') : first;
      if (next) select(next, true);
    } else if (e.key === 'o' || (e.key === 'Enter' && !onControl)) {
      if (selected && selected.isConnected) {
        e.preventDefault();
        toggle(selected);
      }
    }
  });

  window.addEventListener('popstate', () => {
    Object.assign(state, stateFromUrl());
    syncControls();
    search({ push: false });
    if (!state.tail) stopTail();
  });

  Object.assign(state, stateFromUrl());
  syncControls();
  drawHistogram();
  search({ push: false });
})();
