#!/usr/bin/env node
'use strict';
// Placeholder until the control-plane server lands (issue 6): says what `npm start` will do.
console.log('sage: `npm start` will build the workspace and start the control plane on http://127.0.0.1:8000/v1');
console.log('      with the embedded default (one sim-llm and one sim-embedding engine). Not yet available in this build.');
