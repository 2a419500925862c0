#!/usr/bin/env node
'use strict';
console.error('sage-dev: not implemented yet');
process.exit(1);
