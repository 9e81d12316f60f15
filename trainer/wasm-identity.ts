// tfjs clones every tensor it saves for the backward pass (Engine.saveTensorsForBackwardMode),
// and a clone runs the Identity kernel — which the WebAssembly backend implements as a copy of
// the whole tensor: 8 % of a CommNet update on traffic junction. The tensor is immutable, so the
// clone can share its data, counted, as the backend's own Reshape does (and as the CPU backend's
// Identity does): the same numbers, without the copy.

import tf from './tfjs.cjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/** the backend's own Identity, for what lives outside the WebAssembly heap (strings) */
let copyingIdentity: tf.KernelFunc | null = null;

const sharedIdentity: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return copyingIdentity!(args);
  (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Makes the WebAssembly backend's Identity share its input's data instead of copying it (once; before the backend starts). */
export function shareIdentityOnWasm(): void {
  const own = tf.getKernel('Identity', 'wasm');
  if (!own || own.kernelFunc === sharedIdentity) return;
  copyingIdentity = own.kernelFunc;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ ...own, kernelFunc: sharedIdentity });
}
