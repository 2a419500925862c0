#!/usr/bin/env node
// sage: the command of the sage control plane. Runs the compiled entry point (npm run build first).
/* global require */
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
require('../dist/bin/sage.js');
