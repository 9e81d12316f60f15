// @fleetmind/models: the policy bundle. The ONNX builder is at '@fleetmind/models/onnx' (the
// exporter's side); this entry point is what a robot needs: the manifest, signatures, the loader.
export * from './bundle/index.js';
export * from './policy/index.js';
