/**
 * The dashboard page's script, plain ES2017 run by the browser (kept as a
 * string so that the page needs no build or copy step). It renders the
 * snapshot from GET /api/events, patches the DOM on each `change` push
 * (highlighting values that changed), and ticks the ages once a second.
 * Every text from the network goes through textContent, never innerHTML.
 * No backticks or dollar-brace in here: this is a template literal.
 */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var grid = document.getElementById('nodes');
  var activity = document.getElementById('activity');
  var conn = document.getElementById('conn');
  var filter = document.getElementById('filter');
  var cards = new Map();
  var offset = 0;
  var selfId = null;
  var rendered = false;
  var MAX_ACTIVITY = 60;
  var GONE_MS = 6000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
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

  function hostPort(v) {
    if (!v.address) return v.port ? 'port ' + v.port : 'address unknown';
    return (v.address.indexOf(':') >= 0 ? '[' + v.address + ']' : v.address) + ':' + v.port;
  }

  function order(a, b) {
    if (a.self !== b.self) return a.self ? -1 : 1;
    return a.nodeId.localeCompare(b.nodeId, undefined, { numeric: true });
  }

  function flash(row) {
    row.classList.remove('flash');
    void row.offsetWidth; // restart the animation
    row.classList.add('flash');
  }

  function createCard(v) {
    var c = { el: el('article', 'card enter'), rows: new Map(), view: v, gone: false, timer: 0 };
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

  function setPill(c, kind) {
    c.pill.className = 'pill ' + kind;
    c.pill.textContent = kind;
  }

  function updateCard(c, v, highlight) {
    c.view = v;
    c.addr.textContent = hostPort(v);
    if (c.gone) {
      c.gone = false;
      clearTimeout(c.timer);
      c.el.classList.remove('gone');
    }
    setPill(c, v.alive ? 'alive' : 'suspected');
    c.el.classList.toggle('suspect', !v.alive);
    var keep = new Set();
    var before = null;
    for (var i = v.state.length - 1; i >= 0; i--) {
      var key = v.state[i][0];
      var value = v.state[i][1];
      keep.add(key);
      var row = c.rows.get(key);
      if (!row) {
        row = { tr: el('tr'), value: null };
        row.tr.dataset.key = key;
        row.tr.appendChild(el('td', 'k', key)).title = key;
        row.text = row.tr.appendChild(el('td', 'v')).appendChild(el('div', 'clamp'));
        c.rows.set(key, row);
      }
      if (row.value !== value) {
        row.value = value;
        row.text.textContent = value;
        row.text.title = value;
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
    tickCard(c);
  }

  function markGone(c, id) {
    if (c.gone) return;
    c.gone = true;
    c.el.classList.add('gone');
    setPill(c, 'left');
    c.timer = setTimeout(function () {
      c.el.remove();
      cards.delete(id);
    }, GONE_MS);
  }

  function tickCard(c) {
    var v = c.view;
    c.age.textContent = v.lastUpdate > 0 ? 'updated ' + ago(now() - v.lastUpdate * 1000) : 'no state yet';
    c.pill.title = v.self ? 'this node' : 'last heard ' + ago(now() - v.lastHeardMs);
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
    var nodes = p.nodes.slice().sort(order);
    var seen = new Set();
    var alive = 0;
    for (var i = 0; i < nodes.length; i++) {
      var v = nodes[i];
      seen.add(v.nodeId);
      if (v.alive) alive++;
      var c = cards.get(v.nodeId);
      var fresh = !c;
      if (fresh) {
        c = createCard(v);
        cards.set(v.nodeId, c);
      }
      updateCard(c, v, highlight && !fresh);
      if (grid.children[i] !== c.el) grid.insertBefore(c.el, grid.children[i] || null);
    }
    cards.forEach(function (c, id) {
      if (!seen.has(id)) markGone(c, id);
    });
    document.getElementById('count').textContent = String(nodes.length);
    document.getElementById('alive').textContent = String(alive);
    document.getElementById('suspected').textContent = String(nodes.length - alive);
    document.getElementById('suspected-stat').classList.toggle('warn', nodes.length > alive);
    applyFilter();
  }

  var WORDS = { peer: 'joined', disconnect: 'left', suspect: 'suspected', alive: 'recovered' };

  function note(what, who) {
    var none = activity.querySelector('.none');
    if (none) none.remove();
    var li = el('li');
    var t = new Date();
    li.appendChild(el('time', null, t.toTimeString().slice(0, 8)));
    var text = el('span');
    if (what === 'connected' || what === 'reconnecting') {
      text.appendChild(el('span', 'what ' + what, what));
      if (who != null) text.appendChild(document.createTextNode(' \u00b7 ' + who));
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
  setInterval(function () {
    cards.forEach(tickCard);
  }, 1000);
  connect();
})();
`;
