// End to end with real documents: a folder holding a PDF, a web page and a Word file with facts made up for
// this test (and files that cannot be read), ingested through the running gateway's HTTP API, then asked
// about through the official openai SDK. A real control plane serves the embedded default engines
// (sim-llm answers extractively from the context it is given; sim-embedding computes lexical embeddings).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { createGateway, type Gateway, type Source } from '../src';
import { fileDocumentId } from '../src/ingest/document-id';
import { writeDocx, writeEncryptedPdf, writePdf } from './document-files';
import { removeTemps, startControlPlane, tempDir, type ControlPlane } from './helpers';

let cp: ControlPlane;
let gw: Gateway;
let url: string;
let sdk: OpenAI;
let folder: string;
const file = (name: string) => path.join(folder, name);

async function post(route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function ask(question: string, rag?: Record<string, unknown>): Promise<{ answer: string; sources: Source[] }> {
  const res = await sdk.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: question }], ...(rag && { rag }) } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  return { answer: res.choices[0]?.message.content ?? '', sources: (res as unknown as { sources: Source[] }).sources };
}

async function writeFolder(dir: string): Promise<void> {
  await writePdf(
    path.join(dir, 'harbour-report.pdf'),
    [
      { heading: 'Vessmark harbour in 2031', paragraphs: ['This report covers the works carried out in the harbour of Vessmark during the year.', 'Traffic grew for the third year running.'] },
      { heading: 'Dredging', paragraphs: ['The northern channel was dredged to a depth of 11.4 metres by the contractor Orlan Marine.', 'The spoil was taken to the disposal site east of the breakwater.'] },
      { heading: 'Lighthouse', paragraphs: ['The Skarvholm lighthouse was converted to solar power in March.', 'Its lamp is now visible for 19 nautical miles.'] },
    ],
    { title: 'Vessmark harbour annual report' },
  );
  writeFileSync(
    path.join(dir, 'ferry.html'),
    `<!doctype html><html><head><title>Quillon Lines: timetable</title><script>window.promo = "Quillon night ferry sails at 23:50";</script></head><body>
<nav><a href="/night">Tickets for the Quillon night ferry</a> <a href="/about">About us</a></nav>
<main><h1>Timetable</h1><h2>Brask island</h2><p>The Quillon ferry to Brask island departs at 07:15 from pier 6.</p><p>A crossing costs 14 krona for foot passengers.</p></main>
<footer>Quillon Lines, Harbour Street 2</footer></body></html>`,
  );
  await writeDocx(path.join(dir, 'board-minutes.docx'), [
    { title: 'Board minutes, September' },
    { heading: 'Decisions', level: 1 },
    { paragraph: 'The board approved a budget of 2.8 million krona for the new fish market roof.' },
    { heading: 'Next meeting', level: 2 },
    { paragraph: 'The next meeting is held on 14 October in the old Tollhouse.' },
  ]);
  await writeEncryptedPdf(path.join(dir, 'locked.pdf'));
  writeFileSync(path.join(dir, 'scan.pdf'), Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R'));
  writeFileSync(path.join(dir, 'photo.html'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]));
}

beforeAll(async () => {
  cp = await startControlPlane();
  folder = path.join(tempDir(), 'inbox');
  mkdirSync(folder);
  await writeFolder(folder);
  gw = await createGateway({ dataDir: tempDir(), llm: { baseUrl: cp.url }, embedding: { baseUrl: cp.url } });
  ({ url } = await gw.listen({ port: 0 }));
  sdk = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cp?.stop();
  removeTemps();
});

