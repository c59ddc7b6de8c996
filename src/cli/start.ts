import { DSNodeServer } from '../server.js';
import { buildNodeConfig, type NodeFlags } from './config-file.js';
import { UsageError } from './errors.js';
import { endpoint, safe } from './format.js';
import { LogWriter, logNodeEvents } from './log.js';
import { stopSignal } from './signals.js';

export interface StartOptions extends NodeFlags {
  config?: string;
  set?: [string, string][];
  json?: boolean;
}

/**
 * `dsn start`: runs one node in the foreground until SIGINT or SIGTERM.
 * stdout gets one line once the node is up (scripts read the port from it);
 * the event log goes to stderr.
 */
export async function start(opts: StartOptions): Promise<void> {
  const config = buildNodeConfig(opts.config, opts);
  const log = new LogWriter(opts.json ? 'json' : 'text', process.stderr);
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
    throw new UsageError(`--set: ${(err as Error).message}`, { cause: err });
  }
  printUp(server, opts.json === true);

  await stopped;
  unlog();
  await server.stop();
  process.exitCode = 0;
}

function printUp(server: DSNodeServer, json: boolean): void {
  const url = server.dashboard?.url ?? null;
  if (json) {
    const line = {
      event: 'up',
      node: server.nodeId(),
      host: server.config.host,
      port: server.port,
      dashboard: url,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const where = endpoint(server.config.host, server.port);
  const dash = url ? `, dashboard at ${url}` : '';
  process.stdout.write(`node ${safe(server.nodeId())} is up on ${where}${dash}\n`);
}
