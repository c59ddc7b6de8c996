// Memory of a process from Linux /proc, for the benchmark's reports: a node
// process reads its own (pid 'self'), the data section reads the receiver's
// from outside while it is busy. Each function returns null where /proc (or
// the field) cannot be read, e.g. off Linux.
import { readFileSync, writeFileSync } from 'node:fs';

const field = (text, name) =>
  Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
const read = (pid, file) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
};

/** Resident pages of the process that no other process shares (smaps_rollup Private_Clean + Private_Dirty). */
export function privateBytes(pid = 'self') {
  const text = read(pid, 'smaps_rollup');
  if (text === null) return null;
  const total = field(text, 'Private_Clean') + field(text, 'Private_Dirty');
  return Number.isFinite(total) ? total : null;
}

/** Resident memory now (VmRSS). */
export function rssBytes(pid = 'self') {
  const text = read(pid, 'status');
  const v = text === null ? Number.NaN : field(text, 'VmRSS');
  return Number.isFinite(v) ? v : null;
}

/** The most resident memory since the start or the last resetPeakRss (VmHWM). */
export function peakRssBytes(pid = 'self') {
  const text = read(pid, 'status');
  const v = text === null ? Number.NaN : field(text, 'VmHWM');
  return Number.isFinite(v) ? v : null;
}

/** Sets VmHWM back to the current RSS (Linux ≥ 4.0); false where it could not. */
export function resetPeakRss(pid = 'self') {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
