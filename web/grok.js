// sluice grok debugger: POST /api/grok {"pattern", "lines"} and show, line
// by line, the fields the expression extracts or that it did not match
// (server/grok_debugger.h). Pattern and lines persist in the URL hash so a
// link reproduces a session; nothing is sent anywhere else.
//
// Lines come from the user but may be pasted log lines: rendered with
// textContent only, like the viewer (common.js).
'use strict';

(function () {
  const { el: h, appendSafeText, fetchJson } = window.sluice;
  const $ = (id) => document.getElementById(id);
  const dom = {
    form: $('grok-form'),
    pattern: $('pattern'),
    lines: $('lines'),
    summary: $('grok-summary'),
    error: $('grok-error'),
    results: $('grok-results'),
  };
  let generation = 0;

  function readHash() {
    const p = new URLSearchParams(window.location.hash.slice(1));
    if (p.has('pattern')) dom.pattern.value = p.get('pattern');
    if (p.has('lines')) dom.lines.value = p.get('lines');
  }

  function writeHash() {
    const p = new URLSearchParams();
    p.set('pattern', dom.pattern.value);
    p.set('lines', dom.lines.value);
    window.history.replaceState(null, '', '#' + p.toString());
  }

  function renderFields(fields) {
    const table = document.createElement('table');
    table.className = 'kv';
    const tbody = document.createElement('tbody');
    for (const name of Object.keys(fields)) {
      const tr = document.createElement('tr');
      tr.dataset.field = name;
      tr.appendChild(h('th', 'name', name));
      const value = fields[name];
      const td = h('td', 'value', typeof value === 'string' ? value : JSON.stringify(value));
      if (typeof value !== 'string') td.classList.add('typed');
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    return table;
  }

  async function run() {
    const mine = ++generation;
    writeHash();
    dom.error.textContent = '';
    dom.summary.textContent = 'Running\u2026';
    let result;
    try {
      result = await fetchJson('api/grok', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ pattern: dom.pattern.value, lines: dom.lines.value }),
      });
    } catch (err) {
      result = { ok: false, error: String(err && err.message || err) };
    }
    if (mine !== generation) return;
    dom.summary.textContent = '';
    if (!result.ok) {
      appendSafeText(dom.error, result.error);
      return;
    }
    const lines = dom.lines.value.split('\n').map((l) => l.replace(/\r$/, ''));
    const results = Array.isArray(result.body.results) ? result.body.results : [];
    dom.results.textContent = '';
    let matched = 0;
    const frag = document.createDocumentFragment();
    for (const r of results) {
      if (!r || typeof r !== 'object') continue;
      const li = document.createElement('li');
      li.className = 'grok-line' + (r.matched ? ' match' : ' nomatch');
      const head = h('div', 'head', `line ${r.line} \u00b7 `);
      head.appendChild(h('span', 'verdict', r.matched ? 'matched' : 'no match'));
      li.appendChild(head);
      const n = Number(r.line);
      if (Number.isInteger(n) && n >= 1 && n <= lines.length) li.appendChild(h('pre', 'line', lines[n - 1]));
      if (r.matched) {
        matched++;
        if (r.fields && typeof r.fields === 'object') li.appendChild(renderFields(r.fields));
      }
      frag.appendChild(li);
    }
    dom.results.appendChild(frag);
    dom.summary.textContent = `${matched} of ${results.length} line${results.length === 1 ? '' : 's'} matched`;
  }

  dom.form.addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  for (const area of [dom.pattern, dom.lines]) {
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        run();
      }
    });
  }
  readHash();
  if (dom.pattern.value) run();
})();
