// TensorFlow.js, loaded with require. Its packages are CommonJS bundles of a megabyte or more each,
// and an ES `import` of one makes Node scan it and every bundle it re-exports for the names it
// exports (cjs-module-lexer) before running it: about 0.2 s of every process that trains,
// evaluates or exports (measured here: 0.42 s to load tfjs by import, 0.21 s by require). Handed
// over whole from here, as this module's one export, nothing is scanned.
import tf = require('@tensorflow/tfjs');
// registers the WebAssembly backend; backend.ts starts it
require('@tensorflow/tfjs-backend-wasm');

export = tf;
