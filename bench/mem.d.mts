/** Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup, in bytes; null where unreadable. */
export function privateBytes(pid?: number | 'self'): number | null;
/** VmRSS of /proc/<pid>/status, in bytes; null where unreadable. */
export function rssBytes(pid?: number | 'self'): number | null;
/** VmHWM (peak RSS) of /proc/<pid>/status, in bytes; null where unreadable. */
export function peakRssBytes(pid?: number | 'self'): number | null;
/** Resets VmHWM to the current RSS; false where it could not. */
export function resetPeakRss(pid?: number | 'self'): boolean;
