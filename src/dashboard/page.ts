import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page allows exactly its own inline script and style (by hash), talks
 * only to its own origin, and cannot be framed: a node's state is data,
 * never markup, but defence in depth costs one header.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(PAGE_SCRIPT)}`,
  `style-src ${hash(PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%232563eb'/%3E%3C/svg%3E";

const LOGO = `<svg width="22" height="22" viewBox="0 0 24 24" fill="none" aria-hidden="true">
  <path d="M6 7l6 10 6-10H6z" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" opacity=".45"/>
  <circle cx="6" cy="7" r="3" fill="currentColor"/><circle cx="18" cy="7" r="3" fill="currentColor"/>
  <circle cx="12" cy="17" r="3" fill="currentColor"/></svg>`;

/** GET / : the whole dashboard, self-contained (nothing is fetched but /api/events). */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DSN dashboard</title>
<link rel="icon" href="${FAVICON}">
<style>${PAGE_STYLE}</style>
</head>
<body>
<header class="top">
  <div class="brand">${LOGO}<h1>Distributed State Network</h1>
    <span class="via">seen from <b id="self">…</b></span></div>
  <div class="stats">
    <div class="stat"><b id="count">0</b>nodes</div>
    <div class="stat"><b id="alive">0</b>alive</div>
    <div class="stat" id="suspected-stat"><b id="suspected">0</b>suspected</div>
    <div class="stat" id="gone-stat" hidden title="left or failed lately"><b id="gone">0</b>gone</div>
  </div>
  <div class="conn" id="conn" role="status"><span class="dot"></span><span>Connecting…</span></div>
</header>
<main>
  <section>
    <div class="toolbar">
      <input id="filter" type="search" placeholder="Filter nodes, keys and values" aria-label="Filter" autocomplete="off">
      <span class="hint">Press / to filter · changes are highlighted as they arrive · numbers show their last 5 minutes</span>
    </div>
    <div id="nodes"><div class="placeholder" id="placeholder">Waiting for the first snapshot…</div></div>
  </section>
  <aside>
    <h2>Activity</h2>
    <ol id="activity"><li class="none">Joins, departures and liveness changes appear here.</li></ol>
  </aside>
</main>
<footer>Read-only view of this node's copy of the network state, pushed live with server-sent events.</footer>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
