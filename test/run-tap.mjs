// `npm test`'s runner: tap as package.json configures it, its TAP output passed through as it
// comes, then every failed assertion once more at the very end, with the subtests it sits in and
// its diagnostics. A CI log that keeps only its tail still says what failed, where and why.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAX_FAILURES = 30;
const MAX_DIAGNOSTIC_LINES = 40;

const tap = spawn(process.execPath, [new URL('../node_modules/.bin/tap', import.meta.url).pathname, ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] });

/** the subtest names open at each indentation */
const open = new Map();
const failures = [];
/** the failure whose YAML diagnostics are being read, and their indentation */
let reading = null;

createInterface({ input: tap.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const indent = line.length - line.trimStart().length;
  const text = line.trim();
  // a failure's diagnostics: a YAML block two spaces in, from --- to ...
  if (reading) {
    const inBlock = text === '---' ? indent === reading.indent + 2 : text === '' || indent >= reading.indent + 2;
    if (inBlock) {
      if (text === '...') reading = null;
      else if (text !== '---') {
        const own = line.slice(reading.indent + 2);
        // a top-level key: the quoted source is long and the stack says where
        if (/^\S/.test(own)) reading.skipping = own.startsWith('source:');
        if (!reading.skipping && reading.failure.lines.length < MAX_DIAGNOSTIC_LINES) reading.failure.lines.push(own);
      }
      return;
    }
    reading = null;
  }
  const subtest = /^# Subtest: (.*)$/.exec(text);
  if (subtest) {
    open.set(indent, subtest[1]);
    for (const depth of open.keys()) if (depth > indent) open.delete(depth);
    return;
  }
  const notOk = /^not ok \d+ - (.*?)(?: # time=[\d.]+m?s)?$/.exec(text);
  if (notOk) {
    const within = [...open].filter(([depth]) => depth < indent).sort(([a], [b]) => a - b).map(([, name]) => name);
    const failure = { path: [...within, notOk[1]].join(' > '), lines: [] };
    if (failures.length < MAX_FAILURES) failures.push(failure);
    reading = { failure, indent, skipping: false };
  }
});

tap.on('close', (code, signal) => {
  // a subtest that failed because an assertion inside it did is said by that assertion
  const leaves = failures.filter((f) => !failures.some((g) => g !== f && g.path.startsWith(`${f.path} > `)));
  if (leaves.length > 0) {
    process.stdout.write(`\n# ${leaves.length === MAX_FAILURES ? `the first ${MAX_FAILURES}` : leaves.length} failed assertion${leaves.length === 1 ? '' : 's'}, again:\n`);
    for (const f of leaves) process.stdout.write(`# ✖ ${f.path}\n${f.lines.map((l) => `#   ${l}`).join('\n')}\n`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
