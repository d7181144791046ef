/**
 * `--backend NAME` of every ssm-lab command: the TensorFlow.js backend for this process and its worker processes,
 * as the environment variable SSM_BACKEND that ssm-core reads when it is first imported. The bin script applies
 * it before importing anything of ssm-core, so this module must not import ssm-core.
 */

/** Backends `--backend` accepts (ssm-core's SSM_BACKEND names). */
export const BACKENDS = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

/**
 * Remove `--backend NAME` / `--backend=NAME` from `argv` and export it as SSM_BACKEND (inherited by sweep and
 * reproduce workers). Returns the other arguments, or an error message for a missing or unknown name.
 */
export function applyBackendArg(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] | string {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a !== '--backend' && !a.startsWith('--backend=')) {
      rest.push(a);
      continue;
    }
    const name = a === '--backend' ? argv[++i] : a.slice('--backend='.length);
    if (name === undefined || !(BACKENDS as readonly string[]).includes(name))
      return `--backend: expected one of ${BACKENDS.join(' | ')}, got ${name === undefined ? 'nothing' : JSON.stringify(name)}`;
    env.SSM_BACKEND = name;
  }
  return rest;
}
