import { toJson } from '../control/json.js';
import { pair, safe } from './format.js';
import { field, refusal, statePairs, type WriteOptions, writerFor } from './remote.js';

export type SetOptions = WriteOptions;

/**
 * `dsn set KEY=VALUE…`: sets the keys in the running node's own state, all
 * in one request (all or none). Prints what changed, or with --json
 * `{"nodeId": …, "changed": […], "state": {…}}` (the whole new state).
 */
export async function set(pairs: [string, string][], opts: SetOptions): Promise<void> {
  const { client, hint } = await writerFor(opts);
  const body = toJson(new Map(pairs));
  const path = opts.wait ? '/v1/state?wait=1' : '/v1/state';
  const answer = await client.call('PUT', path, body).catch((err) => {
    throw refusal(err, client, hint);
  });
  const nodeId = String(field(answer.body, 'nodeId') ?? '');
  if (opts.json) {
    const changed = field(answer.body, 'changed');
    process.stdout.write(
      `${toJson(
        new Map<string, unknown>([
          ['nodeId', nodeId],
          ['changed', changed ?? []],
          ['state', new Map(statePairs(answer.body))],
        ]),
      )}\n`,
    );
    return;
  }
  const changed = new Set((field(answer.body, 'changed') as string[] | undefined) ?? []);
  const shown = pairs.filter(([k]) => changed.has(k));
  process.stdout.write(
    shown.length === 0
      ? `node ${safe(nodeId)} already has ${pairs.length === 1 ? 'this value' : 'these values'}\n`
      : `set ${shown.map(([k, v]) => pair(k, v)).join(' ')} on node ${safe(nodeId)}\n`,
  );
}
