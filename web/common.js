// sluice web viewer: what the Discover page (app.js) and the grok debugger
// (grok.js) share — inert text rendering and JSON requests to /api.
//
// Security contract: every byte of an event is attacker-controlled (anyone who
// can send a syslog line writes it). Pages therefore build the DOM with
// createElement + textContent only and never assign HTML from data. Control
// and bidi-override characters are shown as visible markers so a log line
// cannot hide or reorder text on screen (e.g. U+202E, ANSI escapes).
'use strict';

window.sluice = (function () {
  // C0/C1 controls (except tab and newline) and Unicode bidi/invisible format
  // characters. Newline and tab are kept: detail views wrap with pre-wrap.
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
  // The common case (no unsafe character) costs one regex test and one node.
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

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) appendSafeText(node, text);
    return node;
  }

  function button(className, label, title, onClick) {
    const node = document.createElement('button');
    node.type = 'button';
    if (className) node.className = className;
    node.textContent = label;
    if (title) {
      node.title = title;
      node.setAttribute('aria-label', title);
    }
    if (onClick) node.addEventListener('click', onClick);
    return node;
  }

  // Builds "a=1&b=2" with %20 for spaces: URLSearchParams.toString() writes '+',
  // which only form decoders read as a space.
  function queryString(pairs) {
    return pairs.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');
  }

  // Fetches `url` and decodes a JSON body. Resolves to
  // {ok, status, body, error}: `error` is a one-line reason when !ok (the
  // API's {"error": ...}, else the HTTP status), never thrown. Aborts reject.
  async function fetchJson(url, options) {
    const response = await fetch(url, Object.assign({
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    }, options || {}));
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch (_) { body = null; }
    if (response.ok && body && typeof body === 'object') {
      return { ok: true, status: response.status, body, error: '' };
    }
    let error;
    if (body && typeof body.error === 'string') error = body.error;
    else if (response.status === 404) error = `not available on this server (HTTP 404 for ${url.split('?')[0]})`;
    else if (response.ok) error = 'the answer is not JSON';
    else error = `HTTP ${response.status} ${response.statusText}`.trim();
    return { ok: false, status: response.status, body, error };
  }

  // "2026-11-22T10:00:00.123456789Z" -> "2026-11-22 10:00:00.123" (UTC).
  // String surgery for the server's own UTC form (no Date per row); other
  // forms go through Date; unparseable text is returned as sent.
  const kUtcStamp = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?\d*Z$/;
  function formatTime(ts) {
    if (typeof ts !== 'string' || ts === '') return '';
    const m = kUtcStamp.exec(ts);
    if (m) return m[1] + ' ' + m[2] + (m[3] || '.000').padEnd(4, '0');
    const d = new Date(ts.replace(/(\.\d{3})\d+/, '$1'));
    if (isNaN(d.getTime())) return ts;
    return d.toISOString().replace('T', ' ').replace(/Z$/, '');
  }

  // Unix ms -> "2026-11-22 10:00:00" (UTC), for axes and pickers.
  function formatMs(ms, withMillis) {
    const iso = new Date(ms).toISOString();
    return iso.slice(0, 10) + ' ' + iso.slice(11, withMillis ? 23 : 19);
  }

  return { appendSafeText, el, button, queryString, fetchJson, formatTime, formatMs };
})();
