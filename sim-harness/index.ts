export * from './worlds/index.js';
