export { manifestSchema, parseManifest, BundleError, MANIFEST_SCHEMA_VERSION, MAX_COMMUNICATION_ROUNDS, recurrentStateSize } from './manifest.js';
export type { Manifest, RoleSpec } from './manifest.js';
/** the bundle's message quantization, defined by the wire contract */
export type { Quantization } from '@fleetmind/wire';
export { generateSigningKeys, signBundle, checkSignature, SIGNATURE_FILE } from './signing.js';
export type { KeyPair, SignatureStatus } from './signing.js';
export { expectedGraphIo } from './graph-io.js';
export type { GraphIo, IoSpec } from './graph-io.js';
export { loadBundle, checkBundleFiles, EDGE_SESSION_OPTIONS } from './loader.js';
export type { LoadedBundle, LoadOptions, RolePolicy } from './loader.js';
export { resizeBundle } from './resize.js';
