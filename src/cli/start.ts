import { DSNodeConfig } from '../config.js';
import { isLoopbackHost } from '../control/loopback.js';
import type { ControlApi } from '../control/server.js';
import type { MetricsExporter } from '../metrics/exporter.js';
import { DSNodeServer } from '../server.js';
import { buildNodeConfig, type NodeFlags } from './config-file.js';
import { UsageError } from './errors.js';
import { endpoint, safe } from './format.js';
import { createLogWriter, JsonLog, type LogWriter, logNodeEvents } from './log.js';
import { stopSignal } from './signals.js';

export interface StartOptions extends NodeFlags {
  config?: string;
  set?: [string, string][];
  json?: boolean;
  /** Serve the local control API (src/control) on this port of 127.0.0.1. */
  api?: number;
  /** Its loopback interface (default 127.0.0.1); any other is refused. */
  apiHost?: string;
  /** What to call each setting in messages when not its flag: the environment variable it came from. */
  names?: Partial<Record<Exclude<keyof StartOptions, 'names'>, string>>;
}

/** The control API as started: where, and where its token is (null: read-only). */
interface ApiRun {
  api: ControlApi;
  tokenFile: string | null;
  stop(): Promise<void>;
}

/**
 * `dsn start`: runs one node in the foreground until SIGINT or SIGTERM.
 * stdout gets one line once the node is up (scripts read the port from it);
 * the event log goes to stderr. With --api it also serves the control API
 * and its metrics (src/control, src/metrics) on loopback.
 */
export async function start(opts: StartOptions): Promise<void> {
  const names = opts.names ?? {};
  const apiHost = checkApiHost(opts, names);
  let config = buildNodeConfig(opts.config, opts, names);
  const log = createLogWriter(opts.json ? 'json' : 'text', process.stderr);
  // The exporter counts from the first message: it is the node's observer.
  let metrics: MetricsExporter | null = null;
  if (opts.api !== undefined) {
    const { MetricsExporter } = await import('../metrics/exporter.js');
    metrics = new MetricsExporter();
    config = DSNodeConfig.from({
      ...config,
      bootstrapNodes: [...config.bootstrapNodes],
      whitelistNodeIds: config.whitelistNodeIds ? [...config.whitelistNodeIds] : null,
      dashboard: config.dashboard ? { ...config.dashboard } : null,
      observer: metrics,
    });
  }
  // Listen for signals first: one that arrives while joining still stops the node cleanly.
  const stopped = stopSignal();
  if (config.aesKey === null) {
    log.write('alert', null, {
      message: 'no network key (--key or DSN_KEY): traffic is not encrypted',
    });
  }
  // Alerts come through the callback: the bootstrap alert fires before start() resolves.
  const server = await DSNodeServer.start(config, {
    onAlert: (message) => {
      metrics?.alert();
      log.write('alert', null, { message });
    },
  });
  const unlog = logNodeEvents(server, log);
  const detach = metrics?.attach(server);
  let api: ApiRun | null = null;
  try {
    if (opts.api !== undefined && metrics) {
      api = await startApi(server, opts.api, apiHost, metrics, log);
    }
  } catch (err) {
    detach?.();
    unlog();
    await server.stop();
    throw err;
  }
  try {
    // updateData sets the state at once and resolves when every peer has it.
    const delivered = (opts.set ?? []).map(([k, v]) => server.updateData(k, v));
    Promise.all(delivered).catch((err: Error) =>
      log.write('alert', null, { message: `--set did not reach every peer: ${err.message}` }),
    );
  } catch (err) {
    // A refused value (the state would exceed a limit) is the command line's fault.
    detach?.();
    unlog();
    await api?.stop();
    await server.stop();
    throw new UsageError(`${names.set ?? '--set'}: ${(err as Error).message}`, { cause: err });
  }
  printUp(server, api, opts.json === true);

  await stopped;
  await api?.stop();
  detach?.();
  unlog();
  await server.stop();
  process.exitCode = 0;
}

/** --api-host: a loopback address, and only with --api. */
function checkApiHost(opts: StartOptions, names: StartOptions['names'] & {}): string {
  const flag = names.apiHost ?? '--api-host';
  if (opts.apiHost === undefined) return '127.0.0.1';
  if (opts.api === undefined) throw new UsageError(`${flag} needs --api PORT (or DSN_API)`);
  if (!isLoopbackHost(opts.apiHost.trim())) {
    throw new UsageError(
      `${flag}: the control API listens on loopback only (127.0.0.1, ::1 or localhost), not ${opts.apiHost}`,
    );
  }
  return opts.apiHost.trim();
}

/**
 * Writes a new token into the node's credential folder and serves the API.
 * Without a credential folder there is nowhere private to put the token:
 * the API is then read-only, and an alert says so.
 */
async function startApi(
  server: DSNodeServer,
  port: number,
  host: string,
  metrics: MetricsExporter,
  log: LogWriter,
): Promise<ApiRun> {
  const { startControlApi } = await import('../control/server.js');
  const { newToken, removeTokenFile, tokenFile, writeTokenFile } = await import(
    '../control/token.js'
  );
  const dir = server.config.credentialDir;
  const file = dir === null ? null : tokenFile(dir, server.nodeId());
  const token = file === null ? null : newToken();
  if (file !== null && token !== null) await writeTokenFile(file, token);
  const reason = 'the node has no credential folder to keep a token in (credential_dir is None)';
  if (token === null) {
    log.write('alert', null, { message: `the control API is read-only: ${reason}` });
  }
  let api: ControlApi;
  try {
    api = await startControlApi(server, {
      port,
      host,
      token,
      readOnlyReason: reason,
      metrics,
    });
  } catch (err) {
    if (file !== null && token !== null) await removeTokenFile(file, token);
    throw err;
  }
  return {
    api,
    tokenFile: file,
    async stop() {
      await api.close();
      if (file !== null && token !== null) await removeTokenFile(file, token);
    },
  };
}

/** The line scripts wait for; with --json a pino line whose fields say where the node listens. */
function printUp(server: DSNodeServer, api: ApiRun | null, json: boolean): void {
  const url = server.dashboard?.url ?? null;
  const where = endpoint(server.config.host, server.port);
  const dash = url ? `, dashboard at ${url}` : '';
  const control = api
    ? `, control API at ${api.api.url} (${api.tokenFile ? `token in ${api.tokenFile}` : 'read-only'})`
    : '';
  const text = `node ${safe(server.nodeId())} is up on ${where}${dash}${control}`;
  if (json) {
    new JsonLog(process.stdout).line('info', text, {
      event: 'up',
      node: server.nodeId(),
      host: server.config.host,
      port: server.port,
      dashboard: url,
      api: api ? api.api.url : null,
      ...(api && { apiPort: api.api.port, tokenFile: api.tokenFile }),
    });
    return;
  }
  process.stdout.write(`${text}\n`);
}
