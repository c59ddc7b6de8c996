/**
 * node --import tsx bench/envelope.ts
 *
 * The AES envelope's two ways of sealing and opening a message — CBC chained
 * by hand over one long-lived ECB context, and one OpenSSL CBC context per
 * message — at sizes around the switch-over (src/crypto/envelope.ts SMALL).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createEnvelope } from '../src/crypto/envelope.js';

const key = randomBytes(16);
const env = createEnvelope(key.toString('hex'));
const iv = randomBytes(16);

function perCall(fn: () => void, n: number): number {
  for (let i = 0; i < n / 10; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / n / 1000;
}

console.log('bytes   seal: env  cbc-ctx µs   open: env  cbc-ctx µs');
for (const size of [64, 256, 1024, 2048, 4096, 9216, 65536]) {
  const plain = randomBytes(size);
  const sealed = env.seal(plain, iv);
  const n = Math.max(200, Math.floor(4e6 / size));
  const sealEnv = perCall(() => env.seal(plain, iv), n);
  const sealCtx = perCall(() => {
    const c = createCipheriv('aes-128-cbc', key, iv);
    Buffer.concat([iv, c.update(plain), c.final()]);
  }, n);
  const openEnv = perCall(() => env.open(sealed), n);
  const openCtx = perCall(() => {
    const d = createDecipheriv('aes-128-cbc', key, sealed.subarray(0, 16));
    d.update(sealed.subarray(16));
    d.final();
  }, n);
  console.log(
    `${String(size).padStart(6)}  ${sealEnv.toFixed(1).padStart(9)} ${sealCtx.toFixed(1).padStart(8)}` +
      `   ${openEnv.toFixed(1).padStart(9)} ${openCtx.toFixed(1).padStart(8)}`,
  );
}
