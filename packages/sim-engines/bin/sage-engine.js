#!/usr/bin/env node
// sage-engine: the built-in simulator engines (sim-llm, sim-embedding). Runs the compiled entry point.
/* global require */
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
require('../dist/main.js');
