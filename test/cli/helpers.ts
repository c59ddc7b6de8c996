import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built executable: `npm test` builds it first; alone, run `npm run build` before. */
export const DSN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export function assertBuilt(): void {
  assert.ok(existsSync(DSN), `${DSN} is missing: run 'npm run build' first`);
}

/**
 * The environment for a child: no colours, and no `dsn start` setting
 * (DSN_KEY, DSN_PORT, …) leaking in from the shell — only those a test
 * passes. DSN_CRYPTO (which signing back end to use) is not a setting.
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('DSN_') && name !== 'DSN_CRYPTO') delete env[name];
  }
  return { ...env, ...extra };
}

/**
 * A running `dsn` process. Output is collected as it arrives; `waitFor`
 * resolves as soon as a pattern shows up (no sleeping), and fails with
 * everything printed so far if it does not within the timeout.
 */
export class Dsn {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  /** `env`: variables added to the child's environment (see childEnv). */
  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [DSN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(env),
    });
    this.proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
      this.notify();
    });
    this.proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
      this.notify();
    });
    this.exit = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The first match of `pattern` in stdout or stderr, waiting for it to be printed. */
  waitFor(
    pattern: RegExp,
    stream: 'stdout' | 'stderr' = 'stdout',
    timeoutMs = 15_000,
  ): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this[stream]);
        if (m) {
          done();
          resolve(m);
        } else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          done();
          reject(new Error(`dsn exited before printing ${pattern} on ${stream}\n${this.dump()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${pattern} on ${stream}\n${this.dump()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Parsed lines of stderr (the --json log); every complete line must be JSON. */
  jsonLog(): Record<string, unknown>[] {
    const lines = this.stderr.split('\n');
    lines.pop(); // '' after the last newline, or a line still being written
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves with the exit status; fails the test if the process has not ended in time. */
  async exited(
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`dsn did not exit within ${timeoutMs} ms\n${this.dump()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For `after` hooks: ends the process whatever state it is in. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exit;
  }

  dump(): string {
    return `--- stdout:\n${this.stdout}--- stderr:\n${this.stderr}`;
  }
}

/** Runs `dsn args` to the end. */
export async function runDsn(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new Dsn(args, env);
  try {
    const { code } = await child.exited();
    return { code, stdout: child.stdout, stderr: child.stderr };
  } finally {
    await child.kill();
  }
}

/** A port nothing listens on right now (taken from the kernel, then closed). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Prometheus' text format (0.0.4), parsed strictly: every line is a
 * `# HELP name text`, a `# TYPE name type`, blank, or `name{labels} value`;
 * anything else fails the test. Samples are keyed `name{a="x",b="y"}` as
 * written (labels in their order).
 */
export function parsePrometheus(text: string): {
  samples: Map<string, number>;
  types: Map<string, string>;
  help: Map<string, string>;
} {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sample = new RegExp(
    `^(${NAME})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*",?)*\\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$`,
  );
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (m) {
      help.set(m[1] as string, m[2] as string);
      continue;
    }
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      types.set(m[1] as string, m[2] as string);
      continue;
    }
    m = sample.exec(line);
    assert.ok(m, `not a Prometheus text line: ${JSON.stringify(line)}`);
    const key = `${m[1]}${m[2] ?? ''}`;
    assert.ok(!samples.has(key), `sample ${key} appears twice`);
    samples.set(key, Number(m[3]));
  }
  return { samples, types, help };
}
