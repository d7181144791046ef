/**
 * Terminal progress: a one-line bar redrawn in place on a TTY, one line per epoch otherwise
 * (CI logs, notebooks). No dependency: it writes to stderr only.
 */
/** 'bar': one line redrawn in place; 'lines': one line per epoch; 'auto': 'bar' on a TTY, else 'lines'. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'off';

/** What the progress bar shows after a step. */
export interface ProgressInfo {
  label: string;
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
  accuracy: number;
  lr: number;
  etaSeconds: number;
}

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

/** Progress output on stderr in one of the {@link ProgressMode}s (nothing where there is no `process`). */
export class Progress {
  private last = 0;
  private readonly mode: Exclude<ProgressMode, 'auto'>;

  constructor(mode: ProgressMode) {
    const stderr = typeof process !== 'undefined' ? process.stderr : undefined;
    this.mode = mode === 'auto' ? (stderr?.isTTY ? 'bar' : 'lines') : mode;
    if (!stderr) this.mode = 'off';
  }

  /** Redraw the bar (mode 'bar' only, at most every 100 ms). */
  step(p: ProgressInfo): void {
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (now - this.last < 100 && p.stepInEpoch < p.stepsPerEpoch) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((width * p.stepInEpoch) / p.stepsPerEpoch);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    process.stderr.write(
      `\r${p.label} epoch ${p.epoch}/${p.epochs} ${bar} ${p.stepInEpoch}/${p.stepsPerEpoch}` +
        ` loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(3)} lr ${p.lr.toExponential(1)} ETA ${fmtTime(p.etaSeconds)}   `,
    );
  }

  /** Print one line (every mode but 'off'). */
  line(text: string): void {
    if (this.mode === 'off') return;
    process.stderr.write(this.mode === 'bar' ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
