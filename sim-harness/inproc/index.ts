export { bundleController } from './bundle-controller.js';
export type { BundleEvalOptions } from './bundle-controller.js';
