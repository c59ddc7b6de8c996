/**
 * npm run soak -- --minutes N [--nodes 20] [--settle-seconds 60]
 *
 * N node processes on 127.0.0.1 under random updates, kill -9 and restarts
 * (test/soak/soak.ts). Prints a summary; exits 1 if any update was lost or
 * the RSS of the never-killed nodes grew by 10 % or more.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SOAK, describeSummary, runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    nodes: { type: 'string', default: String(DEFAULT_SOAK.nodes) },
    'settle-seconds': { type: 'string', default: String(DEFAULT_SOAK.settleMs / 1000) },
    json: { type: 'boolean', default: false },
  },
});

const minutes = Number(values.minutes);
const nodes = Number(values.nodes);
if (!(minutes > 0) || !(nodes >= 3)) {
  console.error('usage: npm run soak -- --minutes N [--nodes 20] [--settle-seconds 60]');
  process.exit(2);
}
const durationMs = minutes * 60_000;
const stamp = () => new Date().toISOString().slice(11, 19);
const summary = await runSoak({
  ...DEFAULT_SOAK,
  nodes,
  durationMs,
  stable: Math.max(2, Math.round(nodes / 4)),
  maxDead: Math.max(1, Math.round(nodes / 5)),
  warmupMs: Math.min(DEFAULT_SOAK.warmupMs, durationMs / 4),
  settleMs: Number(values['settle-seconds']) * 1000,
  log: (line) => console.log(`[${stamp()}] ${line}`),
});
console.log(values.json ? JSON.stringify(summary) : describeSummary(summary));
process.exit(summary.ok ? 0 : 1);
