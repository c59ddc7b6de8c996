import { readFileSync } from 'node:fs';
import { DSNodeConfig, type Endpoint } from '../config.js';
import { ConfigError } from '../errors.js';
import { oneLine, UsageError } from './errors.js';

/** The node settings `dsn start` takes as flags; each overrides the config file's key. */
export interface NodeFlags {
  id?: string;
  port?: number;
  key?: string;
  bootstrap?: Endpoint[];
  credentials?: string;
  networkIp?: string;
  whitelist?: string[];
  host?: string;
  dashboard?: number;
  dashboardHost?: string;
}

export const DEFAULT_PORT = 8000;

/** Python dictionary key and command-line flag of each configuration field, for error messages. */
const FIELDS: Record<string, [pyKey: string, flag: string, value: (f: NodeFlags) => unknown]> = {
  nodeId: ['node_id', '--id', (f) => f.id],
  port: ['port', '--port', (f) => f.port],
  bootstrapNodes: ['bootstrap_nodes', '--bootstrap', (f) => f.bootstrap],
  aesKey: ['aes_key', '--key', (f) => f.key],
  credentialDir: ['credential_dir', '--credentials', (f) => f.credentials],
  networkIp: ['network_ip', '--network-ip', (f) => f.networkIp],
  whitelistNodeIds: ['whitelist_node_ids', '--whitelist', (f) => f.whitelist],
};

/** Reads a JSON configuration file with the Python dictionary's snake_case keys. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new UsageError(`cannot read config file ${path}: ${why}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `config file ${path} is not valid JSON: ${oneLine((err as Error).message)}`,
      {
        cause: err,
      },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
    throw new UsageError(`config file ${path} must hold a JSON object, got ${got}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Merges the config file (if any) and the flags, flags winning, and validates
 * the result with the library's own rules. Errors name the flag or the file
 * and its snake_case key, whichever the bad value came from.
 */
export function buildNodeConfig(file: string | undefined, flags: NodeFlags): DSNodeConfig {
  const dict: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [pyKey, , value] of Object.values(FIELDS)) {
    const v = value(flags);
    if (v !== undefined) dict[pyKey] = v;
  }
  dict.port ??= DEFAULT_PORT;
  if (dict.node_id === undefined) {
    throw new UsageError(
      `a node ID is required: pass --id${file ? ` or set node_id in ${file}` : ''}`,
    );
  }
  if (flags.dashboardHost !== undefined && flags.dashboard === undefined) {
    throw new UsageError('--dashboard-host needs --dashboard PORT');
  }
  try {
    const base = DSNodeConfig.fromDict(dict);
    return DSNodeConfig.from({
      nodeId: base.nodeId,
      port: base.port,
      bootstrapNodes: [...base.bootstrapNodes],
      aesKey: base.aesKey,
      credentialDir: base.credentialDir,
      networkIp: base.networkIp,
      whitelistNodeIds: base.whitelistNodeIds ? [...base.whitelistNodeIds] : null,
      ...(flags.host !== undefined && { host: flags.host }),
      ...(flags.dashboard !== undefined && {
        dashboard: { port: flags.dashboard, host: flags.dashboardHost ?? '127.0.0.1' },
      }),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(explain(err, file, flags), { cause: err });
    throw err;
  }
}

/** "conf.json: bootstrap_nodes[0].port: must be …" or "--id: must be …". */
function explain(err: ConfigError, file: string | undefined, flags: NodeFlags): string {
  const reason = err.message.startsWith(`${err.field}: `)
    ? err.message.slice(err.field.length + 2)
    : err.message;
  const root = /^[A-Za-z]+/.exec(err.field)?.[0] ?? err.field;
  const field = FIELDS[root];
  if (field && field[2](flags) !== undefined) return `${field[1]}: ${reason}`;
  const name = field ? field[0] + err.field.slice(root.length) : err.field;
  return file ? `${file}: ${name}: ${reason}` : `${name}: ${reason}`;
}
