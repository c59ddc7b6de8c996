/**
 * The dashboard page's script, plain ES2017 run by the browser (kept as a
 * string so that the page needs no build or copy step). It renders the
 * snapshot from GET /api/events and patches the DOM on each `change` push:
 * values that changed are highlighted, numeric values get a sparkline of
 * their last minutes (kept in the page, drawn as inline SVG), liveness
 * follows the node's events (suspected, recovered, left, failed) as they
 * are pushed. The only timer is local: once a second it ticks the ages,
 * slides the sparklines and drops departed nodes whose time is up; it asks
 * the server nothing. Every text from the network goes through textContent
 * or setAttribute, never innerHTML.
 * No backticks or dollar-brace in here: this is a template literal.
 */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var grid = document.getElementById('nodes');
  var activity = document.getElementById('activity');
  var conn = document.getElementById('conn');
  var filter = document.getElementById('filter');
  var SVG = 'http://www.w3.org/2000/svg';
  var cards = new Map();
  var offset = 0;
  var selfId = null;
  var rendered = false;
  var MAX_ACTIVITY = 60;
  /** Sparklines: the last five minutes, at most 300 readings per key. */
  var SPARK_MS = 5 * 60 * 1000;
  var SPARK_POINTS = 300;
  var SPARK_W = 84;
  var SPARK_H = 22;
  var NUMBER = /^\\s*[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?\\s*$/;
  var PILL_TITLE = {
    left: 'said goodbye: stopped cleanly',
    failed: 'declared failed: stopped answering probes'
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  function now() { return Date.now() + offset; }

  function ago(ms) {
    var s = Math.max(0, ms) / 1000;
    if (s < 1) return 'just now';
    if (s < 60) return Math.floor(s) + 's ago';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + Math.floor(s % 60) + 's ago';
    var h = Math.floor(m / 60);
    if (h < 24) return h + 'h ' + (m % 60) + 'm ago';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h ago';
  }

  function span(ms) {
    var s = Math.round(ms / 1000);
    return s < 60 ? s + ' s' : Math.round(s / 60) + ' min';
  }

  function fmt(x) {
    return String(Math.round(x * 1000) / 1000);
  }

  function hostPort(v) {
    if (!v.address) return v.port ? 'port ' + v.port : 'address unknown';
    return (v.address.indexOf(':') >= 0 ? '[' + v.address + ']' : v.address) + ':' + v.port;
  }

  function order(a, b) {
    if (a.view.self !== b.view.self) return a.view.self ? -1 : 1;
    return a.view.nodeId.localeCompare(b.view.nodeId, undefined, { numeric: true });
  }

  function flash(row) {
    row.classList.remove('flash');
    void row.offsetWidth; // restart the animation
    row.classList.add('flash');
  }

  function createCard(v) {
    var c = { el: el('article', 'card enter'), rows: new Map(), view: v, gone: null };
    c.el.dataset.node = v.nodeId;
    var head = el('div', 'card-head');
    head.appendChild(el('span', 'id', v.nodeId)).title = v.nodeId;
    if (v.self) head.appendChild(el('span', 'badge', 'this node'));
    c.pill = head.appendChild(el('span', 'pill'));
    var meta = el('div', 'meta');
    c.addr = meta.appendChild(el('span', 'addr'));
    c.age = meta.appendChild(el('span', 'age'));
    var kv = el('div', 'kv');
    c.table = kv.appendChild(el('table'));
    c.body = c.table.appendChild(el('tbody'));
    c.empty = kv.appendChild(el('div', 'empty', 'no keys yet'));
    c.el.appendChild(head);
    c.el.appendChild(meta);
    c.el.appendChild(kv);
    if (v.self) c.el.classList.add('self');
    return c;
  }

  function setPill(c, kind, title) {
    if (c.pill.textContent !== kind) {
      c.pill.className = 'pill ' + kind;
      c.pill.textContent = kind;
    }
    if (title != null) c.pill.title = title;
  }

  /** Records a value of a key: numbers go into its history, anything else clears it. */
  function record(row, value, t) {
    if (!NUMBER.test(value)) {
      row.hist = [];
      return;
    }
    var x = Number(value);
    if (!isFinite(x)) {
      row.hist = [];
      return;
    }
    row.hist.push([t, x]);
    if (row.hist.length > SPARK_POINTS) row.hist.splice(0, row.hist.length - SPARK_POINTS);
  }

  /** Redraws a key's sparkline over the SPARK_MS before t1 (hidden below two readings). */
  function drawSpark(row, t1) {
    var h = row.hist;
    // Readings older than the window go, but for the one that still holds at its start.
    var drop = 0;
    while (drop + 1 < h.length && h[drop + 1][0] <= t1 - SPARK_MS) drop++;
    if (drop > 0) h.splice(0, drop);
    if (h.length < 2) {
      if (row.spark) row.spark.setAttribute('hidden', '');
      return;
    }
    if (!row.spark) {
      row.spark = svg('svg', {
        class: 'spark',
        width: SPARK_W,
        height: SPARK_H,
        viewBox: '0 0 ' + SPARK_W + ' ' + SPARK_H,
        role: 'img'
      });
      row.area = row.spark.appendChild(svg('polygon', { class: 'area' }));
      row.line = row.spark.appendChild(svg('polyline', { class: 'line' }));
      row.dot = row.spark.appendChild(svg('circle', { class: 'dot', r: 2 }));
      row.box.appendChild(row.spark);
    }
    row.spark.removeAttribute('hidden');
    var t0 = Math.max(h[0][0], t1 - SPARK_MS);
    var lo = Infinity;
    var hi = -Infinity;
    for (var i = 0; i < h.length; i++) {
      lo = Math.min(lo, h[i][1]);
      hi = Math.max(hi, h[i][1]);
    }
    var pad = 3;
    var w = SPARK_W - 2 * pad;
    var hh = SPARK_H - 2 * pad;
    var dt = Math.max(1, t1 - t0);
    function X(t) { return (pad + (Math.max(t, t0) - t0) / dt * w).toFixed(1); }
    function Y(x) { return (hi === lo ? SPARK_H / 2 : pad + (hi - x) / (hi - lo) * hh).toFixed(1); }
    var pts = [];
    for (var j = 0; j < h.length; j++) pts.push(X(h[j][0]) + ',' + Y(h[j][1]));
    var last = h[h.length - 1][1];
    // The last value holds until now.
    var end = X(t1) + ',' + Y(last);
    pts.push(end);
    row.line.setAttribute('points', pts.join(' '));
    row.area.setAttribute('points', X(t0) + ',' + SPARK_H + ' ' + pts.join(' ') + ' ' + X(t1) + ',' + SPARK_H);
    row.dot.setAttribute('cx', X(t1));
    row.dot.setAttribute('cy', Y(last));
    var label = 'trend over ' + span(t1 - t0) + ': ' + h.length + ' readings, min ' + fmt(lo) + ', max ' + fmt(hi);
    row.spark.setAttribute('aria-label', label);
    row.cell.title = row.value + '\\n' + label;
  }

  function updateCard(c, v, highlight) {
    c.view = v;
    c.addr.textContent = hostPort(v);
    var t = now();
    var keep = new Set();
    var before = null;
    for (var i = v.state.length - 1; i >= 0; i--) {
      var key = v.state[i][0];
      var value = v.state[i][1];
      keep.add(key);
      var row = c.rows.get(key);
      if (!row) {
        row = { tr: el('tr'), value: null, hist: [], spark: null };
        row.tr.dataset.key = key;
        row.tr.appendChild(el('td', 'k', key)).title = key;
        row.cell = row.tr.appendChild(el('td', 'v'));
        row.box = row.cell.appendChild(el('div', 'cell'));
        row.text = row.box.appendChild(el('div', 'clamp'));
        c.rows.set(key, row);
      }
      if (row.value !== value) {
        row.value = value;
        row.text.textContent = value;
        row.cell.title = value;
        record(row, value, t);
        drawSpark(row, t);
        if (highlight) flash(row.tr);
      }
      if (row.tr.nextSibling !== before || row.tr.parentNode !== c.body) c.body.insertBefore(row.tr, before);
      before = row.tr;
    }
    c.rows.forEach(function (row, key) {
      if (!keep.has(key)) {
        row.tr.remove();
        c.rows.delete(key);
      }
    });
    c.empty.hidden = v.state.length > 0;
    c.table.hidden = v.state.length === 0;
  }

  /** A member: alive, or suspected after a failed probe. */
  function setLive(c) {
    if (c.gone) {
      c.gone = null;
      c.el.classList.remove('departed', 'left', 'failed');
    }
    var suspect = c.view.liveness ? c.view.liveness === 'suspect' : !c.view.alive;
    setPill(c, suspect ? 'suspected' : 'alive');
    c.el.classList.toggle('suspect', suspect);
    tickCard(c);
  }

  /** A node gone: left (said goodbye) or failed (declared so), listed until d.until. */
  function setGone(c, d) {
    c.gone = d;
    c.el.classList.remove('suspect', d.reason === 'left' ? 'failed' : 'left');
    c.el.classList.add('departed', d.reason);
    setPill(c, d.reason, PILL_TITLE[d.reason]);
    tickCard(c);
  }

  function drop(c) {
    c.el.remove();
    cards.delete(c.view.nodeId);
  }

  function tickCard(c) {
    var v = c.view;
    var t = now();
    if (c.gone) {
      if (t >= c.gone.until) return drop(c);
      c.age.textContent = c.gone.reason + ' ' + ago(t - c.gone.at);
    } else {
      c.age.textContent = v.lastUpdate > 0 ? 'updated ' + ago(t - v.lastUpdate * 1000) : 'no state yet';
      c.pill.title = v.self ? 'this node' : 'last heard ' + ago(t - v.lastHeardMs);
    }
    // A departed node's lines end when it went.
    var end = c.gone ? Math.min(t, c.gone.at) : t;
    c.rows.forEach(function (row) {
      if (row.hist.length > 1) drawSpark(row, end);
    });
  }

  function cardFor(v, highlight) {
    var c = cards.get(v.nodeId);
    var fresh = !c;
    if (fresh) {
      c = createCard(v);
      cards.set(v.nodeId, c);
    }
    updateCard(c, v, highlight && !fresh);
    return c;
  }

  function render(p, highlight) {
    offset = p.now - Date.now();
    if (selfId !== p.self) {
      selfId = p.self;
      document.getElementById('self').textContent = p.self;
      document.title = p.self + ' \\u00b7 DSN dashboard';
    }
    var placeholder = document.getElementById('placeholder');
    if (placeholder) placeholder.remove();
    var seen = new Set();
    var shown = [];
    var alive = 0;
    for (var i = 0; i < p.nodes.length; i++) {
      var v = p.nodes[i];
      var c = cardFor(v, highlight);
      seen.add(v.nodeId);
      shown.push(c);
      setLive(c);
      if (!c.el.classList.contains('suspect')) alive++;
    }
    var departed = p.departed || [];
    for (var j = 0; j < departed.length; j++) {
      var d = departed[j];
      if (seen.has(d.view.nodeId) || p.now >= d.until) continue;
      seen.add(d.view.nodeId);
      // The page's own last view is fresher than the server's record, which may be older.
      var g = cards.get(d.view.nodeId) || cardFor(d.view, false);
      shown.push(g);
      setGone(g, d);
    }
    cards.forEach(function (c) {
      if (!seen.has(c.view.nodeId)) drop(c);
    });
    shown.sort(order);
    for (var k = 0; k < shown.length; k++) {
      if (grid.children[k] !== shown[k].el) grid.insertBefore(shown[k].el, grid.children[k] || null);
    }
    var n = p.nodes.length;
    document.getElementById('count').textContent = String(n);
    document.getElementById('alive').textContent = String(alive);
    document.getElementById('suspected').textContent = String(n - alive);
    document.getElementById('suspected-stat').classList.toggle('warn', n > alive);
    document.getElementById('gone').textContent = String(shown.length - n);
    document.getElementById('gone-stat').hidden = shown.length === n;
    applyFilter();
  }

  var WORDS = { peer: 'joined', leave: 'left', disconnect: 'failed', suspect: 'suspected', alive: 'recovered' };

  function note(what, who) {
    var none = activity.querySelector('.none');
    if (none) none.remove();
    var li = el('li');
    var t = new Date();
    li.appendChild(el('time', null, t.toTimeString().slice(0, 8)));
    var text = el('span');
    if (what === 'connected' || what === 'reconnecting') {
      text.appendChild(el('span', 'what ' + what, what));
      if (who != null) text.appendChild(document.createTextNode(' \\u00b7 ' + who));
    } else {
      text.appendChild(el('span', 'who', who));
      text.appendChild(document.createTextNode(' '));
      text.appendChild(el('span', 'what ' + what, what));
    }
    li.appendChild(text);
    activity.insertBefore(li, activity.firstChild);
    while (activity.children.length > MAX_ACTIVITY) activity.lastChild.remove();
  }

  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    cards.forEach(function (c) {
      if (!q) {
        c.el.hidden = false;
        return;
      }
      var v = c.view;
      var text = [v.nodeId, hostPort(v)];
      if (c.gone) text.push(c.gone.reason);
      for (var i = 0; i < v.state.length; i++) text.push(v.state[i][0] + '=' + v.state[i][1]);
      c.el.hidden = text.join('\\n').toLowerCase().indexOf(q) < 0;
    });
  }

  function setConn(live) {
    conn.className = 'conn ' + (live ? 'live' : 'down');
    conn.lastChild.textContent = live ? 'Live' : 'Reconnecting\\u2026';
  }

  function connect() {
    var es = new EventSource('/api/events');
    var wasDown = false;
    es.addEventListener('snapshot', function (e) {
      setConn(true);
      var p = JSON.parse(e.data);
      if (!rendered || wasDown) note('connected', p.nodes.length + (p.nodes.length === 1 ? ' node' : ' nodes'));
      wasDown = false;
      render(p, rendered);
      rendered = true;
    });
    es.addEventListener('change', function (e) {
      var p = JSON.parse(e.data);
      render(p, true);
      for (var i = 0; i < p.events.length; i++) {
        var w = WORDS[p.events[i].kind];
        if (w) note(w, p.events[i].node);
      }
    });
    es.onerror = function () {
      if (!wasDown) note('reconnecting', null);
      wasDown = true;
      setConn(false);
      // The browser retries on its own unless the stream was refused outright.
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    };
  }

  filter.addEventListener('input', applyFilter);
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== filter) {
      e.preventDefault();
      filter.focus();
    } else if (e.key === 'Escape' && document.activeElement === filter) {
      filter.value = '';
      applyFilter();
      filter.blur();
    }
  });
  // Local only: ages, sparklines sliding with time, departed nodes whose time is up.
  setInterval(function () {
    cards.forEach(tickCard);
  }, 1000);
  connect();
})();
`;
