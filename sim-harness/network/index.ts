export { LinkProxy } from './link-proxy.js';
