#!/usr/bin/env node
// Thin launcher. The CLI is one CommonJS script, dist/cli/cli.cjs, built by
// `npm install` (prepare) or `npm run build`, run here with the V8 code
// cache the build made for it (see scripts/bundle.js): a cold start then
// skips parsing and compiling most of it. Without a usable cache it compiles.
// This file is CommonJS too: Node's ES module loader costs a cold start ~5 ms.
'use strict';
const { isAscii } = require('node:buffer');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const file = path.join(__dirname, '..', 'dist', 'cli', 'cli.cjs');
const cacheFile = `${file}.cache`;
if (!existsSync(file)) {
  process.stderr.write('personae: not built yet; run `npm install` (or `npm run build`) in the personae folder first\n');
  process.exit(70);
}
const building = process.env.PERSONAE_BUILD_CODE_CACHE === '1';
delete process.env.PERSONAE_BUILD_CODE_CACHE;
let cachedData;
if (!building && existsSync(cacheFile)) cachedData = readFileSync(cacheFile);
// The bundle is ASCII (esbuild escapes the rest), read as Latin-1: decoding it as UTF-8 costs more.
const bytes = readFileSync(file);
const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
const main = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext().call(main.exports, main.exports, Module.createRequire(file), main, file, path.dirname(file));
if (building) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