describe('PDF, HTML and DOCX through the gateway', () => {
  test('ingesting the folder stores the three readable files and reports each unreadable one with its reason', async () => {
    const { status, json } = await post('/v1/rag/ingest', { paths: [folder] });
    expect(status).toBe(200);
    const docs = json.documents as { source: string; status: string; chunks: number; pages?: number; title?: string }[];
    expect(docs.map((d) => [path.basename(d.source), d.status, d.title, d.pages])).toEqual([
      ['board-minutes.docx', 'added', 'Board minutes, September', undefined],
      ['ferry.html', 'added', 'Quillon Lines: timetable', undefined],
      ['harbour-report.pdf', 'added', 'Vessmark harbour annual report', 3],
    ]);
    expect(docs.every((d) => d.chunks >= 1)).toBe(true);
    expect(json.failed).toEqual([
      { path: file('locked.pdf'), code: 'encrypted_document', reason: 'the PDF is password-protected' },
      { path: file('photo.html'), code: 'binary_content', reason: 'the file holds binary data, not text' },
      { path: file('scan.pdf'), code: 'corrupt_document', reason: expect.stringMatching(/^not a readable PDF: /) },
    ]);
    expect(json.skipped).toEqual([]);
    const listed = ((await (await fetch(`${url}/v1/rag/documents`)).json()) as { data: { source: string; title: string | null }[] }).data;
    expect(listed.map((d) => [path.basename(d.source), d.title])).toEqual([
      ['board-minutes.docx', 'Board minutes, September'],
      ['ferry.html', 'Quillon Lines: timetable'],
      ['harbour-report.pdf', 'Vessmark harbour annual report'],
    ]);
  });

  test.each([
    ['What depth was the northern channel dredged to?', 'harbour-report.pdf', '11.4 metres', [2]],
    ['For how many nautical miles is the lighthouse lamp visible?', 'harbour-report.pdf', '19 nautical miles', [3]],
    ['When does the ferry to Brask island leave?', 'ferry.html', '07:15', []],
    ['How much does a foot passenger pay for the crossing to Brask island?', 'ferry.html', '14 krona', []],
    ['What budget did the board approve for the fish market roof?', 'board-minutes.docx', '2.8 million krona', []],
    ['Where is the next board meeting held?', 'board-minutes.docx', 'Tollhouse', []],
  ])('%s — answered from %s', async (question, name, fact, pages) => {
    const { answer, sources } = await ask(question);
    expect(answer).toContain(fact);
    // The passage holding the fact comes first, from that file (a PDF passage with its page).
    const [source] = sources;
    expect(source).toMatchObject({ source: file(name), document_id: fileDocumentId(file(name)), pages });
    expect(source?.text).toContain(fact);
    expect(['vector', 'fulltext', 'both']).toContain(source?.retriever);
  });

  test('chunks keep the headings above them; navigation and scripts of the page were not indexed', async () => {
    const headings = async (query: string) => ((await post('/v1/rag/query', { query, top_k: 1 })).json.data as { heading_path: string[] }[])[0]?.heading_path;
    expect(await headings('next meeting Tollhouse')).toEqual(['Decisions', 'Next meeting']);
    expect(await headings('Brask island departure pier 6')).toEqual(['Timetable', 'Brask island']);
    expect(await headings('Skarvholm lighthouse solar power')).toEqual(['Lighthouse']);
    const nav = await post('/v1/rag/query', { query: 'night ferry 23:50', mode: 'fulltext', top_k: 5 });
    expect(nav.status).toBe(200);
    for (const hit of nav.json.data as { text: string }[]) expect(hit.text).not.toMatch(/night|23:50/);
  });

  test('/v1/rag/query runs either retriever alone or both, and says which found each chunk', async () => {
    const query = async (mode: string) => {
      const { status, json } = await post('/v1/rag/query', { query: 'Orlan Marine', top_k: 3, mode });
      expect(status).toBe(200);
      return json.data as { source: string; page: number | null; retriever: string; ranks: Record<string, number>; similarity: number | null; text: string }[];
    };
    const text = await query('fulltext');
    expect(text).toHaveLength(1); // only one chunk has these words
    expect(text[0]).toMatchObject({ source: file('harbour-report.pdf'), page: 2, retriever: 'fulltext', ranks: { fulltext: 1 }, similarity: null });
    const vector = await query('vector');
    expect(vector).toHaveLength(3);
    expect(vector.every((h) => h.retriever === 'vector' && typeof h.similarity === 'number')).toBe(true);
    const hybrid = await query('hybrid');
    expect(hybrid[0]).toMatchObject({ source: file('harbour-report.pdf'), page: 2 });
    expect(hybrid[0]?.text).toContain('Orlan Marine');
    expect(['fulltext', 'both']).toContain(hybrid[0]?.retriever);

    const bad = await post('/v1/rag/query', { query: 'x', mode: 'keyword' });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { param: string }).param).toBe('mode');
    const zero = await post('/v1/rag/query', { query: 'x', vector_weight: 0, fulltext_weight: 0 });
    expect(zero.status).toBe(400);
    expect((zero.json.error as { message: string }).message).toMatch(/cannot both be 0/);
  });

  test('a file that breaks after it was ingested is reported, and what was stored for it stays', async () => {
    const pdfId = fileDocumentId(file('harbour-report.pdf'));
    const before = await gw.pipeline.store.documentChunks(pdfId);
    writeFileSync(file('harbour-report.pdf'), '%PDF-1.4\ngarbage');
    const { status, json } = await post('/v1/rag/ingest', { paths: [folder] });
    expect(status).toBe(200);
    expect((json.failed as { path: string; code: string }[]).map((f) => [path.basename(f.path), f.code])).toEqual([
      ['harbour-report.pdf', 'corrupt_document'],
      ['locked.pdf', 'encrypted_document'],
      ['photo.html', 'binary_content'],
      ['scan.pdf', 'corrupt_document'],
    ]);
    expect(json.removed).toEqual([]);
    expect((json.documents as { status: string }[]).map((d) => d.status)).toEqual(['unchanged', 'unchanged']);
    expect(await gw.pipeline.store.documentChunks(pdfId)).toEqual(before);
    const { answer, sources } = await ask('What depth was the northern channel dredged to?');
    expect(answer).toContain('11.4 metres');
    expect(sources.some((s) => s.document_id === pdfId && s.pages.includes(2))).toBe(true);
  });

  test('a single unreadable file named on its own, or a folder of nothing but, is a 400 with the reason', async () => {
    const lone = await post('/v1/rag/ingest', { paths: [file('locked.pdf')] });
    expect(lone.status).toBe(400);
    expect(lone.json.error).toMatchObject({ code: 'encrypted_document', param: 'paths.0', message: expect.stringContaining('password-protected') });

    const broken = path.join(tempDir(), 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'a.pdf'), 'not a pdf');
    writeFileSync(path.join(broken, 'b.docx'), 'not a zip');
    const all = await post('/v1/rag/ingest', { paths: [broken] });
    expect(all.status).toBe(400);
    expect(all.json.error).toMatchObject({ code: 'unreadable_file', message: expect.stringMatching(/a\.pdf: not a PDF file.*b\.docx: not a \.docx file/) });
  });
});
