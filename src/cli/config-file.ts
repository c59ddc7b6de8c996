import { readFileSync } from 'node:fs';
import { DSNodeConfig, type Endpoint } from '../config.js';
import { ConfigError } from '../errors.js';
import { oneLine, UsageError } from './errors.js';

/** The node settings `dsn start` takes as flags (or environment variables); each overrides the config file's key. */
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
  requireJoin?: boolean;
}

/**
 * What to call each setting in a message: its flag unless given otherwise
 * (main.ts passes the environment variable a value came from).
 */
export type SettingNames = Partial<Record<keyof NodeFlags, string>>;

export const DEFAULT_PORT = 8000;

const FLAG_OF: Record<keyof NodeFlags, string> = {
  id: '--id',
  port: '--port',
  key: '--key',
  bootstrap: '--bootstrap',
  credentials: '--credentials',
  networkIp: '--network-ip',
  whitelist: '--whitelist',
  host: '--host',
  dashboard: '--dashboard',
  dashboardHost: '--dashboard-host',
  requireJoin: '--require-join',
};

/** The setting behind each field of the library's configuration, and its Python dictionary key. */
const FIELDS: Record<string, [setting: keyof NodeFlags, pyKey: string | null]> = {
  nodeId: ['id', 'node_id'],
  port: ['port', 'port'],
  bootstrapNodes: ['bootstrap', 'bootstrap_nodes'],
  aesKey: ['key', 'aes_key'],
  credentialDir: ['credentials', 'credential_dir'],
  networkIp: ['networkIp', 'network_ip'],
  whitelistNodeIds: ['whitelist', 'whitelist_node_ids'],
  host: ['host', null],
  dashboard: ['dashboard', null],
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
 * the result with the library's own rules. Errors name the setting (flag or
 * environment variable, see `names`) or the file and its snake_case key,
 * whichever the bad value came from.
 */
export function buildNodeConfig(
  file: string | undefined,
  flags: NodeFlags,
  names: SettingNames = {},
): DSNodeConfig {
  const name = (setting: keyof NodeFlags) => names[setting] ?? FLAG_OF[setting];
  const dict: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [setting, pyKey] of Object.values(FIELDS)) {
    const v = flags[setting];
    if (pyKey !== null && v !== undefined) dict[pyKey] = v;
  }
  dict.port ??= DEFAULT_PORT;
  if (dict.node_id === undefined) {
    throw new UsageError(
      `a node ID is required: pass --id or DSN_ID${file ? `, or set node_id in ${file}` : ''}`,
    );
  }
  if (flags.dashboardHost !== undefined && flags.dashboard === undefined) {
    throw new UsageError(`${name('dashboardHost')} needs --dashboard PORT (or DSN_DASHBOARD)`);
  }
  try {
    const base = DSNodeConfig.fromDict(dict);
    // Every field the file set (spread, so that fields added to the library
    // pass through), plus the settings the Python dictionary does not have.
    return DSNodeConfig.from({
      ...base,
      bootstrapNodes: [...base.bootstrapNodes],
      whitelistNodeIds: base.whitelistNodeIds ? [...base.whitelistNodeIds] : null,
      ...(flags.host !== undefined && { host: flags.host }),
      ...(flags.requireJoin !== undefined && { requireJoin: flags.requireJoin }),
      ...(flags.dashboard !== undefined && {
        dashboard: { port: flags.dashboard, host: flags.dashboardHost ?? '127.0.0.1' },
      }),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(explain(err, file, flags, name), { cause: err });
    }
    throw err;
  }
}

/** "conf.json: bootstrap_nodes[0].port: must be …", "--id: must be …" or "DSN_ID: must be …". */
function explain(
  err: ConfigError,
  file: string | undefined,
  flags: NodeFlags,
  name: (setting: keyof NodeFlags) => string,
): string {
  const reason = err.message.startsWith(`${err.field}: `)
    ? err.message.slice(err.field.length + 2)
    : err.message;
  // The field is named camelCase or, from DSNodeConfig.fromDict, by its Python key.
  const root = /^[A-Za-z_]+/.exec(err.field)?.[0] ?? err.field;
  const [setting, pyKey] =
    FIELDS[root] ?? Object.values(FIELDS).find(([, py]) => py === root) ?? [];
  if (err.field === 'dashboard.host') return `${name('dashboardHost')}: ${reason}`;
  if (setting && flags[setting] !== undefined) return `${name(setting)}: ${reason}`;
  const key = pyKey ? pyKey + err.field.slice(root.length) : err.field;
  return file ? `${file}: ${key}: ${reason}` : `${key}: ${reason}`;
}
