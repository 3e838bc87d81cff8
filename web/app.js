// sluice web viewer: one search box over GET /api/search.
//
// Security contract: every byte of an event is attacker-controlled (anyone who
// can send a syslog line writes it). This file therefore builds the DOM with
// createElement + textContent only and never assigns HTML from data. Control
// and bidi-override characters are shown as visible markers so a log line
// cannot hide or reorder text on screen (e.g. U+202E, ANSI escapes).
//
// State lives in the URL (?q=&range=&from=&to=) so a link reproduces a search.
'use strict';

(function () {
  // The API returns at most this many events, newest first.
  const kLimit = 500;

  // Preset ranges map to the API's relative times; "all" sends no bounds.
  const kRanges = {
    '15m': { from: 'now-15m', to: 'now' },
    '1h': { from: 'now-1h', to: 'now' },
    '24h': { from: 'now-24h', to: 'now' },
    '7d': { from: 'now-7d', to: 'now' },
    all: { from: '', to: '' },
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

  const el = {
    form: document.getElementById('search-form'),
    q: document.getElementById('q'),
    range: document.getElementById('range'),
    from: document.getElementById('from'),
    to: document.getElementById('to'),
    status: document.getElementById('status'),
    results: document.getElementById('results'),
  };

  let inFlight = null;  // AbortController of the running search
  let generation = 0;   // answers of superseded searches are ignored

  // ---- text rendering -----------------------------------------------------

  // C0/C1 controls (except tab and newline) and Unicode bidi/invisible format
  // characters. Newline and tab are kept: the detail view wraps with pre-wrap.
  const kUnsafeChars = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

  // "\x1b" for C0/C1 controls (as log readers know ANSI escapes), "U+202E" for
  // Unicode format characters.
  function codepointLabel(ch) {
    const cp = ch.codePointAt(0);
    const hex = cp.toString(16).toUpperCase();
    if (cp < 0xa0) return '\\x' + hex.padStart(2, '0');
    return 'U+' + hex.padStart(4, '0');
  }

  // Appends `text` to `parent` as text nodes, with unsafe characters replaced
  // by a visible <span class="ctl"> marker (its title names the code point).
  function appendSafeText(parent, text) {
    text = text == null ? '' : String(text);
    if (!kUnsafeChars.test(text)) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    let run = '';
    for (const ch of text) {
      if (kUnsafeChars.test(ch)) {
        if (run) { parent.appendChild(document.createTextNode(run)); run = ''; }
        const mark = document.createElement('span');
        mark.className = 'ctl';
        mark.textContent = codepointLabel(ch);
        mark.title = 'U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
        parent.appendChild(mark);
      } else {
        run += ch;
      }
    }
    if (run) parent.appendChild(document.createTextNode(run));
  }

  function cell(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    appendSafeText(node, text);
    return node;
  }

  // "2026-11-22T10:00:00.123456789Z" -> "2026-11-22 10:00:00.123" (UTC).
  // Falls back to the string as sent if it does not parse.
  function formatTime(ts) {
    if (typeof ts !== 'string' || ts === '') return '';
    const trimmed = ts.replace(/(\.\d{3})\d+/, '$1');  // Date keeps milliseconds only
    const d = new Date(trimmed);
    if (isNaN(d.getTime())) return ts;
    return d.toISOString().replace('T', ' ').replace(/Z$/, '');
  }

  // ---- time range ---------------------------------------------------------

  const kRelative = /^now(-\d+[smhdw])?$/;
  const kZoned = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
  const kUnzoned = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$/;

  // Turns what the user typed into what the API accepts: relative times and
  // RFC3339 pass through; a date or date-time without a zone is read as UTC,
  // like the Time column. Returns {value} or {error}.
  function normalizeTime(text, label) {
    const s = text.trim();
    if (s === '' || kRelative.test(s)) return { value: s };
    if (kZoned.test(s)) {
      const v = s.replace(' ', 'T').replace(/z$/, 'Z');
      if (!isNaN(new Date(v.replace(/(\.\d{3})\d+/, '$1')).getTime())) return { value: v };
    }
    const m = kUnzoned.exec(s);
    if (m) {
      const v = `${m[1]}-${m[2]}-${m[3]}T${m[4] || '00'}:${m[5] || '00'}:${m[6] || '00'}${m[7] || ''}Z`;
      if (!isNaN(new Date(v.replace(/(\.\d{3})\d+/, '$1')).getTime())) return { value: v };
    }
    return { error: `${label}: expected RFC3339 like 2026-11-22T10:00:00Z or now-1h, got "${s}"` };
  }

  function showRangePlaceholders() {
    const preset = kRanges[el.range.value];
    el.from.placeholder = preset ? (preset.from || 'unbounded') : '2026-11-22T10:00:00Z';
    el.to.placeholder = preset ? (preset.to || 'unbounded') : 'now';
  }

  // ---- URL state ----------------------------------------------------------

  // Builds "a=1&b=2" with %20 for spaces: URLSearchParams.toString() writes '+',
  // which only form decoders read as a space.
  function queryString(pairs) {
    return pairs.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');
  }

  function readUrl() {
    const p = new URLSearchParams(window.location.search);
    el.q.value = p.get('q') || '';
    const from = p.get('from') || '';
    const to = p.get('to') || '';
    let range = p.get('range');
    if (!range) range = (from || to) ? 'custom' : kDefaultRange;
    if (range !== 'custom' && !kRanges[range]) range = kDefaultRange;
    el.range.value = range;
    el.from.value = range === 'custom' ? from : '';
    el.to.value = range === 'custom' ? to : '';
    showRangePlaceholders();
  }

  function writeUrl(q, range, from, to) {
    const pairs = [];
    if (q) pairs.push(['q', q]);
    pairs.push(['range', range]);
    if (range === 'custom') {
      if (from) pairs.push(['from', from]);
      if (to) pairs.push(['to', to]);
    }
    const url = window.location.pathname + '?' + queryString(pairs);
    window.history.replaceState(null, '', url);
  }

  // ---- status line ----------------------------------------------------------

  function setStatus(kind, parts) {
    el.status.className = 'status' + (kind ? ' ' + kind : '');
    el.status.textContent = '';
    parts.forEach((part, i) => {
      if (i > 0) el.status.appendChild(cell('span', 'sep', ' \u00b7 '));
      if (typeof part === 'string') el.status.appendChild(cell('span', '', part));
      else el.status.appendChild(cell('span', part.cls, part.text));
    });
  }

  // ---- results --------------------------------------------------------------

  function detailRow(ev) {
    const tr = document.createElement('tr');
    tr.className = 'event-detail';
    const td = document.createElement('td');
    td.colSpan = 5;

    const dl = document.createElement('dl');
    dl.className = 'fields';
    const add = (key, value) => {
      if (value === undefined || value === null || value === '') return;
      dl.appendChild(cell('dt', '', key));
      dl.appendChild(cell('dd', '', typeof value === 'string' ? value : JSON.stringify(value)));
    };
    add('timestamp', ev.timestamp);
    add('received', ev.received);
    add('host', ev.host);
    add('app', ev.app);
    add('severity', ev.severity);
    add('facility', ev.facility);
    add('input', ev.input);
    add('message', ev.message);
    const fields = ev.fields && typeof ev.fields === 'object' ? ev.fields : {};
    Object.keys(fields).sort().forEach((k) => add(k, fields[k]));
    td.appendChild(dl);

    if (typeof ev.raw === 'string' && ev.raw !== '') {
      td.appendChild(cell('div', 'raw-label', 'raw'));
      td.appendChild(cell('pre', 'raw', ev.raw));
    }
    tr.appendChild(td);
    return tr;
  }

  function toggle(tr, ev) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('event-detail')) {
      next.remove();
      tr.classList.remove('open');
      tr.setAttribute('aria-expanded', 'false');
    } else {
      tr.after(detailRow(ev));
      tr.classList.add('open');
      tr.setAttribute('aria-expanded', 'true');
    }
  }

  function eventRow(ev) {
    const tr = document.createElement('tr');
    tr.className = 'event';
    tr.tabIndex = 0;
    tr.setAttribute('aria-expanded', 'false');

    const time = cell('td', 'time', formatTime(ev.timestamp));
    if (typeof ev.timestamp === 'string') time.title = ev.timestamp;
    tr.appendChild(time);
    tr.appendChild(cell('td', 'host', ev.host));
    tr.appendChild(cell('td', 'app', ev.app));
    const sev = typeof ev.severity === 'string' ? ev.severity : '';
    const sevClass = Object.prototype.hasOwnProperty.call(kSeverityClass, sev.toLowerCase())
      ? kSeverityClass[sev.toLowerCase()] : '';
    const sevCell = cell('td', 'sev', '');
    if (sev) sevCell.appendChild(cell('span', 'badge ' + sevClass, sev));
    tr.appendChild(sevCell);
    tr.appendChild(cell('td', 'msg', ev.message));

    tr.addEventListener('click', () => {
      // Selecting text in a row should not collapse or expand it.
      if (String(window.getSelection() || '') !== '') return;
      toggle(tr, ev);
    });
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        toggle(tr, ev);
      }
    });
    return tr;
  }

  function render(events) {
    const frag = document.createDocumentFragment();
    for (const ev of events) {
      if (ev && typeof ev === 'object') frag.appendChild(eventRow(ev));
    }
    el.results.textContent = '';
    el.results.appendChild(frag);
  }

  // ---- search ---------------------------------------------------------------

  async function search() {
    const q = el.q.value.trim();
    const range = el.range.value;
    let from = '';
    let to = '';
    if (range === 'custom') {
      const f = normalizeTime(el.from.value, 'from');
      const t = normalizeTime(el.to.value, 'to');
      const bad = f.error || t.error;
      if (bad) {
        if (inFlight) inFlight.abort();
        generation++;
        setStatus('error', [bad]);
        el.results.textContent = '';
        return;
      }
      from = f.value;
      to = t.value;
      el.from.value = from;
      el.to.value = to;
    } else {
      ({ from, to } = kRanges[range] || kRanges[kDefaultRange]);
    }
    writeUrl(q, range, from, to);

    const params = [['q', q]];
    if (from) params.push(['from', from]);
    if (to) params.push(['to', to]);
    params.push(['limit', String(kLimit)]);

    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    const mine = ++generation;
    const started = performance.now();
    setStatus('busy', ['Searching\u2026']);
    el.results.setAttribute('aria-busy', 'true');

    let response;
    let body = null;
    try {
      response = await fetch('api/search?' + queryString(params), {
        signal: controller.signal,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const text = await response.text();
      try { body = JSON.parse(text); } catch (_) { body = null; }
    } catch (err) {
      if (mine !== generation) return;
      finish();
      setStatus('error', ['Request failed: ' + (err && err.message ? err.message : String(err))]);
      return;
    }
    if (mine !== generation) return;
    finish();

    if (!response.ok || !body || typeof body !== 'object') {
      const msg = body && typeof body.error === 'string'
        ? body.error : `HTTP ${response.status} ${response.statusText}`.trim();
      setStatus('error', [msg]);
      el.results.textContent = '';
      return;
    }

    const events = Array.isArray(body.events) ? body.events : [];
    render(events);
    const n = Number.isFinite(body.count) ? body.count : events.length;
    const parts = [`${n} event${n === 1 ? '' : 's'}`];
    if (body.partial) parts.push({ cls: 'partial', text: 'partial' });
    if (events.length >= kLimit) parts.push(`showing the newest ${kLimit}`);
    const took = Number.isFinite(body.took_ms) ? body.took_ms : Math.round(performance.now() - started);
    parts.push(`${took} ms`);
    setStatus('', parts);

    function finish() {
      if (inFlight === controller) inFlight = null;
      el.results.removeAttribute('aria-busy');
    }
  }

  // ---- wiring -----------------------------------------------------------------

  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  el.range.addEventListener('change', () => {
    if (el.range.value !== 'custom') {
      el.from.value = '';
      el.to.value = '';
    }
    showRangePlaceholders();
    search();
  });
  // Typing a bound means a custom range.
  for (const input of [el.from, el.to]) {
    input.addEventListener('input', () => {
      if (el.range.value !== 'custom') {
        el.range.value = 'custom';
        showRangePlaceholders();
      }
    });
  }

  readUrl();
  search();
})();
