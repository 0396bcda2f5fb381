/**
 * A one-line progress bar for terminals; silent when the stream is not a TTY (pipes, CI logs).
 *
 * @module
 */

/** What a progress display needs of a stream. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Counts work done against a known total and redraws at most every 100 ms. */
export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  #done = 0;
  #failed = 0;
  #lastDraw = 0;

  constructor(stream: ProgressStream, label: string, total: number, enabled = true) {
    this.#stream = stream;
    this.#label = label;
    this.#total = total;
    this.#enabled = enabled && stream.isTTY === true && total > 0;
  }

  /** Records one item (failed or not) and redraws if due. */
  tick(failed = false): void {
    this.#done += 1;
    if (failed) this.#failed += 1;
    const now = Date.now();
    if (this.#enabled && (now - this.#lastDraw >= 100 || this.#done === this.#total)) {
      this.#lastDraw = now;
      this.#draw();
    }
  }

  /** Clears the line. */
  finish(): void {
    if (this.#enabled) this.#stream.write('\r\u001b[2K');
  }

  #draw(): void {
    const width = Math.max(10, Math.min(40, (this.#stream.columns ?? 80) - 50));
    const filled = Math.round((this.#done / this.#total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const failed = this.#failed > 0 ? `, ${this.#failed} failed` : '';
    this.#stream.write(`\r\u001b[2K${this.#label} [${bar}] ${this.#done}/${this.#total}${failed}`);
  }
}
