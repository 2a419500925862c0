// End to end against a real control plane serving the embedded default (sim-llm answers extractively
// from the context it is given; sim-embedding computes lexical embeddings): ingestion, retrieval-augmented
// chat with sessions through the official openai SDK, incremental re-ingestion, deletion, bad input, and a
// restart of the gateway on the same data directory.
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { createGateway, type Gateway, type Source } from '../src';
import { fileDocumentId } from '../src/ingest/document-id';
import { CITIES, removeTemps, startControlPlane, tempDir, writeCorpus, type City, type ControlPlane } from './helpers';

interface Running {
  gw: Gateway;
  url: string;
  sdk: OpenAI;
}

let cp: ControlPlane;
let dataDir: string;
let corpus: string;
let g: Running;

async function startGateway(dir: string): Promise<Running> {
  const gw = await createGateway({ dataDir: dir, llm: { baseUrl: cp.url }, embedding: { baseUrl: cp.url } });
  const { url } = await gw.listen({ port: 0 });
  return { gw, url, sdk: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 }) };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

const city = (name: string) => CITIES.find((c) => c.name === name) as City;
const docId = (c: City) => fileDocumentId(path.join(corpus, c.file));

async function ask(r: Running, question: string, sessionId?: string): Promise<{ answer: string; sources: Source[] }> {
  const res = await r.sdk.chat.completions.create(
    { model: 'default', messages: [{ role: 'user', content: question }] },
    sessionId ? { headers: { 'x-session-id': sessionId } } : undefined,
  );
  return { answer: res.choices[0]?.message.content ?? '', sources: (res as unknown as { sources: Source[] }).sources };
}

async function documentIds(r: Running): Promise<string[]> {
  const list = (await getJson(`${r.url}/v1/rag/documents`)).data as { id: string }[];
  return list.map((d) => d.id).sort();
}

beforeAll(async () => {
  cp = await startControlPlane();
  dataDir = tempDir();
  corpus = path.join(tempDir(), 'cities');
  writeCorpus(corpus);
  g = await startGateway(dataDir);
}, 60_000);

afterAll(async () => {
  await g?.gw.close();
  await cp?.stop();
  removeTemps();
});

