#!/usr/bin/env node
// Retrieval quality of the RAG gateway on documents it has never seen (bench/rag-corpus.js: PDF manuals,
// HTML port pages and .docx board minutes, written on the spot, with questions whose answer passage is
// known). A real control plane serves the built-in lexical hashing embedder (sim-embedding, as a child
// process); the gateway ingests the folder through POST /v1/rag/ingest, then every question goes through
// POST /v1/rag/query with each retrieval mode: vector only, full text only, and hybrid (both, fused by
// reciprocal rank fusion). The "hybrid" row is what a user gets: the gateway's defaults, which it picks for the
// embedder it finds (printed with the reason); "hybrid 1:1 k 60" is the fusion it uses with a semantic embedding
// model, for comparison. --vector-weight, --fulltext-weight and --rrf-k add a row with those settings (each one
// not given is the gateway's default); --sweep adds a grid of weights and k. A hit is relevant when it is a chunk
// of the answer's file (for a PDF, on the answer's page) that contains the answer. Prints recall@1, recall@5 and
// MRR@10 per mode, the ingest throughput (pages/s: a PDF page counts as one page, an HTML or .docx file as one),
// and the parsing speed of the loaders alone.
//
//   npm run build && node bench/rag-retrieval.js [--time-scale 1] [--vector-weight W] [--fulltext-weight W] [--rrf-k K] [--sweep]
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { startControlPlaneServer } = require('@sage/llm-core');

