import type { Json } from '../control/json.js';
import { toJson } from '../control/json.js';
import { age, endpoint, safe, styleFor, width } from './format.js';
import { clientFor, field, type RemoteOptions, refusal } from './remote.js';

export type MembersOptions = RemoteOptions;

interface Member {
  nodeId: string;
  address: string;
  port: number;
  liveness: string;
  lastUpdate: number;
  self: boolean;
}

/**
 * `dsn members`: every node the running node knows, itself included: a
 * table, or with --json an array of `{nodeId, address, port, liveness,
 * lastUpdate, self}`.
 */
export async function members(opts: MembersOptions): Promise<void> {
  const client = clientFor(opts);
  const answer = await client.call('GET', '/v1/members').catch((err) => {
    throw refusal(err, client);
  });
  const list = field(answer.body, 'members');
  const rows = (Array.isArray(list) ? list : []).map(toMember);
  if (opts.json) {
    process.stdout.write(`${toJson(rows)}\n`);
    return;
  }
  process.stdout.write(`${renderMembers(rows, Date.now(), styleFor(process.stdout)).join('\n')}\n`);
}

function toMember(v: Json): Member {
  const get = (k: string) => (v instanceof Map ? v.get(k) : undefined);
  return {
    nodeId: String(get('nodeId') ?? ''),
    address: String(get('address') ?? ''),
    port: Number(get('port') ?? 0),
    liveness: String(get('liveness') ?? ''),
    lastUpdate: Number(get('lastUpdate') ?? 0),
    self: get('self') === true,
  };
}

/** NODE, ADDRESS, LIVENESS, UPDATED (age of the last state): this node first, then by ID. */
export function renderMembers(rows: Member[], now: number, s = styleFor(process.stdout)): string[] {
  const sorted = [...rows].sort(
    (a, b) =>
      Number(b.self) - Number(a.self) ||
      a.nodeId.localeCompare(b.nodeId, undefined, { numeric: true }),
  );
  const cells = sorted.map((m) => [
    `${safe(m.nodeId)}${m.self ? ' (self)' : ''}`,
    endpoint(m.address, m.port),
    m.liveness,
    m.lastUpdate > 0 ? age(now - m.lastUpdate * 1000) : '-',
  ]);
  const headers = ['NODE', 'ADDRESS', 'LIVENESS', 'UPDATED'];
  const widths = headers.map((h, i) =>
    Math.max(width(h), ...cells.map((c) => width(c[i] as string))),
  );
  const pad = (t: string, i: number) => t + ' '.repeat((widths[i] as number) - width(t));
  const line = (c: string[]) => c.map((t, i) => (i === c.length - 1 ? t : pad(t, i))).join('  ');
  return [
    s.dim(line(headers)),
    ...cells.map((c, i) => {
      const colour = sorted[i]?.liveness === 'alive' ? s.green : s.yellow;
      return line([c[0] as string, c[1] as string, colour(pad(c[2] as string, 2)), c[3] as string]);
    }),
  ];
}
