const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Resolves on the first SIGINT or SIGTERM, so the caller can stop its nodes
 * gracefully. A second signal while stopping exits at once (128 + signal
 * number, as a shell reports a killed process).
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const force = (signal: NodeJS.Signals) => {
      process.stderr.write(`dsn: ${signal} again, exiting without a clean stop\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    const first = (signal: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) {
        process.off(s, first);
        process.on(s, force);
      }
      resolve(signal);
    };
    for (const s of STOP_SIGNALS) process.on(s, first);
  });
}
