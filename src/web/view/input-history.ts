/** Lines remembered for Up/Down in the composer. */
const MAX_LINES = 100;

/**
 * The composer's line history, as in a shell: Up on an empty line (or while browsing) goes back,
 * Down goes forward and past the newest line back to an empty one.
 */
export class InputHistory {
  private readonly lines: string[] = [];
  private index = -1;

  /** Remembers a line that was sent and stops browsing. */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.shift();
    this.index = -1;
  }

  /**
   * The text the input should hold after `key` (ArrowUp / ArrowDown), or undefined when the key
   * is not for the history (the input keeps its text and the key its default).
   */
  key(key: string, value: string): string | undefined {
    if (key === 'ArrowUp' && (value === '' || this.index >= 0) && this.lines.length > 0) {
      this.index = this.index < 0 ? this.lines.length - 1 : Math.max(0, this.index - 1);
      return this.lines[this.index];
    }
    if (key === 'ArrowDown' && this.index >= 0) {
      this.index++;
      if (this.index >= this.lines.length) {
        this.index = -1;
        return '';
      }
      return this.lines[this.index];
    }
    return undefined;
  }
}
