import { toJson } from '../control/json.js';
import { safe, styleFor, width } from './format.js';
import { clientFor, field, type RemoteOptions, refusal, segment, statePairs } from './remote.js';

export type GetOptions = RemoteOptions;

/**
 * `dsn get NODE [KEY]`: a node's whole state as a KEY VALUE table (with
 * --json `{"nodeId": …, "state": {…}}`, keys in the state's order), or one
 * key's value as it is (with --json `{"nodeId", "key", "value"}`). An
 * unknown node or key is the node's refusal: exit 1.
 */
export async function get(node: string, key: string | undefined, opts: GetOptions): Promise<void> {
  const client = clientFor(opts);
  const path =
    key === undefined
      ? `/v1/nodes/${segment(node)}/state`
      : `/v1/nodes/${segment(node)}/state/${segment(key)}`;
  const answer = await client.call('GET', path).catch((err) => {
    throw refusal(err, client);
  });
  const out = process.stdout;
  if (key !== undefined) {
    const value = String(field(answer.body, 'value') ?? '');
    if (opts.json) out.write(`${toJson({ nodeId: node, key, value })}\n`);
    // On a terminal a value from the network cannot drive it; piped, it is passed on as it is.
    else out.write(`${out.isTTY ? safe(value) : value}\n`);
    return;
  }
  const pairs = statePairs(answer.body);
  if (opts.json) {
    out.write(
      `${toJson(
        new Map<string, unknown>([
          ['nodeId', node],
          ['state', new Map(pairs)],
        ]),
      )}\n`,
    );
    return;
  }
  out.write(`${renderState(pairs).join('\n')}\n`);
}

/** KEY VALUE, one line per key in the state's order; "(empty)" for an empty state. */
export function renderState(pairs: [string, string][], s = styleFor(process.stdout)): string[] {
  if (pairs.length === 0) return [s.dim('(empty)')];
  const keys = pairs.map(([k]) => safe(k));
  const w = Math.max(width('KEY'), ...keys.map(width));
  const pad = (t: string) => t + ' '.repeat(w - width(t));
  return [
    s.dim(`${pad('KEY')}  VALUE`),
    ...pairs.map(([, v], i) => `${pad(keys[i] as string)}  ${safe(v)}`),
  ];
}