process.env.SAGE_LOG_LEVEL ??= 'warn'; // the gateway's request log would bury the results
const { createGateway, LoaderRegistry } = require('@sage/gateway');
const { writeCorpus } = require('./rag-corpus');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} takes a number of 0 or more, got "${process.argv[i + 1]}"`);
  return v;
}
const TIME_SCALE = arg('time-scale', 1);
// Only the settings given: the gateway fills in the rest, as it would for a user's request.
const CUSTOM = Object.fromEntries(
  [['vector_weight', arg('vector-weight')], ['fulltext_weight', arg('fulltext-weight')], ['rrf_k', arg('rrf-k')]].filter(([, v]) => v !== undefined),
);
const SEMANTIC_FUSION = { vector_weight: 1, fulltext_weight: 1, rrf_k: 60 };
const SWEEP = process.argv.includes('--sweep');
const DEPTH = 10; // MRR is counted over the first 10 hits

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const fusionLabel = (r) => `${r.vector_weight}:${r.fulltext_weight} k ${r.rrf_k}`;

const relevant = (q) => (hit) => hit.source === q.file && hit.text.includes(q.answer) && (q.page === undefined || hit.page === q.page);

/** `label` names the row; without one, hybrid rows are named by the fusion the gateway reports it used. */
async function evaluate(url, questions, mode, fusion = {}, label) {
  let r1 = 0;
  let r5 = 0;
  let rr = 0;
  const missed = [];
  let used;
  const t0 = performance.now();
  for (const q of questions) {
    const { data, retrieval } = await post(`${url}/v1/rag/query`, { query: q.q, top_k: DEPTH, mode, ...fusion });
    used ??= retrieval;
    const rank = data.findIndex(relevant(q)) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    else missed.push(q.q);
    if (rank >= 1) rr += 1 / rank;
  }
  const n = questions.length;
  const name = mode === 'hybrid' ? `${label ?? 'hybrid'} ${fusionLabel(used)}` : mode;
  return {
    retrieval: used,
    row: { mode: name, 'recall@1': (r1 / n).toFixed(3), 'recall@5': (r5 / n).toFixed(3), 'MRR@10': (rr / n).toFixed(3), 'ms/query': ((performance.now() - t0) / n).toFixed(1) },
    missed,
  };
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sage-rag-bench-'));
  const corpusDir = path.join(work, 'corpus');
  const corpus = await writeCorpus(corpusDir);
  const pages = corpus.pdfPages + corpus.files.html + corpus.files.docx;
  const base = 30000 + Math.floor(Math.random() * 500) * 40;
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    runtime: {
      sageHome: path.join(work, 'sage'),
      simTimeScale: TIME_SCALE,
      portRanges: { llm: { start: base, end: base + 10 }, embedding: { start: base + 11, end: base + 20 }, fallback: { start: base + 21, end: base + 39 } },
    },
  });
  const gw = await createGateway({ dataDir: path.join(work, 'gateway'), llm: { baseUrl: cp.url }, embedding: { baseUrl: cp.url } });
  const loaders = new LoaderRegistry();
  try {
    const { url } = await gw.listen({ port: 0 });

    // Parsing alone: every file through its loader, twice (the first pass starts the PDF thread).
    const files = (await require('node:fs/promises').readdir(corpusDir)).map((f) => path.join(corpusDir, f));
    for (const f of files) await loaders.forFile(f).load(f);
    let t = performance.now();
    for (const f of files) await loaders.forFile(f).load(f);
    const parseSecs = (performance.now() - t) / 1000;

    t = performance.now();
    const ingest = await post(`${url}/v1/rag/ingest`, { paths: [corpusDir] });
    const ingestSecs = (performance.now() - t) / 1000;
    if (ingest.failed.length > 0 || ingest.documents.length !== files.length) throw new Error(`ingest did not take every file: ${JSON.stringify(ingest.failed)}`);

    // No fusion settings in the request, none in the gateway's configuration: the defaults a user gets.
    const results = [];
    for (const mode of ['vector', 'fulltext', 'hybrid']) results.push(await evaluate(url, corpus.questions, mode, {}, 'hybrid, gateway defaults'));
    const defaults = results[2].retrieval;
    results.push(await evaluate(url, corpus.questions, 'hybrid', SEMANTIC_FUSION, 'hybrid, semantic-model fusion'));
    if (Object.keys(CUSTOM).length > 0) results.push(await evaluate(url, corpus.questions, 'hybrid', CUSTOM, 'hybrid, from the flags'));
    const sweep = [];
    if (SWEEP) {
      for (const rrf_k of [1, 5, 10, 20, 60]) {
        for (const [vector_weight, fulltext_weight] of [[1, 1], [1, 1.5], [1, 2], [1, 3]]) sweep.push((await evaluate(url, corpus.questions, 'hybrid', { vector_weight, fulltext_weight, rrf_k })).row);
      }
    }

    const cpus = os.cpus();
    console.log(
      `RAG retrieval benchmark, ${new Date().toISOString().slice(0, 10)}, ${cpus.length} x ${cpus[0]?.model.trim()}, Node ${process.version}; ` +
        `sim-embedding (lexical hashing, 384 dims) at time scale ${TIME_SCALE}; hybrid rows are "vector weight:full-text weight k"`,
    );
    console.log(
      `gateway defaults for hybrid: vector weight ${defaults.vector_weight}, full-text weight ${defaults.fulltext_weight}, k ${defaults.rrf_k} ` +
        `(${defaults.embedder ? `${defaults.embedder.family} embedder: ${defaults.embedder.reason}` : 'set in the configuration'})`,
    );
    console.log(
      `corpus: ${files.length} files (${corpus.files.pdf} PDF with ${corpus.pdfPages} pages, ${corpus.files.html} HTML, ${corpus.files.docx} DOCX), ` +
        `${ingest.chunks_written} chunks, ${corpus.questions.length} questions`,
    );
    console.table(results.map((r) => r.row));
    if (SWEEP) console.table(sweep);
    console.log(
      `ingest through the gateway (parse, chunk, embed via the control plane, store): ${pages} pages in ${ingestSecs.toFixed(2)} s = ${(pages / ingestSecs).toFixed(1)} pages/s`,
    );
    console.log(`parsing only (loaders, PDF on its worker thread): ${pages} pages in ${parseSecs.toFixed(2)} s = ${(pages / parseSecs).toFixed(1)} pages/s`);
    for (const r of results) if (r.missed.length > 0) console.log(`\nnot in the top 5 with ${r.row.mode}:\n  ${r.missed.join('\n  ')}`);
  } finally {
    await loaders.close();
    await gw.close();
    await cp.close(2000);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
