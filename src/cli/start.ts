import { DSNodeServer } from '../server.js';
import { buildNodeConfig, type NodeFlags } from './config-file.js';
import { UsageError } from './errors.js';
import { endpoint, safe } from './format.js';
import { createLogWriter, JsonLog, logNodeEvents } from './log.js';
import { stopSignal } from './signals.js';

export interface StartOptions extends NodeFlags {
  config?: string;
  set?: [string, string][];
  json?: boolean;
  /** What to call each setting in messages when not its flag: the environment variable it came from. */
  names?: Partial<Record<Exclude<keyof StartOptions, 'names'>, string>>;
}

/**
 * `dsn start`: runs one node in the foreground until SIGINT or SIGTERM.
 * stdout gets one line once the node is up (scripts read the port from it);
 * the event log goes to stderr.
 */
export async function start(opts: StartOptions): Promise<void> {
  const names = opts.names ?? {};
  const config = buildNodeConfig(opts.config, opts, names);
  const log = createLogWriter(opts.json ? 'json' : 'text', process.stderr);
  // Listen for signals first: one that arrives while joining still stops the node cleanly.
  const stopped = stopSignal();
  if (config.aesKey === null) {
    log.write('alert', null, {
      message: 'no network key (--key or DSN_KEY): traffic is not encrypted',
    });
  }
  // Alerts come through the callback: the bootstrap alert fires before start() resolves.
  const server = await DSNodeServer.start(config, {
    onAlert: (message) => log.write('alert', null, { message }),
  });
  const unlog = logNodeEvents(server, log);
  try {
    // updateData sets the state at once and resolves when every peer has it.
    const delivered = (opts.set ?? []).map(([k, v]) => server.updateData(k, v));
    Promise.all(delivered).catch((err: Error) =>
      log.write('alert', null, { message: `--set did not reach every peer: ${err.message}` }),
    );
  } catch (err) {
    // A refused value (the state would exceed a limit) is the command line's fault.
    unlog();
    await server.stop();
    throw new UsageError(`${names.set ?? '--set'}: ${(err as Error).message}`, { cause: err });
  }
  printUp(server, opts.json === true);

  await stopped;
  unlog();
  await server.stop();
  process.exitCode = 0;
}

/** The line scripts wait for; with --json a pino line whose fields say where the node listens. */
function printUp(server: DSNodeServer, json: boolean): void {
  const url = server.dashboard?.url ?? null;
  const where = endpoint(server.config.host, server.port);
  const dash = url ? `, dashboard at ${url}` : '';
  const text = `node ${safe(server.nodeId())} is up on ${where}${dash}`;
  if (json) {
    new JsonLog(process.stdout).line('info', text, {
      event: 'up',
      node: server.nodeId(),
      host: server.config.host,
      port: server.port,
      dashboard: url,
    });
    return;
  }
  process.stdout.write(`${text}\n`);
}
