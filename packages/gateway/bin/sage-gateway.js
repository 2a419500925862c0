#!/usr/bin/env node
// sage-gateway: the RAG gateway as a process. Runs the compiled entry point.
/* global require */
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
void require('../dist/main.js').main();
