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
import {
  answerLabel,
  DEFAULT_DRAFT,
  ranges,
  resolve,
  tokenLabels,
  type Draft,
  type Embedding,
  type Mixer,
  type Settings,
  type Task,
} from './settings';

type Core = typeof import('ssm-core/browser');
type Construction = import('ssm-core/browser').constructions.Construction;

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

interface Result {
  task: Task;
  numKeys: number;
  vocabSize: number;
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

/** A d-sweep with what it was run for: it is shown only while the settings are those. */
interface Sweep {
  settings: Settings;
  theorem: string;
  bound: { expr: string; nominal: number | null };
  points: SweepPoint[];
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

const sameSettings = (a: Settings, b: Settings) => (Object.keys(a) as (keyof Settings)[]).every((k) => a[k] === b[k]);

const ROLE_HELP: Record<string, string> = {
  key: 'key (pair region)',
  value: 'value (pair region)',
  query: 'query: a key asked again, scored against its value',
  filler: 'filler value (not scored)',
  first: 'first occurrence: answer × (blank)',
  repeat: 'repeat: answer is the token after its latest earlier occurrence',
};

export default function Playground(): React.ReactElement {
  const wasmBase = useBaseUrl('/vendor/tfjs-wasm/');
  const [core, setCore] = useState<Core>();
  const [loadError, setLoadError] = useState<string>();
  const [choice, setChoice] = useState<{ task: Task; mixer: Mixer; embedding: Embedding }>({
    task: 'mqar',
    mixer: 'mamba',
    embedding: 'onehot',
  });
  const [draft, setDraft] = useState<Draft>(DEFAULT_DRAFT);
  // what the run uses, and a message for every field that cannot be used as typed
  const { settings: s, messages } = useMemo(() => resolve(choice, draft), [choice, draft]);
  const limits = ranges(s.task, s.numKeys, s.vocabSize);
  const [state, setState] = useState<'loading' | 'idle' | 'running' | 'done' | 'error'>('loading');
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<Result>();
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [sweep, setSweep] = useState<Sweep>();
  const [sweeping, setSweeping] = useState(false);
  const [runs, setRuns] = useState(0); // completed runs (lets tests wait for the next one)
  const timer = useRef<ReturnType<typeof setInterval>>(undefined);

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

  const edit = (key: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));
  // a sweep belongs to the settings it ran with: another task, mixer or size drops it
  const shownSweep = sweep && sameSettings(sweep.settings, s) ? sweep : undefined;

