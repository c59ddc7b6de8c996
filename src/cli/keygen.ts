import { generateKey } from '../server.js';

/** `dsn keygen`: a new network key on stdout, nothing else, so that `KEY=$(dsn keygen)` works. */
export function keygen(): void {
  process.stdout.write(`${generateKey()}\n`);
}