describe('RAG gateway with a running control plane', () => {
  test('ingests a folder of a dozen documents, passing over files it cannot read', async () => {
    const { status, json } = await post(`${g.url}/v1/rag/ingest`, { paths: [corpus] });
    expect(status).toBe(200);
    const docs = json.documents as { id: string; status: string; chunks: number; source: string }[];
    expect(docs).toHaveLength(12);
    expect(docs.every((d) => d.status === 'added' && d.chunks >= 1)).toBe(true);
    expect(json.chunks_written).toBe(docs.reduce((s, d) => s + d.chunks, 0));
    expect((json.skipped as { path: string }[]).map((s) => path.basename(s.path))).toEqual(['logo.png']);
    expect(await documentIds(g)).toEqual(CITIES.map(docId).sort());
    const health = await getJson(`${g.url}/health`);
    expect(health).toMatchObject({ status: 'ok', documents: 12, chunks: json.chunks_written });
  });

  test('answers a question from the one document that holds the fact, and names it among the sources', async () => {
    const aldoria = city('Aldoria');
    const { answer, sources } = await ask(g, 'What is Aldoria famous for?', 'trip-1');
    expect(answer).toContain(aldoria.famousFor);
    expect(sources[0]?.document_id).toBe(docId(aldoria));
    expect(sources[0]?.source).toBe(path.join(corpus, aldoria.file));
    expect(sources[0]?.score).toBeGreaterThan(sources[sources.length - 1]?.score as number);
    // The sim answers with the passage it used, so its [n] shows up as a citation.
    expect(sources.find((s) => s.cited)?.document_id).toBe(docId(aldoria));
  });

  test('a follow-up that needs the history retrieves the same city again', async () => {
    const kestrany = city('Kestrany');
    const first = await ask(g, 'Which city is famous for its singing bridges?', 'trip-2');
    expect(first.answer).toContain('Kestrany');
    const follow = await ask(g, 'And what is its population?', 'trip-2');
    expect(follow.sources[0]?.document_id).toBe(docId(kestrany));
    expect(follow.answer).toContain(kestrany.population);

    const session = await getJson(`${g.url}/v1/sessions/trip-2`);
    const messages = session.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[2]?.content).toBe('And what is its population?');
    const list = (await getJson(`${g.url}/v1/sessions`)).data as { id: string }[];
    expect(list.map((s) => s.id).sort()).toEqual(['trip-1', 'trip-2']);
  });

  test("reports the model server's finish reason and token usage", async () => {
    const res = await g.sdk.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Tell me about Aldoria.' }], max_tokens: 3 });
    expect(res.choices[0]?.finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(3);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + 3);
  });

  test('a client that resends the whole conversation with its session id does not duplicate the history', async () => {
    const messages = [
      { role: 'user' as const, content: 'What is Jorvale famous for?' },
      { role: 'assistant' as const, content: 'It is famous for its amber observatory.' },
    ];
    const sdkOpts = { headers: { 'x-session-id': 'resend' } };
    await g.sdk.chat.completions.create({ model: 'gpt-4o', messages: [messages[0] as { role: 'user'; content: string }] }, sdkOpts);
    const stored = ((await getJson(`${g.url}/v1/sessions/resend`)).messages as { role: string; content: string }[]).slice();
    const res = await g.sdk.chat.completions.create({ model: 'unknown-model', messages: [...stored, { role: 'user', content: 'How many people live there?' }] as OpenAI.ChatCompletionMessageParam[] }, sdkOpts);
    expect(res.model).toBe('sage-sim-llm'); // unknown model names mean the gateway's configured LLM
    const after = (await getJson(`${g.url}/v1/sessions/resend`)).messages as unknown[];
    expect(after).toHaveLength(4);
    expect((res as unknown as { sources: Source[] }).sources[0]?.document_id).toBe(docId(city('Jorvale')));
  });

  test('streams through the official openai SDK, with the sources in the final chunk', async () => {
    const esterholt = city('Esterholt');
    const stream = await g.sdk.chat.completions.create({ model: 'default', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Tell me what Esterholt is famous for.' }] });
    let text = '';
    let sources: Source[] | undefined;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      const extra = (chunk as unknown as { sources?: Source[] }).sources;
      if (extra) sources = extra;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toContain(esterholt.famousFor);
    expect(finish).toBe('stop');
    expect(sources?.[0]?.document_id).toBe(docId(esterholt));
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  test('retrieval only: /v1/rag/query returns scored chunks, best first', async () => {
    const { status, json } = await post(`${g.url}/v1/rag/query`, { query: 'violet marble quarries', top_k: 3 });
    expect(status).toBe(200);
    const data = json.data as { document_id: string; score: number; text: string }[];
    expect(data).toHaveLength(3);
    expect(data[0]?.document_id).toBe(docId(city('Faradine')));
    expect(data[0]?.text).toContain('violet marble');
    expect(data[0]?.score).toBeGreaterThanOrEqual(data[1]?.score as number);
  });

  test('re-ingesting the same folder adds nothing; changing one file replaces only its chunks', async () => {
    const before = await g.gw.pipeline.store.count();
    const again = await post(`${g.url}/v1/rag/ingest`, { paths: [corpus] });
    expect(again.status).toBe(200);
    expect(again.json.chunks_written).toBe(0);
    expect((again.json.documents as { status: string }[]).every((d) => d.status === 'unchanged')).toBe(true);
    expect(await g.gw.pipeline.store.count()).toBe(before);

    const brevik = city('Brevik');
    const idsOf = async (id: string) => (await g.gw.pipeline.store.documentChunks(id)).map((c) => c.id);
    const others = CITIES.filter((c) => c !== brevik);
    const otherIdsBefore = await Promise.all(others.map((c) => idsOf(docId(c))));
    const brevikBefore = await idsOf(docId(brevik));

    writeFileSync(path.join(corpus, brevik.file), `# Brevik\n\nBrevik is a city famous for its tin organ pipes. Brevik has a population of 98,000 people.\n`);
    const changed = await post(`${g.url}/v1/rag/ingest`, { paths: [corpus] });
    expect(changed.status).toBe(200);
    const statuses = Object.fromEntries((changed.json.documents as { id: string; status: string }[]).map((d) => [d.id, d.status]));
    expect(statuses[docId(brevik)]).toBe('updated');
    expect(Object.values(statuses).filter((s) => s === 'unchanged')).toHaveLength(11);
    expect(changed.json.chunks_written).toBe(1);
    expect(changed.json.chunks_removed).toBe(brevikBefore.length);
    expect(await Promise.all(others.map((c) => idsOf(docId(c))))).toEqual(otherIdsBefore);
    expect(await idsOf(docId(brevik))).not.toEqual(brevikBefore);
    expect(await g.gw.pipeline.store.count()).toBe(before);

    const now = await ask(g, 'What is Brevik famous for?');
    expect(now.answer).toContain('tin organ pipes');
    expect(now.answer).not.toContain(brevik.famousFor);
  });

  test('re-ingesting a folder removes the documents of files deleted from it; a single file or inline text removes nothing', async () => {
    const dir = path.join(tempDir(), 'harbour');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const files = {
      quay: path.join(dir, 'quay.md'),
      ferry: path.join(dir, 'ferry.md'),
      tides: path.join(dir, 'tides.txt'),
      pier: path.join(dir, 'sub', 'pier.md'),
    };
    writeFileSync(files.quay, '# Quay\n\nThe Ostmark quay is paved with green basalt.\n');
    writeFileSync(files.ferry, '# Ferry\n\nThe Ostmark ferry is pulled across the sound by a team of oxen.\n\n## Fares\n\nA crossing costs two brass tokens.\n');
    writeFileSync(files.tides, 'Tides at Ostmark are read from a carved stone pillar.\n');
    writeFileSync(files.pier, '# Pier\n\nThe Ostmark pier ends in a round tea house.\n');
    const id = (f: string) => fileDocumentId(f);
    const inline = { id: 'harbour-note', text: 'A note kept with a source that looks like a file under the folder.', source: path.join(dir, 'note.md') };

    try {
      const first = await post(`${g.url}/v1/rag/ingest`, { paths: [dir] });
      expect(first.status).toBe(200);
      expect((first.json.documents as { status: string }[]).map((d) => d.status)).toEqual(['added', 'added', 'added', 'added']);
      expect(first.json.removed).toEqual([]);
      expect((await post(`${g.url}/v1/rag/ingest`, { documents: [inline] })).json).toMatchObject({ removed: [] });

      const listed = async () => new Map(((await getJson(`${g.url}/v1/rag/documents`)).data as { id: string; chunks: number }[]).map((d) => [d.id, d.chunks]));
      const chunkIds = async (f: string) => (await g.gw.pipeline.store.documentChunks(id(f))).map((c) => c.id);
      const ferryChunks = (await listed()).get(id(files.ferry)) as number;
      expect(ferryChunks).toBeGreaterThanOrEqual(1);
      const keptBefore = await Promise.all([files.quay, files.tides, files.pier].map(chunkIds));
      const totalBefore = await g.gw.pipeline.store.count();
      const ferryQuery = async () => ((await post(`${g.url}/v1/rag/query`, { query: 'ferry pulled across the sound by oxen', top_k: 5 })).json.data as { document_id: string }[]).map((d) => d.document_id);
      expect((await ferryQuery())[0]).toBe(id(files.ferry));

      unlinkSync(files.ferry);
      // A single file, even one in that folder, never removes other documents.
      const single = await post(`${g.url}/v1/rag/ingest`, { paths: [files.quay] });
      expect(single.json).toMatchObject({ removed: [], chunks_removed: 0 });
      expect((await listed()).has(id(files.ferry))).toBe(true);

      // The folder again, named another way (trailing slash, a detour through `..`): the same folder.
      const again = await post(`${g.url}/v1/rag/ingest`, { paths: [`${path.join(dir, 'sub', '..')}${path.sep}`] });
      expect(again.status).toBe(200);
      expect(again.json.removed).toEqual([{ id: id(files.ferry), source: files.ferry, chunks: ferryChunks, reason: 'deleted' }]);
      expect(again.json.chunks_removed).toBe(ferryChunks);
      expect(again.json.chunks_written).toBe(0);
      expect((again.json.documents as { id: string; status: string }[]).map((d) => [d.id, d.status])).toEqual(
        [files.quay, files.pier, files.tides].map((f) => [id(f), 'unchanged']),
      );
      const after = await listed();
      expect(after.has(id(files.ferry))).toBe(false);
      expect(after.has(inline.id)).toBe(true);
      expect(await Promise.all([files.quay, files.tides, files.pier].map(chunkIds))).toEqual(keptBefore);
      expect(await g.gw.pipeline.store.count()).toBe(totalBefore - ferryChunks);
      expect(await ferryQuery()).not.toContain(id(files.ferry));

      // Every file gone: the folder's ingest empties it rather than failing, then there is nothing left to do.
      for (const f of [files.quay, files.tides, files.pier]) unlinkSync(f);
      const emptied = await post(`${g.url}/v1/rag/ingest`, { paths: [dir] });
      expect(emptied.status).toBe(200);
      expect((emptied.json.removed as { id: string }[]).map((d) => d.id).sort()).toEqual([files.quay, files.tides, files.pier].map(id).sort());
      expect(emptied.json.documents).toEqual([]);
      const finally_ = await listed();
      expect([files.quay, files.tides, files.pier].some((f) => finally_.has(id(f)))).toBe(false);
      expect(finally_.has(inline.id)).toBe(true);
      const nothing = await post(`${g.url}/v1/rag/ingest`, { paths: [dir] });
      expect(nothing.status).toBe(400);
      expect((nothing.json.error as { code: string }).code).toBe('empty_folder');
    } finally {
      // The other tests count documents: leave none of these behind, whatever failed.
      for (const d of await g.gw.pipeline.listDocuments()) if (d.source.startsWith(dir)) await g.gw.pipeline.store.deleteDocument(d.id);
    }
  });

  test('deleting a document removes it from results', async () => {
    const gorsmouth = city('Gorsmouth');
    const before = await ask(g, 'What is Gorsmouth famous for?');
    expect(before.sources[0]?.document_id).toBe(docId(gorsmouth));

    const res = await fetch(`${g.url}/v1/rag/documents/${docId(gorsmouth)}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: docId(gorsmouth), deleted: true });
    const after = await ask(g, 'What is Gorsmouth famous for?');
    expect(after.sources.map((s) => s.document_id)).not.toContain(docId(gorsmouth));
    expect(after.answer).not.toContain(gorsmouth.famousFor);
    expect(await documentIds(g)).toHaveLength(11);

    const again = await fetch(`${g.url}/v1/rag/documents/${docId(gorsmouth)}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('document_not_found');
  });

  test('a missing path, an unsupported file or an empty folder is a clear error and stores nothing', async () => {
    const countBefore = await g.gw.pipeline.store.count();
    const docsBefore = await documentIds(g);
    const extra = tempDir();
    const fresh = path.join(extra, 'fresh.md');
    writeFileSync(fresh, '# Mirefield\n\nMirefield is a city famous for its iron kites.\n');
    const unsupported = path.join(extra, 'table.csv');
    writeFileSync(unsupported, 'a,b\n1,2\n');
    const empty = path.join(extra, 'empty');
    mkdirSync(empty);

    const cases: [unknown, number, string, RegExp][] = [
      [{ paths: [fresh, path.join(extra, 'nope.md')] }, 400, 'path_not_found', /path not found: .*nope\.md/],
      [{ paths: [fresh, unsupported] }, 400, 'unsupported_file_type', /unsupported file type: .*table\.csv/],
      [{ paths: [empty, fresh] }, 400, 'empty_folder', /contains no supported documents/],
      [{ paths: [] }, 400, 'invalid_value', /paths/],
      [{ paths: [fresh], documents: [{ id: 'x', text: 'y' }] }, 400, 'invalid_value', /exactly one/],
      [{ documents: [{ id: 'x', text: '   ' }] }, 400, 'empty_document', /no text/],
    ];
    for (const [body, status, code, message] of cases) {
      const { status: got, json } = await post(`${g.url}/v1/rag/ingest`, body);
      const error = (json as { error: { message: string; type: string; code: string; param: string | null } }).error;
      expect({ got, code: error.code, type: error.type }).toEqual({ got: status, code, type: 'invalid_request_error' });
      expect(error.message).toMatch(message);
    }
    expect(await g.gw.pipeline.store.count()).toBe(countBefore);
    expect(await documentIds(g)).toEqual(docsBefore);
  });

  test('bad chat requests get OpenAI-shaped errors', async () => {
    const bad: [unknown, string | null][] = [
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'user' }] }, 'messages.0.content'],
      [{ messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'n'],
      [{ messages: [{ role: 'user', content: 'hi' }], session_id: '../../etc/passwd' }, 'session_id'],
      [{ messages: [{ role: 'assistant', content: 'hi' }] }, 'messages'],
    ];
    for (const [body, param] of bad) {
      const { status, json } = await post(`${g.url}/v1/chat/completions`, body);
      expect(status).toBe(400);
      expect((json.error as { param: string | null }).param).toBe(param);
    }
    const notJson = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages": [' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    // A conversation longer than the model's context is the caller's problem, reported as the model server said.
    const huge = await post(`${g.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(20_000) }] });
    // (The query sent to the embedding model is cut to its last tokens, so retrieval itself copes.)
    expect(huge.status).toBe(400);
    expect((huge.json.error as { message: string; type: string }).message).toMatch(/maximum context length/);
    const missing = await fetch(`${g.url}/v1/sessions/no-such-session`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('session_not_found');
  });

  test('documents, answers and sessions survive a restart of the gateway', async () => {
    const docsBefore = await documentIds(g);
    const answerBefore = await ask(g, 'What is Halvenby famous for?');
    await g.gw.close();

    g = await startGateway(dataDir);
    expect(await documentIds(g)).toEqual(docsBefore);
    const answerAfter = await ask(g, 'What is Halvenby famous for?');
    expect(answerAfter.answer).toBe(answerBefore.answer);
    expect(answerAfter.answer).toContain(city('Halvenby').famousFor);
    expect(answerAfter.sources.map((s) => s.chunk_ids)).toEqual(answerBefore.sources.map((s) => s.chunk_ids));

    // The session from before the restart still carries its history.
    const follow = await ask(g, 'And what is its population?', 'trip-2');
    expect(follow.sources[0]?.document_id).toBe(docId(city('Kestrany')));
    const del = await fetch(`${g.url}/v1/sessions/trip-2`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: 'trip-2', object: 'session', deleted: true });
    expect((await fetch(`${g.url}/v1/sessions/trip-2`)).status).toBe(404);
  });
});
