/** Percentile by nearest rank; `p` in [0, 100]. NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

export function summary(xs: number[]): { median: number; p90: number; p99: number; n: number } {
  return {
    median: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    n: xs.length,
  };
}

export const round = (x: number, digits = 1) => Number(x.toFixed(digits));
