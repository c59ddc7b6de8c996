const ESC = '\x1b[';

/**
 * A full-screen view redrawn in place: the terminal's alternate screen (as
 * `top` and `less` use), so the shell's scrollback is left as it was.
 * Every line is cleared to its end and everything below the last line is
 * cleared, so a redraw never flickers and never leaves stale text.
 */
export class LiveScreen {
  private opened = false;
  private readonly restore = () => this.close();

  constructor(private readonly out: NodeJS.WriteStream) {}

  get columns(): number {
    return this.out.columns || 80;
  }

  get rows(): number {
    return this.out.rows || 24;
  }

  open(): void {
    if (this.opened) return;
    this.opened = true;
    // Alternate screen, cursor hidden, no line wrap (a line too wide is cut, not folded).
    this.out.write(`${ESC}?1049h${ESC}?25l${ESC}?7l`);
    // Give the terminal back even if the process ends some other way.
    process.on('exit', this.restore);
  }

  /** Draws `lines` from the top-left corner; lines past the screen's height are dropped. */
  draw(lines: string[]): void {
    const shown = lines.slice(0, this.rows);
    this.out.write(`${ESC}H${shown.map((l) => `${l}${ESC}K`).join('\n')}${ESC}J`);
  }

  close(): void {
    if (!this.opened) return;
    this.opened = false;
    process.off('exit', this.restore);
    this.out.write(`${ESC}?7h${ESC}?25h${ESC}?1049l`);
  }
}
