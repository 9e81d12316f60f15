// Picks the fastest TensorFlow.js backend this machine has: tfjs-node (native TensorFlow) when
// installed, else WebAssembly (SIMD, no threads under Node), else pure JS. tfjs-node is not a
// declared dependency — its install downloads libtensorflow, which some networks cannot reach —
// so it is used when a user has installed it next to fleetmind.

// the @tensorflow/tfjs bundle, not tfjs-core alone: only the bundle registers the gradients
// (and with it the WebAssembly backend, both required, not imported: tfjs.cts says why)
import tf from './tfjs.cjs';
import { shareIdentityOnWasm } from './wasm-identity.js';

export type BackendName = 'node' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

/** tfjs's own names for our choices */
const TFJS_NAME: Record<BackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export class BackendError extends Error {
  readonly code = 'FM_ERR_BACKEND';
}

async function loadNode(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') !== null || tf.engine().registryFactory.tensorflow !== undefined;
  } catch {
    return false;
  }
}

/** Activates a backend; 'auto' tries node, then wasm, then cpu. Returns the one in use. */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<BackendName> {
  const order: BackendName[] = choice === 'auto' ? ['node', 'wasm', 'cpu'] : [choice];
  const tried: string[] = [];
  for (const name of order) {
    if (name === 'node' && !(await loadNode())) { tried.push('node (@tensorflow/tfjs-node is not installed)'); continue; }
    try {
      if (name === 'wasm') shareIdentityOnWasm();
      if (await tf.setBackend(TFJS_NAME[name])) {
        await tf.ready();
        return name;
      }
      tried.push(`${name} (failed to initialise)`);
    } catch (err) {
      tried.push(`${name} (${(err as Error).message})`);
    }
  }
  throw new BackendError(`no TensorFlow.js backend could start: ${tried.join('; ')}`);
}

export { tf };

/** The backend in use (what useBackend started). */
export function activeBackend(): BackendName {
  const name = (Object.keys(TFJS_NAME) as BackendName[]).find((ours) => TFJS_NAME[ours] === tf.getBackend());
  if (!name) throw new BackendError(`TensorFlow.js runs on ${tf.getBackend()}, which fleetmind does not start`);
  return name;
}

/**
 * tf.tidy for a scope whose result is plain numbers (a dataSync()): tidy looks for tensors in
 * what its function returns by walking it key by key, which for a typed array of logits costs a
 * Set insertion per number — more than the forward pass for wide outputs. The numbers leave the
 * scope by closure instead.
 */
export function tidyNumbers(fn: () => Float32Array): Float32Array {
  let numbers: Float32Array | undefined;
  tf.tidy(() => { numbers = fn(); });
  return numbers!;
}
