import { request } from 'node:http';
import { type Json, parseOrdered } from './json.js';

/** Nothing listens where the control API should be (or it did not answer). */
export class ApiUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiUnreachableError';
  }
}

/** The API answered with an error: its status, its code (`unauthorized`, `unknown_key`, …) and message. */
export class ApiRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRefusedError';
  }
}

export interface ApiAnswer {
  status: number;
  /** The body parsed, objects as ordered Maps (see parseOrdered). */
  body: Json;
}

/**
 * Talks to a node's control API on this machine (src/control/server.ts):
 * one request at a time, or the event stream. Errors are an
 * ApiUnreachableError (nothing answers) or an ApiRefusedError (an answer
 * that is not 2xx).
 */
export class ApiClient {
  constructor(
    readonly host: string,
    readonly port: number,
    private readonly token?: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** "127.0.0.1:9000", "[::1]:9000" */
  get where(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  call(method: string, path: string, body?: string): Promise<ApiAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: false,
          timeout: this.timeoutMs,
          headers: {
            Accept: 'application/json',
            ...(this.token !== undefined && { Authorization: `Bearer ${this.token}` }),
            ...(body !== undefined && {
              'Content-Type': 'application/json; charset=utf-8',
              'Content-Length': Buffer.byteLength(body),
            }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.unreachable(err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve(this.answer(res.statusCode ?? 0, text));
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new ApiUnreachableError(`${this.where} did not answer within ${this.timeoutMs / 1000} s`),
        ),
      );
      req.on('error', (err) => reject(this.unreachable(err)));
      req.end(body);
    });
  }

  /**
   * Reads GET /v1/events, calling `onEvent` with each line parsed; resolves
   * when the stream ends (the node stopped or went away) or `signal` aborts.
   */
  stream(
    path: string,
    onEvent: (event: Json, line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: 'GET',
          path,
          agent: false,
          signal,
          headers: { Accept: 'application/x-ndjson' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              try {
                this.answer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
                reject(new ApiRefusedError(res.statusCode ?? 0, 'unexpected', 'unexpected answer'));
              } catch (err) {
                reject(err);
              }
            });
            return;
          }
          res.setEncoding('utf8');
          let pending = '';
          res.on('data', (chunk: string) => {
            pending += chunk;
            let at = pending.indexOf('\n');
            while (at >= 0) {
              const line = pending.slice(0, at);
              pending = pending.slice(at + 1);
              if (line.trim() !== '') {
                try {
                  onEvent(parseOrdered(line), line);
                } catch (err) {
                  req.destroy();
                  reject(this.notApi(err));
                  return;
                }
              }
              at = pending.indexOf('\n');
            }
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', (err) => {
        if (signal.aborted) resolve();
        else reject(this.unreachable(err));
      });
      req.end();
    });
  }

  private answer(status: number, text: string): ApiAnswer {
    let body: Json;
    try {
      body = parseOrdered(text);
    } catch (err) {
      throw this.notApi(err);
    }
    if (status >= 200 && status < 300) return { status, body };
    const error = body instanceof Map ? body.get('error') : undefined;
    const message = body instanceof Map ? body.get('message') : undefined;
    if (typeof error !== 'string' || typeof message !== 'string') {
      throw this.notApi(new Error(`status ${status} without an error object`));
    }
    throw new ApiRefusedError(status, error, message);
  }

  private notApi(err: unknown): Error {
    return new ApiUnreachableError(
      `something answers on ${this.where}, but not a dsn control API (${(err as Error).message})`,
    );
  }

  private unreachable(err: unknown): Error {
    if (err instanceof ApiUnreachableError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'EADDRNOTAVAIL' || code === 'ECONNRESET') {
      return new ApiUnreachableError(`no node answers on ${this.where}`, { cause: err });
    }
    return new ApiUnreachableError(`cannot reach ${this.where}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
