/**
 * The live playground (browser only): ssm-core's analytic constructions (Thm. 2–4 for MQAR, Lem. 3 for
 * INDUCTION HEADS) built as weights of the ordinary 1-layer block and run with TensorFlow.js in the
 * reader's browser (WebGPU when the browser offers a hardware adapter, else wasm; WebGL or cpu if wasm is
 * unavailable; `?backend=webgpu|wasm|webgl|cpu` forces one). Random task instances are scored
 * against brute-force answers; the hidden state of the first instance is replayed step by step.
 */
import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import useBaseUrl from '@docusaurus/useBaseUrl';
import PlotlyClient from '../PlotlyClient';

type Core = typeof import('ssm-core/browser');
type Construction = import('ssm-core/browser').constructions.Construction;
type Task = 'mqar' | 'induction';
type Mixer = 'mamba' | 'mamba2' | 's4d';

const THEOREM: Record<Mixer, string> = {
  mamba: 'Thm. 2 · Mamba (S6), no gate',
  mamba2: 'Thm. 3 · Mamba-2, no gate',
  s4d: 'Thm. 4 · S4D mixer + gate',
};

let corePromise: Promise<Core> | undefined;
/** Load ssm-core once: point the wasm backend at the site's copy of its binaries first. */
function loadCore(wasmBase: string): Promise<Core> {
  corePromise ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmBase);
    const core = await import('ssm-core/browser');
    // ?backend=NAME forces a backend like SSM_BACKEND in Node (e.g. webgpu on a CPU adapter); set before ready()
    const forced = new URLSearchParams(window.location.search).get('backend');
    if (forced) core.setFlag('BACKEND', forced);
    await core.ready();
    return core;
  })();
  return corePromise;
}

interface Settings {
  task: Task;
  mixer: Mixer;
  numKeys: number;
  vocabSize: number;
  embedding: 'onehot' | 'jl';
  jlDim: number;
  T: number;
  instances: number;
  seed: number;
}

const DEFAULTS: Settings = {
  task: 'mqar',
  mixer: 'mamba',
  numKeys: 4,
  vocabSize: 8,
  embedding: 'onehot',
  jlDim: 0,
  T: 16,
  instances: 256,
  seed: 1,
};

interface Result {
  name: string;
  theorem: string;
  d: number;
  N: number;
  bound: { d: { expr: string; nominal: number | null }; N: { expr: string; nominal: number | null } };
  correct: number;
  total: number;
  accuracy: number;
  seconds: number;
  firstError?: { instance: number; t: number; expected: number; got: number };
  tokens: number[];
  answers: number[];
  predicted: number[];
  states: number[][][]; // [t][d][N]
}

