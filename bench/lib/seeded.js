// Seeded randomness for the benchmarks' made-up workloads and corpora: the same seed gives the same prompts,
// arrivals and documents on every run, so runs (and the policies of one run) can be compared.
/* global module, require */
'use strict';
const { mulberry32 } = require('@sage/common');

/** A seeded PRNG returning numbers in [0, 1): sage's own (mulberry32, from @sage/common). */
const rng = (seed) => mulberry32(seed);

/** An integer in [lo, hi] drawn from `r`. */
const between = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

/** One element of `xs` drawn from `r`. */
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

const WORDS = (
  'the of and to in is was for on that with as by at from this be are or have an which one all were when there can been has more if will ' +
  'who their out would so time about up into than them only other new some could these two may first then do any like my now over such ' +
  'our man me even most made after also did many before must through back years where much your way well down should because each just ' +
  'those people how too little state good very make world still own see men work long get here between both life being under never day ' +
  'same another know while last might us great old year off come since against go came right used take three states himself few house use ' +
  'during without again place around however home small found thought went say part once general high upon school every does got united left'
).split(' ');

/** `n` common English words drawn from `r`, joined by spaces (prompt filler that tokenizes like text). */
function words(r, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = WORDS[Math.floor(r() * WORDS.length)];
  return out.join(' ');
}

module.exports = { rng, between, pick, words };
