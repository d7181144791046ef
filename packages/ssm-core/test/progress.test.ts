/**
 * Training progress: ETAs read h:mm:ss past an hour, and the time cap (trainConfig.maxSeconds) bounds them —
 * the paper preset's 600 epochs at a slow rate show the 6 h cap, not days.
 */
import { describe, expect, it } from 'vitest';
import { fmtEta, trainEta } from '../src/train/progress.js';

describe('training ETA', () => {
  it('formats as m:ss under an hour and h:mm:ss from an hour on', () => {
    expect(fmtEta(0)).toBe('0:00');
    expect(fmtEta(59.9)).toBe('0:59');
    expect(fmtEta(61)).toBe('1:01');
    expect(fmtEta(3599)).toBe('59:59');
    expect(fmtEta(3600)).toBe('1:00:00');
    expect(fmtEta(139_979)).toBe('38:52:59');
    expect(fmtEta(NaN)).toBe('--:--');
    expect(fmtEta(Infinity)).toBe('--:--');
  });

  it('is bounded by what is left of maxSeconds, and says so', () => {
    // 600 epochs × 6250 steps at 37 ms per step would be ≈ 38.5 h; the 6 h cap leaves 6 h − 10 s after 10 s
    const long = trainEta(0.037, 600 * 6250 - 270, 10, 6 * 3600);
    expect(long).toEqual({ seconds: 6 * 3600 - 10, capped: true });
    expect(fmtEta(long.seconds)).toBe('5:59:50');
    expect(trainEta(0.037, 600 * 6250 - 270, 10)).toEqual({ seconds: 0.037 * (600 * 6250 - 270), capped: false });
    expect(trainEta(0.5, 100, 10, 3600)).toEqual({ seconds: 50, capped: false });
    expect(trainEta(0.5, 100, 4000, 3600)).toEqual({ seconds: 0, capped: true });
  });
});
