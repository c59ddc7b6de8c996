import { toJson } from '../control/json.js';
import { safe } from './format.js';
import { field, refusal, segment, statePairs, type WriteOptions, writerFor } from './remote.js';

export type DeleteOptions = WriteOptions;

/**
 * `dsn delete KEY`: removes a key from the running node's own state. A key
 * it does not have is the node's refusal (exit 1). With --json prints
 * `{"nodeId": …, "deleted": KEY, "state": {…}}`.
 */
export async function del(key: string, opts: DeleteOptions): Promise<void> {
  const { client, hint } = await writerFor(opts);
  const path = `/v1/state/${segment(key)}${opts.wait ? '?wait=1' : ''}`;
  const answer = await client.call('DELETE', path).catch((err) => {
    throw refusal(err, client, hint);
  });
  const nodeId = String(field(answer.body, 'nodeId') ?? '');
  if (opts.json) {
    process.stdout.write(
      `${toJson(
        new Map<string, unknown>([
          ['nodeId', nodeId],
          ['deleted', key],
          ['state', new Map(statePairs(answer.body))],
        ]),
      )}\n`,
    );
    return;
  }
  process.stdout.write(`deleted ${safe(key)} from node ${safe(nodeId)}\n`);
}
