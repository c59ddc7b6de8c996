import type { Server, ServerResponse } from 'node:http';
import { DsnError } from './errors.js';

/** Pieces shared by the node's local HTTP servers (the dashboard, the control API). */

/** A whole answer: never cached. */
export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(bytes);
}

/** Listens; a failure is a DsnError that names the server (`what`) and the address. */
export function listen(http: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      const message =
        err.code === 'EADDRINUSE'
          ? `${what}: port ${port} is already in use (${where})`
          : err.code === 'EACCES'
            ? `${what}: no permission to listen on ${where}`
            : `${what}: cannot listen on ${where}: ${err.message}`;
      reject(new DsnError('DSN_ERR_CONFIG', message, { cause: err }));
    };
    http.once('error', fail);
    http.listen(port, host, () => {
      http.off('error', fail);
      resolve();
    });
  });
}
