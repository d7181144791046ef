/**
 * Typed errors. Every error names the offending argument and states what was
 * expected and what was received, so a user can fix the call without reading our code.
 */

/**
 * Base of every ssm-core error. The message reads `<argument>: expected <expected>, got <actual>[ (<hint>)]`,
 * and the three parts are fields, so callers can react without parsing text.
 */
export class SsmError extends Error {
  constructor(
    message: string,
    /** Name of the argument or option at fault, e.g. `"delta"` or `"config.dState"`. */
    readonly argument: string,
    /** What would have been accepted, e.g. `"an integer in [1, T=50]"`. */
    readonly expected: string,
    /** What was received, as shown by validate.ts's `show`, e.g. `"60"`. */
    readonly actual: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor has the wrong rank or dimensions. */
export class ShapeError extends SsmError {}
/** A tensor has the wrong dtype (all ssm-core math is float32). */
export class DTypeError extends SsmError {}
/** A value is out of range or not finite. */
export class ValueError extends SsmError {}
/** A configuration or option is invalid. */
export class ConfigError extends SsmError {}
/** A weight file is corrupt or does not match the model it is loaded into. */
export class CheckpointError extends SsmError {}
/**
 * A file to read is not a regular file (a FIFO, device, directory, socket) or is larger than allowed, or a file
 * could not be written whole (a full disk, a file size limit): the system error is its `cause`.
 */
export class FileError extends SsmError {}

/**
 * A worker thread of a host kernel failed: its error (the `cause`) or its exit before it finished its share.
 * `argument` names the kernel, `thread` the thread (0: the calling thread). No result of the failed call is returned.
 */
export class ThreadError extends SsmError {
  constructor(
    message: string,
    argument: string,
    expected: string,
    actual: string,
    /** The thread that failed first: 0 is the calling thread, 1… the workers. */
    readonly thread: number,
    /** `cause`: the error the thread threw, where it threw one. */
    options?: { cause?: unknown },
  ) {
    super(message, argument, expected, actual);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/** A ThreadError of kernel `op` on thread `thread`: `<op>: expected <expected>, got <actual>`. */
export function threadError(op: string, thread: number, expected: string, actual: string, cause?: unknown) {
  return new ThreadError(`${op}: expected ${expected}, got ${actual}`, op, expected, actual, thread, { cause });
}

type Ctor = new (m: string, a: string, e: string, r: string) => SsmError;

function make(Cls: Ctor, argument: string, expected: string, actual: string, hint = ''): SsmError {
  const msg = `${argument}: expected ${expected}, got ${actual}${hint ? ` (${hint})` : ''}`;
  return new Cls(msg, argument, expected, actual);
}

/** A ShapeError naming `arg`; `hint` (optional) is appended in parentheses. The other factories alike. */
export const shapeError = (arg: string, expected: string, actual: string, hint?: string) =>
  make(ShapeError, arg, expected, actual, hint) as ShapeError;
/** A DTypeError naming `arg`. */
export const dtypeError = (arg: string, expected: string, actual: string) =>
  make(DTypeError, arg, expected, actual) as DTypeError;
/** A ValueError naming `arg` (bad data: out of range, not finite). */
export const valueError = (arg: string, expected: string, actual: string, hint?: string) =>
  make(ValueError, arg, expected, actual, hint) as ValueError;
/** A ConfigError naming `arg` (a bad option or argument). */
export const configError = (arg: string, expected: string, actual: string, hint?: string) =>
  make(ConfigError, arg, expected, actual, hint) as ConfigError;
/** A CheckpointError naming `arg` (a file that does not fit the model). */
export const checkpointError = (arg: string, expected: string, actual: string, hint?: string) =>
  make(CheckpointError, arg, expected, actual, hint) as CheckpointError;

/** A FileError naming the path `arg` (not a regular file, too large, not written whole). */
export const fileError = (arg: string, expected: string, actual: string, hint?: string) =>
  make(FileError, arg, expected, actual, hint) as FileError;

/**
 * An allocation refused before it is made: its estimate exceeds the memory budget (flag MEMORY_BUDGET; on the
 * wasm backend also the 2 GiB its tensors live in). `argument` names the option that sizes it; `bytes` is the
 * estimate, `budget` the limit it was held against.
 */
export class MemoryError extends SsmError {
  constructor(
    message: string,
    argument: string,
    expected: string,
    actual: string,
    /** Bytes the operation needs. */
    readonly bytes: number,
    /** Bytes the budget allows (flag MEMORY_BUDGET, or the wasm heap). */
    readonly budget: number,
  ) {
    super(message, argument, expected, actual);
  }
}

/**
 * `[2, 3, 4]` → `"[2,3,4]"`, used in messages.
 * @internal
 */
export const fmtShape = (s: readonly (number | string)[]) => `[${s.join(',')}]`;

/** What went wrong on the GPU: see {@link GpuError}. */
export type GpuErrorKind = 'too-large' | 'over-budget' | 'out-of-memory' | 'validation' | 'internal' | 'device-lost';

/**
 * A GPU request that was refused before launch (`too-large`: a buffer above the adapter's limits;
 * `over-budget`: more bytes than the flag GPU_MEMORY_BUDGET allows) or a fault the device reported
 * (`out-of-memory`, `validation`, `internal` from WebGPU error scopes or `uncapturederror`; `device-lost`).
 * `argument` names the operation, `op` too; `bytes` is the size asked for when known.
 */
export class GpuError extends SsmError {
  constructor(
    message: string,
    argument: string,
    expected: string,
    actual: string,
    /**
     * What went wrong: too large for a buffer, over the budget, out of device memory, a validation error, an internal
     * error or a lost device.
     */
    readonly kind: GpuErrorKind,
    /** The op or sync point that reported it, e.g. 'selectiveScan' or 'gpuSync'. */
    readonly op: string,
    /** Bytes requested, when known. */
    readonly bytes: number | undefined,
  ) {
    super(message, argument, expected, actual);
  }
}

/**
 * `1.5 GiB`, `12.0 MiB`, `512 B`: a byte count for messages.
 * @internal
 */
export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes,
    u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A GpuError for operation `op`: `<op>: expected <expected>, got <actual>[ (<hint>)]`. */
export function gpuError(
  kind: GpuErrorKind,
  op: string,
  bytes: number | undefined,
  expected: string,
  actual: string,
  hint = '',
): GpuError {
  const msg = `${op}: expected ${expected}, got ${actual}${hint ? ` (${hint})` : ''}`;
  return new GpuError(msg, op, expected, actual, kind, op, bytes);
}