interface SweepPoint {
  d: number;
  p: number;
  accuracy: number;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function build(core: Core, s: Settings): Construction {
  if (s.task === 'induction') return core.constructions.inductionHeadsConstruction({ vocabSize: s.vocabSize });
  return core.constructions.mqarConstruction({
    mixer: s.mixer,
    numKeys: s.numKeys,
    vocabSize: s.vocabSize,
    embedding: s.embedding,
    ...(s.embedding === 'jl' && s.jlDim > 0 ? { jlDim: s.jlDim } : {}),
  });
}

/** Random instances and brute-force answers (−2: position not scored). */
function instances(core: Core, s: Settings, n: number): { inputs: Int32Array; answers: Int32Array } {
  const C = core.constructions;
  if (s.task === 'induction') {
    const data = core.tasks.inductionHeads({ vocabSize: s.vocabSize, T: s.T, numSamples: n, seed: s.seed });
    return { inputs: data.inputs, answers: C.inductionHeadsAnswers(data.inputs, n, s.T) };
  }
  const data = core.tasks.mqar({ numKeys: s.numKeys, vocabSize: s.vocabSize, T: s.T, numSamples: n, seed: s.seed });
  return { inputs: data.inputs, answers: C.mqarAnswers(data.inputs, n, s.T, s.numKeys) };
}

async function score(core: Core, c: Construction, s: Settings, n: number) {
  const { inputs, answers } = instances(core, s, n);
  const t0 = performance.now();
  let correct = 0;
  let total = 0;
  let firstError: Result['firstError'];
  const chunk = 64;
  const predicted = new Float64Array(n * s.T);
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const readAt = new Uint8Array(m * s.T);
    for (let k = 0; k < m * s.T; k++) readAt[k] = answers[i * s.T + k] === -2 ? 0 : 1;
    const p = c.predictFlat(inputs.subarray(i * s.T, (i + m) * s.T), m, s.T, readAt);
    predicted.set(p, i * s.T);
    for (let k = 0; k < m * s.T; k++) {
      if (!readAt[k]) continue;
      total++;
      if (p[k] === answers[i * s.T + k]) correct++;
      else firstError ??= { instance: i + Math.floor(k / s.T), t: k % s.T, expected: answers[i * s.T + k], got: p[k] };
    }
    await tick();
  }
  return {
    inputs,
    answers,
    predicted,
    correct,
    total,
    accuracy: total ? correct / total : 1,
    firstError,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Hidden state after each prefix of one sequence: [t][d][N]. */
async function stateTrajectory(core: Core, c: Construction, tokens: number[]): Promise<number[][][]> {
  const model = c.createModel();
  const out: number[][][] = [];
  try {
    for (let t = 1; t <= tokens.length; t++) {
      const last = core.tf.tidy(() => model.forwardWithInternals([tokens.slice(0, t)]).mixer.lastState!);
      out.push(((await last.array()) as number[][][])[0]);
      last.dispose();
      if (t % 8 === 0) await tick();
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** `webgpu (nvidia ampere)`, `webgpu (google swiftshader, CPU adapter)`, `wasm`: what runs the playground. */
function backendLabel(core: Core): string {
  const info = core.backendInfo();
  const a = info.adapter;
  if (info.name !== 'webgpu' || !a) return info.name;
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return `webgpu (${name}${a.hardware ? '' : ', CPU adapter'})`;
}

const num = (v: string, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(Number(v) || lo)));

export default function Playground(): React.ReactElement {
  const wasmBase = useBaseUrl('/vendor/tfjs-wasm/');
  const [core, setCore] = useState<Core>();
  const [loadError, setLoadError] = useState<string>();
  const [s, setS] = useState<Settings>(DEFAULTS);
  const [state, setState] = useState<'loading' | 'idle' | 'running' | 'done' | 'error'>('loading');
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<Result>();
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [sweep, setSweep] = useState<SweepPoint[]>();
  const [sweeping, setSweeping] = useState(false);
  const [runs, setRuns] = useState(0); // completed runs (lets tests wait for the next one)
  const timer = useRef<ReturnType<typeof setInterval>>();

  useEffect(() => {
    loadCore(wasmBase).then(
      (c) => {
        setCore(c);
        setState('idle');
      },
      (e: Error) => {
        setLoadError(e.message);
        setState('error');
      },
    );
  }, [wasmBase]);

  const minT = s.task === 'mqar' ? 3 * s.numKeys : 2 * s.vocabSize + 2;
  const set = (patch: Partial<Settings>) =>
    setS((old) => {
      const next = { ...old, ...patch };
      if (patch.numKeys !== undefined && next.task === 'mqar')
        next.T = Math.max(next.T, 3 * next.numKeys, 4 * next.numKeys);
      if (next.task === 'mqar') next.T = Math.max(next.T, 3 * next.numKeys);
      else next.T = Math.max(next.T, 2 * next.vocabSize + 2); // INDUCTION HEADS needs T > 2|V| + 1
      return next;
    });

  const run = useCallback(async () => {
    if (!core) return;
    setState('running');
    setError(undefined);
    setPlaying(false);
    await tick();
    let c: Construction | undefined;
    try {
      c = build(core, s);
      const r = await score(core, c, s, s.instances);
      const tokens = Array.from(r.inputs.subarray(0, s.T));
      const states = await stateTrajectory(core, c, tokens);
      setResult({
        name: c.name,
        theorem: c.theorem,
        d: c.dims.d,
        N: c.dims.N,
        bound: c.dims.bound,
        correct: r.correct,
        total: r.total,
        accuracy: r.accuracy,
        seconds: r.seconds,
        firstError: r.firstError,
        tokens,
        answers: Array.from(r.answers.subarray(0, s.T)),
        predicted: Array.from(r.predicted.subarray(0, s.T)),
        states,
      });
      setStep(states.length);
      setState('done');
    } catch (e) {
      setError((e as Error).message);
      setState('error');
    } finally {
      c?.dispose();
      setRuns((n) => n + 1);
    }
  }, [core, s]);

  const runSweep = useCallback(async () => {
    if (!core || s.task !== 'mqar') return;
    setSweeping(true);
    const pts: SweepPoint[] = [];
    const lo = Math.max(1, Math.ceil(Math.log2(s.vocabSize)) - 1);
    for (let p = lo; p <= s.vocabSize; p++) {
      const c = build(core, { ...s, embedding: 'jl', jlDim: p });
      try {
        const r = await score(core, c, s, Math.min(s.instances, 128));
        pts.push({ p, d: c.dims.d, accuracy: r.accuracy });
        setSweep([...pts]);
      } finally {
        c.dispose();
      }
    }
    setSweeping(false);
  }, [core, s]);

  useEffect(() => {
    clearInterval(timer.current);
    if (!playing || !result) return;
    timer.current = setInterval(
      () =>
        setStep((t) => {
          if (t >= result.states.length) {
            setPlaying(false);
            return t;
          }
          return t + 1;
        }),
      350,
    );
    return () => clearInterval(timer.current);
  }, [playing, result]);

  const heatmap = useMemo(() => {
    if (!result || step < 1) return undefined;
    const z = result.states[step - 1];
    return {
      data: [{ type: 'heatmap', z, colorscale: 'RdBu', zmid: 0, reversescale: true, colorbar: { thickness: 12 } }],
      layout: {
        height: Math.min(560, 140 + 14 * z.length),
        margin: { l: 56, r: 16, t: 40, b: 44 },
        title: {
          text: `hidden state h<sub>t</sub> after t = ${step} of ${result.states.length} tokens (channel × state)`,
        },
        xaxis: { title: { text: 'state n' }, dtick: 1 },
        yaxis: { title: { text: 'channel' }, autorange: 'reversed', dtick: z.length > 24 ? undefined : 1 },
      },
    };
  }, [result, step]);

  const sweepFig = useMemo(() => {
    if (!sweep?.length || !result) return undefined;
    const bound = result.bound.d.nominal;
    return {
      data: [
        {
          type: 'scatter',
          mode: 'lines+markers',
          x: sweep.map((p) => p.d),
          y: sweep.map((p) => p.accuracy),
          name: 'JL construction',
          text: sweep.map((p) => `p = ${p.p}`),
        },
      ],
      layout: {
        height: 320,
        margin: { l: 56, r: 16, t: 40, b: 44 },
        title: { text: `accuracy vs embedding size d (JL values, seed 0), ${THEOREM[s.mixer]}` },
        xaxis: { title: { text: 'd' } },
        yaxis: { title: { text: 'accuracy' }, range: [0, 1.05] },
        shapes: bound
          ? [{ type: 'line', x0: bound, x1: bound, y0: 0, y1: 1.05, line: { dash: 'dash', color: '#888' } }]
          : [],
        annotations: bound
          ? [
              {
                x: bound,
                y: 1.05,
                text: `bound ${result.bound.d.expr} = ${bound}`,
                showarrow: false,
                yanchor: 'bottom',
              },
            ]
          : [],
      },
    };
  }, [sweep, result, s.mixer]);

  if (loadError) return <div className="alert alert--danger">Could not start TensorFlow.js: {loadError}</div>;

  const busy = state === 'running' || state === 'loading';
  return (
    <div>
      <div className="pg-controls">
        <label>
          task
          <select
            value={s.task}
            onChange={(e) =>
              set({
                task: e.target.value as Task,
                T: e.target.value === 'mqar' ? Math.max(4 * s.numKeys, 16) : Math.max(24, 2 * s.vocabSize + 2),
              })
            }
            disabled={busy}
          >
            <option value="mqar">MQAR (Sec. 5.1)</option>
            <option value="induction">INDUCTION HEADS (Sec. 5.2)</option>
          </select>
        </label>
        {s.task === 'mqar' ? (
          <>
            <label>
              mixer
              <select value={s.mixer} onChange={(e) => set({ mixer: e.target.value as Mixer })} disabled={busy}>
                {(Object.keys(THEOREM) as Mixer[]).map((m) => (
                  <option key={m} value={m}>
                    {THEOREM[m]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              κ (key–value pairs)
              <input
                type="number"
                min={1}
                max={32}
                value={s.numKeys}
                onChange={(e) => set({ numKeys: num(e.target.value, 1, 32) })}
                disabled={busy}
              />
            </label>
          </>
        ) : (
          <label>
            mixer
            <select value="mambaDeltaT" disabled>
              <option value="mambaDeltaT">Lem. 3 · Mamba-Δ⊤</option>
            </select>
          </label>
        )}
        <label>
          |V| ({s.task === 'mqar' ? 'values' : 'tokens'})
          <input
            type="number"
            min={2}
            max={64}
            value={s.vocabSize}
            onChange={(e) => set({ vocabSize: num(e.target.value, 2, 64) })}
            disabled={busy}
          />
        </label>
        {s.task === 'mqar' ? (
          <>
            <label>
              embedding (sets d)
              <select
                value={s.embedding}
                onChange={(e) => set({ embedding: e.target.value as 'onehot' | 'jl' })}
                disabled={busy}
              >
                <option value="onehot">one-hot (Step 1)</option>
                <option value="jl">Johnson–Lindenstrauss (Step 2)</option>
              </select>
            </label>
            {s.embedding === 'jl' ? (
              <label>
                JL value dimension p (0 = Lem. 4)
                <input
                  type="number"
                  min={0}
                  max={256}
                  value={s.jlDim}
                  onChange={(e) => set({ jlDim: num(e.target.value, 0, 256) })}
                  disabled={busy}
                />
              </label>
            ) : null}
          </>
        ) : null}
        <label>
          sequence length T (≥ {minT})
          <input
            type="number"
            min={minT}
            max={256}
            value={s.T}
            onChange={(e) => set({ T: num(e.target.value, minT, 256) })}
            disabled={busy}
          />
        </label>
        <label>
          random sequences
          <input
            type="number"
            min={1}
            max={5000}
            value={s.instances}
            onChange={(e) => set({ instances: num(e.target.value, 1, 5000) })}
            disabled={busy}
          />
        </label>
        <label>
          seed
          <input
            type="number"
            min={0}
            max={1e6}
            value={s.seed}
            onChange={(e) => set({ seed: num(e.target.value, 0, 1e6) })}
            disabled={busy}
          />
        </label>
      </div>
      <p>
        <button type="button" className="button button--primary" onClick={run} disabled={busy}>
          {state === 'loading' ? 'Loading TensorFlow.js…' : state === 'running' ? 'Running…' : 'Run construction'}
        </button>{' '}
        {s.task === 'mqar' && result ? (
          <button type="button" className="button button--secondary" onClick={runSweep} disabled={busy || sweeping}>
            {sweeping ? 'Sweeping d…' : 'Sweep d (JL) against the bound'}
          </button>
        ) : null}{' '}
        <span data-testid="pg-status" data-state={state} data-runs={runs} className="pg-status">
          {core ? `backend: ${backendLabel(core)}` : ''}
        </span>
      </p>
      {error ? <div className="alert alert--danger">{error}</div> : null}
      {result ? (
        <>
          <div className="pg-stats">
            <span>
              {result.theorem}: {result.name}
            </span>
            <span>
              d = <strong>{result.d}</strong> (bound {result.bound.d.expr}
              {result.bound.d.nominal != null ? ` = ${result.bound.d.nominal}` : ''})
            </span>
            <span>
              N = <strong>{result.N}</strong> (bound {result.bound.N.expr}
              {result.bound.N.nominal != null ? ` = ${result.bound.N.nominal}` : ''})
            </span>
            <span data-testid="pg-accuracy" data-value={result.accuracy}>
              accuracy <strong>{(100 * result.accuracy).toFixed(result.accuracy === 1 ? 0 : 2)} %</strong> (
              {result.correct}/{result.total} answers, {result.seconds.toFixed(2)} s)
            </span>
          </div>
          {result.firstError ? (
            <p className="alert alert--warning">
              First wrong answer: sequence {result.firstError.instance}, position {result.firstError.t + 1}: expected{' '}
              {result.firstError.expected}, got {result.firstError.got}.
            </p>
          ) : null}
          <h3>Sequence 1, step by step</h3>
          <p>
            <button
              type="button"
              className="button button--sm button--outline button--primary"
              onClick={() => {
                if (step >= result.states.length) setStep(1);
                setPlaying((p) => !p);
              }}
            >
              {playing ? 'Pause' : 'Play'}
            </button>{' '}
            <input
              type="range"
              min={1}
              max={result.states.length}
              value={step}
              onChange={(e) => {
                setPlaying(false);
                setStep(Number(e.target.value));
              }}
              style={{ width: '50%', verticalAlign: 'middle' }}
              aria-label="time step"
            />
          </p>
          <div className="pg-tokens">
            {result.tokens.map((tok, i) => {
              const scored = result.answers[i] !== -2;
              const ok = scored && result.predicted[i] === result.answers[i];
              return (
                <span
                  key={i}
                  className={`pg-token${i === step - 1 ? ' pg-token--now' : ''}${scored ? (ok ? ' pg-token--ok' : ' pg-token--bad') : ''}`}
                  title={scored ? `answer ${result.answers[i]}, predicted ${result.predicted[i]}` : 'not scored'}
                >
                  {tok}
                </span>
              );
            })}
          </div>
          {heatmap ? <PlotlyClient figure={heatmap} /> : null}
          {sweepFig ? <PlotlyClient figure={sweepFig} /> : null}
        </>
      ) : null}
    </div>
  );
}
