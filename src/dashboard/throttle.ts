/**
 * Runs `fn` at most once per `intervalMs`: at once when it has been quiet,
 * otherwise once more at the end of the interval (leading and trailing
 * edge), so a burst of triggers costs two runs and the last change is never
 * lost.
 */
export class Throttle {
  private timer: NodeJS.Timeout | null = null;
  private pending = false;

  constructor(
    private readonly fn: () => void,
    private readonly intervalMs: number,
  ) {}

  trigger(): void {
    if (this.timer) {
      this.pending = true;
      return;
    }
    this.pending = false;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.pending) this.trigger();
    }, this.intervalMs);
    this.fn();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = false;
  }
}