  const run = useCallback(async () => {
    if (!core) return;
    setState('running');
    setError(undefined);
    setPlaying(false);
    setSweep(undefined);
    await tick();
    let c: Construction | undefined;
    try {
      c = build(core, s);
      const r = await score(core, c, s, s.instances);
      const tokens = Array.from(r.inputs.subarray(0, s.T));
      const states = await stateTrajectory(core, c, tokens);
      setResult({
        task: s.task,
        numKeys: s.numKeys,
        vocabSize: s.vocabSize,
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
    if (!core || s.task !== 'mqar' || !result) return;
    setSweeping(true);
    const pts: SweepPoint[] = [];
    const meta = { settings: s, theorem: THEOREM[s.mixer], bound: result.bound.d };
    const lo = Math.max(1, Math.ceil(Math.log2(s.vocabSize)) - 1);
    for (let p = lo; p <= s.vocabSize; p++) {
      const c = build(core, { ...s, embedding: 'jl', jlDim: p });
      try {
        const r = await score(core, c, s, Math.min(s.instances, 128));
        pts.push({ p, d: c.dims.d, accuracy: r.accuracy });
        setSweep({ ...meta, points: [...pts] });
      } finally {
        c.dispose();
      }
    }
    setSweeping(false);
  }, [core, s, result]);

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
    if (!shownSweep?.points.length) return undefined;
    const { points, bound: b, theorem } = shownSweep;
    const bound = b.nominal;
    return {
      data: [
        {
          type: 'scatter',
          mode: 'lines+markers',
          x: points.map((p) => p.d),
          y: points.map((p) => p.accuracy),
          name: 'JL construction',
          text: points.map((p) => `p = ${p.p}`),
        },
      ],
      layout: {
        height: 320,
        margin: { l: 56, r: 16, t: 40, b: 44 },
        title: { text: `accuracy vs embedding size d (JL values, seed 0), ${theorem}` },
        xaxis: { title: { text: 'd' } },
        yaxis: { title: { text: 'accuracy' }, range: [0, 1.05] },
        shapes: bound
          ? [{ type: 'line', x0: bound, x1: bound, y0: 0, y1: 1.05, line: { dash: 'dash', color: '#888' } }]
          : [],
        annotations: bound
          ? [{ x: bound, y: 1.05, text: `bound ${b.expr} = ${bound}`, showarrow: false, yanchor: 'bottom' }]
          : [],
      },
    };
  }, [shownSweep]);

  const labels = useMemo(
    () => (result ? tokenLabels(result.task, result.tokens, result.answers, result.numKeys) : []),
    [result],
  );

  if (loadError) return <div className="alert alert--danger">Could not start TensorFlow.js: {loadError}</div>;

  const busy = state === 'running' || state === 'loading';
  const numberField = (key: keyof Draft, hint?: string) => (
    <label>
      {limits[key].label}
      {hint ? ` ${hint}` : ''}
      <input
        type="number"
        min={limits[key].lo}
        max={limits[key].hi}
        value={draft[key]}
        onChange={edit(key)}
        disabled={busy}
        aria-invalid={messages.some((m) => m.startsWith(`${limits[key].label}:`))}
      />
    </label>
  );
  return (
    <div>
      <div className="pg-controls">
        <label>
          task
          <select
            value={s.task}
            onChange={(e) => setChoice((c) => ({ ...c, task: e.target.value as Task }))}
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
              <select
                value={s.mixer}
                onChange={(e) => setChoice((c) => ({ ...c, mixer: e.target.value as Mixer }))}
                disabled={busy}
              >
                {(Object.keys(THEOREM) as Mixer[]).map((m) => (
                  <option key={m} value={m}>
                    {THEOREM[m]}
                  </option>
                ))}
              </select>
            </label>
            {numberField('numKeys')}
          </>
        ) : (
          <label>
            mixer
            <select value="mambaDeltaT" disabled>
              <option value="mambaDeltaT">Lem. 3 · Mamba-Δ⊤</option>
            </select>
          </label>
        )}
        {numberField('vocabSize')}
        {s.task === 'mqar' ? (
          <>
            <label>
              embedding (sets d)
              <select
                value={s.embedding}
                onChange={(e) => setChoice((c) => ({ ...c, embedding: e.target.value as Embedding }))}
                disabled={busy}
              >
                <option value="onehot">one-hot (Step 1)</option>
                <option value="jl">Johnson–Lindenstrauss (Step 2)</option>
              </select>
            </label>
            {s.embedding === 'jl' ? numberField('jlDim', '(0 = Lem. 4)') : null}
          </>
        ) : null}
        {numberField('T', `(${limits.T.lo}–${limits.T.hi})`)}
        {numberField('instances')}
        {numberField('seed')}
      </div>
      {messages.length ? (
        <div className="alert alert--warning pg-validation" role="status" data-testid="pg-validation">
          {messages.map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      ) : null}
      <p>
        <button type="button" className="button button--primary" onClick={run} disabled={busy}>
          {state === 'loading' ? 'Loading TensorFlow.js…' : state === 'running' ? 'Running…' : 'Run construction'}
        </button>{' '}
        {s.task === 'mqar' && result?.task === 'mqar' ? (
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
          {result.task !== s.task ? (
            <p className="pg-stale">
              Last run: {result.task === 'mqar' ? 'MQAR' : 'INDUCTION HEADS'}; run again for the task chosen above.
            </p>
          ) : null}
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
          <div className="pg-legend" data-testid="pg-legend">
            {(result.task === 'mqar' ? ['key', 'value', 'query', 'filler'] : ['first', 'repeat']).map((role) => (
              <span key={role}>
                <span className={`pg-token pg-token--${role}`}>
                  {role === 'first' || role === 'repeat' ? 'n' : role[0]}
                </span>{' '}
                {ROLE_HELP[role]}
              </span>
            ))}
            <span>
              <span className="pg-token pg-token--ok">✓</span> answered right{' '}
              <span className="pg-token pg-token--bad">✗</span> wrong
            </span>
          </div>
          <div className="pg-tokens" data-testid="pg-tokens">
            {labels.map((lab, i) => {
              const scored = result.answers[i] !== -2;
              const ok = scored && result.predicted[i] === result.answers[i];
              const got = scored ? answerLabel(result.task, result.predicted[i], result.vocabSize) : '';
              return (
                <span
                  key={i}
                  className={`pg-token pg-token--${lab.role}${i === step - 1 ? ' pg-token--now' : ''}${scored ? (ok ? ' pg-token--ok' : ' pg-token--bad') : ''}`}
                  data-role={lab.role}
                  title={`t = ${i + 1}, token id ${result.tokens[i]}: ${ROLE_HELP[lab.role]}${scored ? `; answer ${lab.answer}, predicted ${got}` : ''}`}
                >
                  <span className="pg-token__text">{lab.text}</span>
                  {lab.answer ? (
                    <span className="pg-token__answer">
                      →{lab.answer}
                      {scored ? (ok ? ' ✓' : ` ✗ ${got}`) : ''}
                    </span>
                  ) : null}
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
