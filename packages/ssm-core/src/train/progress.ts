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
  /** The ETA is the time left under trainConfig.maxSeconds, which ends the run before its last epoch. */
  etaCapped?: boolean;
}

/** A duration as h:mm:ss, or m:ss under an hour; '--:--' when unknown. */
export function fmtEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const t = Math.floor(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * Time left in a training run: the remaining steps at the measured seconds per step, bounded by what is left of
 * `maxSeconds` (the time cap stops the run there). `capped` says the cap is the bound.
 */
export function trainEta(
  secondsPerStep: number,
  stepsLeft: number,
  elapsedSeconds: number,
  maxSeconds?: number,
): { seconds: number; capped: boolean } {
  const byRate = secondsPerStep * Math.max(0, stepsLeft);
  if (maxSeconds === undefined) return { seconds: byRate, capped: false };
  const left = Math.max(0, maxSeconds - elapsedSeconds);
  return byRate > left ? { seconds: left, capped: true } : { seconds: byRate, capped: false };
}

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
        ` loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(3)} lr ${p.lr.toExponential(1)}` +
        ` ETA ${fmtEta(p.etaSeconds)}${p.etaCapped ? ' (time cap)' : ''}   `,
    );
  }

  /** Print one line (every mode but 'off'). */
  line(text: string): void {
    if (this.mode === 'off') return;
    process.stderr.write(this.mode === 'bar' ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
