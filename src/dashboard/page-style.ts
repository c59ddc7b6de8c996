/**
 * The dashboard page's stylesheet: neutral light and dark themes, cards in a
 * responsive grid that narrows to one column (and a stacked key/value table)
 * on a phone.
 */
export const PAGE_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f7;
  --panel: #ffffff;
  --panel-2: #f8f9fb;
  --border: #e2e5ea;
  --text: #1b2230;
  --muted: #667085;
  --faint: #98a2b3;
  --accent: #2563eb;
  --accent-soft: rgba(37, 99, 235, 0.1);
  --ok: #15803d;
  --ok-soft: rgba(22, 163, 74, 0.12);
  --warn: #b45309;
  --warn-soft: rgba(217, 119, 6, 0.14);
  --gone: #b42318;
  --gone-soft: rgba(217, 45, 32, 0.1);
  --left: #667085;
  --left-soft: rgba(102, 112, 133, 0.12);
  --spark: #2563eb;
  --spark-soft: rgba(37, 99, 235, 0.12);
  --flash: rgba(250, 204, 21, 0.38);
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.04);
  --mono: ui-monospace, 'SF Mono', SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116;
    --panel: #161b22;
    --panel-2: #1b212a;
    --border: #272e38;
    --text: #e6e9ef;
    --muted: #9aa4b2;
    --faint: #6b7483;
    --accent: #6ea8fe;
    --accent-soft: rgba(110, 168, 254, 0.14);
    --ok: #4ade80;
    --ok-soft: rgba(74, 222, 128, 0.12);
    --warn: #fbbf24;
    --warn-soft: rgba(251, 191, 36, 0.14);
    --gone: #f87171;
    --gone-soft: rgba(248, 113, 113, 0.12);
    --left: #9aa4b2;
    --left-soft: rgba(154, 164, 178, 0.14);
    --spark: #6ea8fe;
    --spark-soft: rgba(110, 168, 254, 0.16);
    --flash: rgba(250, 204, 21, 0.24);
    --shadow: 0 1px 2px rgba(0, 0, 0, 0.4);
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body {
  background: var(--bg);
  color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
header.top {
  position: sticky;
  top: 0;
  z-index: 2;
  display: flex;
  align-items: center;
  gap: 16px;
  padding: 12px 28px;
  background: var(--panel);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: 10px; min-width: 0; }
.brand svg { flex: none; color: var(--accent); }
.brand h1 { margin: 0; font-size: 16px; font-weight: 650; letter-spacing: -0.01em; white-space: nowrap; }
.brand .via { color: var(--muted); font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.brand .via b { font-family: var(--mono); font-weight: 600; color: var(--text); }
.stats { display: flex; gap: 8px; margin-left: auto; }
.stat {
  display: flex;
  align-items: baseline;
  gap: 6px;
  padding: 4px 10px;
  border: 1px solid var(--border);
  border-radius: 8px;
  background: var(--panel-2);
  font-size: 12px;
  color: var(--muted);
  white-space: nowrap;
}
.stat b { font-size: 15px; color: var(--text); font-variant-numeric: tabular-nums; }
.stat.warn b { color: var(--warn); }
.conn {
  display: flex;
  align-items: center;
  gap: 7px;
  font-size: 12px;
  font-weight: 600;
  color: var(--muted);
  white-space: nowrap;
}
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
.conn.live { color: var(--ok); }
.conn.live .dot { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-soft); animation: pulse 2s ease-in-out infinite; }
.conn.down { color: var(--warn); }
.conn.down .dot { background: var(--warn); }
@keyframes pulse { 50% { box-shadow: 0 0 0 5px transparent; } }
main { display: grid; grid-template-columns: minmax(0, 1fr) 272px; gap: 20px; padding: 20px 28px 28px; }
@media (max-width: 960px) { main { grid-template-columns: minmax(0, 1fr); } header.top { flex-wrap: wrap; } }
.toolbar { display: flex; align-items: center; gap: 12px; margin-bottom: 14px; }
.toolbar input {
  flex: 0 1 320px;
  padding: 7px 11px;
  border: 1px solid var(--border);
  border-radius: 8px;
  background: var(--panel);
  color: var(--text);
  font: inherit;
  outline: none;
}
.toolbar input:focus { border-color: var(--accent); box-shadow: 0 0 0 3px var(--accent-soft); }
.toolbar .hint { color: var(--faint); font-size: 12px; }
#nodes { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 14px; align-content: start; }
.card {
  display: flex;
  flex-direction: column;
  min-width: 0;
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 10px;
  box-shadow: var(--shadow);
  overflow: hidden;
  transition: opacity 0.4s, border-color 0.4s;
}
.card.self { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent), var(--shadow); }
.card.suspect { border-color: var(--warn); box-shadow: 0 0 0 1px var(--warn-soft), var(--shadow); }
.card.departed { box-shadow: none; }
.card.departed .card-head .id, .card.departed .badge, .card.departed .meta .addr, .card.departed .kv { opacity: 0.55; }
.card.departed.left { border-style: dashed; border-color: var(--left); background: var(--panel-2); }
.card.departed.left .kv { filter: grayscale(1); }
.card.departed.failed { border-color: var(--gone); box-shadow: 0 0 0 1px var(--gone-soft); }
.card.departed.left .age { color: var(--left); }
.card.departed.failed .age { color: var(--gone); font-weight: 600; }
.card.enter { animation: enter 0.5s ease-out; }
@keyframes enter { from { opacity: 0; transform: translateY(4px); } }
.card-head { display: flex; align-items: center; gap: 8px; padding: 11px 14px 0; }
.card-head .id {
  font-family: var(--mono);
  font-size: 14px;
  font-weight: 650;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.badge {
  flex: none;
  padding: 1px 7px;
  border-radius: 999px;
  background: var(--accent-soft);
  color: var(--accent);
  font-size: 11px;
  font-weight: 600;
}
.pill {
  flex: none;
  display: inline-flex;
  align-items: center;
  gap: 5px;
  margin-left: auto;
  padding: 2px 8px;
  border-radius: 999px;
  font-size: 11px;
  font-weight: 600;
}
.pill::before { content: ''; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
.pill.alive { color: var(--ok); background: var(--ok-soft); }
.pill.suspected { color: var(--warn); background: var(--warn-soft); }
.pill.left { color: var(--left); background: var(--left-soft); }
.pill.left::before { background: transparent; box-shadow: inset 0 0 0 1.5px currentColor; }
.pill.failed { color: var(--gone); background: var(--gone-soft); }
.meta {
  display: flex;
  gap: 6px;
  padding: 3px 14px 10px;
  color: var(--muted);
  font-size: 12px;
  white-space: nowrap;
}
.meta .addr { font-family: var(--mono); overflow: hidden; text-overflow: ellipsis; }
.meta .age { margin-left: auto; font-variant-numeric: tabular-nums; }
.kv { max-height: 300px; overflow: auto; border-top: 1px solid var(--border); }
.kv table { width: 100%; border-collapse: collapse; table-layout: fixed; }
.kv td { padding: 5px 14px; vertical-align: top; font-family: var(--mono); font-size: 12.5px; }
.kv tr + tr td { border-top: 1px solid var(--border); }
.kv td.k { width: 42%; color: var(--muted); overflow-wrap: anywhere; }
.kv td.v { color: var(--text); overflow-wrap: anywhere; white-space: pre-wrap; }
.kv td.v .cell { display: flex; align-items: center; gap: 8px; min-width: 0; }
.kv td.v .clamp { flex: 1 1 auto; min-width: 0; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 4; overflow: hidden; }
.kv .spark { flex: none; display: block; overflow: visible; }
.kv .spark .line { fill: none; stroke: var(--spark); stroke-width: 1.5; stroke-linejoin: round; stroke-linecap: round; }
.kv .spark .area { fill: var(--spark-soft); stroke: none; }
.kv .spark .dot { fill: var(--spark); }
.kv tr.flash td { animation: flash 1.8s ease-out; }
@keyframes flash { from { background: var(--flash); } to { background: transparent; } }
.kv .empty { padding: 10px 14px; color: var(--faint); font-size: 12px; font-style: italic; }
.placeholder {
  grid-column: 1 / -1;
  padding: 48px 0;
  text-align: center;
  color: var(--muted);
}
aside h2 {
  margin: 4px 0 10px;
  font-size: 12px;
  font-weight: 650;
  letter-spacing: 0.06em;
  text-transform: uppercase;
  color: var(--muted);
}
#activity {
  list-style: none;
  margin: 0;
  padding: 4px 0;
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 10px;
  box-shadow: var(--shadow);
  max-height: calc(100vh - 140px);
  overflow: auto;
}
#activity li { display: flex; gap: 10px; padding: 6px 14px; font-size: 12.5px; }
#activity li + li { border-top: 1px solid var(--border); }
#activity time { flex: none; color: var(--faint); font-family: var(--mono); font-size: 11.5px; padding-top: 1px; }
#activity .who { font-family: var(--mono); font-weight: 600; overflow-wrap: anywhere; }
#activity .what.joined, #activity .what.recovered, #activity .what.connected { color: var(--ok); }
#activity .what.failed { color: var(--gone); }
#activity .what.left { color: var(--left); }
#activity .what.suspected, #activity .what.reconnecting { color: var(--warn); }
#activity li.none { color: var(--faint); font-style: italic; }
footer { padding: 0 28px 20px; color: var(--faint); font-size: 12px; }
@media (max-width: 600px) {
  header.top { gap: 8px 12px; padding: 10px 14px; }
  .brand { flex: 1 1 100%; }
  .brand h1 { font-size: 15px; }
  .stats { margin-left: 0; flex-wrap: wrap; gap: 6px; }
  .stat { padding: 3px 8px; }
  main { gap: 16px; padding: 14px 12px 20px; }
  .toolbar input { flex: 1 1 auto; min-width: 0; }
  .toolbar .hint { display: none; }
  #nodes { grid-template-columns: minmax(0, 1fr); gap: 10px; }
  .meta { flex-wrap: wrap; white-space: normal; }
  .meta .age { margin-left: 0; }
  /* The key/value table reflows: each key above its value. */
  .kv table, .kv tbody, .kv tr, .kv td { display: block; width: auto; }
  .kv td.k { width: auto; padding: 6px 12px 0; font-size: 11.5px; }
  .kv td.v { padding: 1px 12px 6px; }
  .kv tr + tr td { border-top: 0; }
  .kv tr + tr { border-top: 1px solid var(--border); }
  #activity { max-height: 320px; }
  footer { padding: 0 12px 16px; }
}
[hidden] { display: none !important; }
`;
