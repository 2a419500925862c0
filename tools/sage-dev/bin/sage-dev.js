#!/usr/bin/env node
// @ts-check
'use strict';
// Entry point of the `sage-dev` command (see ../README.md).
const { main } = require('../src/cli');

main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`sage-dev: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);
