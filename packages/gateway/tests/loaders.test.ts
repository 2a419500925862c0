// The built-in loaders on real files: PDFs written with pdf-lib (parsed on the loader's worker thread),
// HTML pages with the site around their content, .docx files as Word writes them, and the ways each can
// be unreadable.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chunkDocument } from '../src/ingest/chunker';
import { DocxLoader } from '../src/ingest/docx-loader';
import { HtmlLoader } from '../src/ingest/html-loader';
import { LoaderRegistry } from '../src/ingest/loaders';
import { PdfLoader } from '../src/ingest/pdf-loader';
import { splitFrontMatter } from '../src/ingest/front-matter';
import { splitSentences } from '../src/ingest/sentences';
import { writeDocx, writeEncryptedPdf, writePdf } from './document-files';
import { removeTemps, tempDir } from './helpers';

afterAll(removeTemps);

describe('PdfLoader', () => {
  const pdf = new PdfLoader();
  afterAll(() => pdf.close());

  test('reads the text of each page, finds headings by their size, and keeps the page of every chunk', async () => {
    const file = path.join(tempDir(), 'manual.pdf');
    await writePdf(
      file,
      [
        { heading: 'Pump maintenance', paragraphs: ['The bilge pump of the Merrow ferry is serviced every 400 hours, e.g. twice a season.', 'Its impeller is part number KV-3312.'] },
        { paragraphs: ['The seals are replaced with every second service, which takes about 90 minutes, including the long drying time of the housing before the new seals are fitted.'] },
        { heading: 'Engine room', paragraphs: ['The engine room fan runs at 1,450 rpm.'] },
      ],
      { title: 'Merrow ferry manual' },
    );
    const doc = await pdf.load(file);
    expect(doc.metadata).toEqual({ title: 'Merrow ferry manual' });
    expect(doc.pages).toHaveLength(3);
    expect(doc.pages?.[0]).toBe('# Pump maintenance\n\nThe bilge pump of the Merrow ferry is serviced every 400 hours, e.g. twice a season.\n\nIts impeller is part number KV-3312.');
    // A paragraph wrapped over two lines is read as one.
    expect(doc.pages?.[1]).toBe('The seals are replaced with every second service, which takes about 90 minutes, including the long drying time of the housing before the new seals are fitted.');

    const chunks = chunkDocument(doc, { maxTokens: 64, overlapTokens: 0 });
    expect(chunks.map((c) => [c.page, c.headingPath])).toEqual([
      [1, ['Pump maintenance']],
      [2, ['Pump maintenance']], // the heading of page 1 still holds on page 2
      [3, ['Engine room']],
    ]);
    expect(chunks.map((c) => c.position)).toEqual([0, 1, 2]);
  });

  test('a password-protected, a damaged and a mislabelled file are refused with their reason', async () => {
    const dir = tempDir();
    const encrypted = path.join(dir, 'locked.pdf');
    await writeEncryptedPdf(encrypted);
    await expect(pdf.load(encrypted)).rejects.toMatchObject({ name: 'LoadError', code: 'encrypted_document', message: 'the PDF is password-protected' });

    const good = path.join(dir, 'good.pdf');
    await writePdf(good, [{ paragraphs: ['Whole.'] }]);
    const truncated = path.join(dir, 'truncated.pdf');
    writeFileSync(truncated, readFileSync(good).subarray(0, 400));
    await expect(pdf.load(truncated)).rejects.toMatchObject({ code: 'corrupt_document', message: expect.stringMatching(/^not a readable PDF: /) });

    const notPdf = path.join(dir, 'photo.pdf');
    writeFileSync(notPdf, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]));
    await expect(pdf.load(notPdf)).rejects.toMatchObject({ code: 'corrupt_document', message: 'not a PDF file (no %PDF- header)' });
    // The thread that refused them reads the next file as usual.
    expect((await pdf.load(good)).text).toBe('Whole.');
  });

  test('a file that takes longer than allowed stops the parsing thread; the next file gets a new one', async () => {
    const file = path.join(tempDir(), 'slow.pdf');
    await writePdf(file, Array.from({ length: 30 }, (_, i) => ({ paragraphs: [`Page ${i + 1} of a long report.`] })));
    const impatient = new PdfLoader({ timeoutMs: 1 });
    try {
      await expect(impatient.load(file)).rejects.toMatchObject({ code: 'parse_failed', message: 'parsing the PDF took longer than 1 ms' });
    } finally {
      await impatient.close();
    }
    expect((await pdf.load(file)).pages).toHaveLength(30);
  });
});

describe('HtmlLoader', () => {
  const html = new HtmlLoader();

  test('keeps the main content with its headings and drops navigation, scripts, sidebars and the footer', async () => {
    const file = path.join(tempDir(), 'tides.html');
    writeFileSync(
      file,
      `<!doctype html><html><head><title>Tide tables | Ostmark port</title><script>var secret = "SCRIPT-TEXT";</script><style>p { color: red }</style></head>
<body><header><a href="/">Ostmark port</a> HEADER-TEXT</header><nav><a href="/a">NAV-LINK</a></nav>
<main><h1>Tide tables</h1><p>Tide tables are published every <b>Monday</b>, e.g. for the <a href="/pilots">pilots</a>.</p>
<h2>Spring tides</h2><p>During spring tides the quay floods up to 40&nbsp;cm.</p>
<table><tr><th>Day</th><th>High water</th></tr><tr><td>Mon</td><td>06:12</td></tr></table>
<h3>Warnings</h3><ul><li>Sirens sound three times.</li><li># is not a heading here</li></ul></main>
<aside>SIDEBAR-TEXT</aside><footer>FOOTER-TEXT</footer><script>track("SCRIPT-2")</script></body></html>`,
    );
    const doc = await html.load(file);
    expect(doc.format).toBe('markdown');
    expect(doc.metadata).toEqual({ title: 'Tide tables | Ostmark port' });
    expect(doc.text).toBe(
      [
        '# Tide tables',
        'Tide tables are published every Monday, e.g. for the pilots.',
        '## Spring tides',
        'During spring tides the quay floods up to 40 cm.',
        '| Day | High water |\n| Mon | 06:12 |',
        '### Warnings',
        '-   Sirens sound three times.\n-   \\# is not a heading here',
      ].join('\n\n'),
    );
    for (const noise of ['SCRIPT', 'HEADER-TEXT', 'NAV-LINK', 'SIDEBAR', 'FOOTER', 'color: red']) expect(doc.text).not.toContain(noise);
    expect(chunkDocument(doc).map((c) => c.headingPath)).toEqual([['Tide tables'], ['Tide tables', 'Spring tides'], ['Tide tables', 'Spring tides', 'Warnings']]);
  });

  test('a page without <main> has its article found by Readability; a legacy encoding is decoded as declared', async () => {
    const dir = tempDir();
    const filler = 'The harbour master keeps the log of every ship that enters the port of Ostmark. '.repeat(6);
    const page = `<html><head><meta charset="windows-1252"><title>Harbour log</title></head><body>
<div class="menu"><a href="/">Home</a> | <a href="/news">News</a> | <a href="/contact">Contact</a></div>
<div class="content"><div class="post"><h2>The log</h2><p>${filler}</p><p>The caf\xe9 on the pier opens at 07:30.</p></div></div>
<div class="comments"><a href="/login">Log in to comment</a></div></body></html>`;
    const file = path.join(dir, 'log.htm');
    writeFileSync(file, Buffer.from(page, 'latin1'));
    const doc = await html.load(file);
    expect(doc.text).toContain('## The log');
    expect(doc.text).toContain('The café on the pier opens at 07:30.');
    expect(doc.text).not.toContain('Log in to comment');
    expect(doc.metadata?.title).toBe('Harbour log');
  });

  test('binary data named .html is refused', async () => {
    const file = path.join(tempDir(), 'image.html');
    writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]));
    await expect(html.load(file)).rejects.toMatchObject({ code: 'binary_content', message: 'the file holds binary data, not text' });
  });
});

describe('DocxLoader', () => {
  const docx = new DocxLoader();

  test('keeps Word headings as Markdown headings; the Title paragraph is the title, not text', async () => {
    const file = path.join(tempDir(), 'plan.docx');
    await writeDocx(file, [
      { title: 'Quarterly plan' },
      { heading: 'Budget', level: 1 },
      { paragraph: 'The dredging budget is 4.2 million krona.' },
      { heading: 'Staffing', level: 2 },
      { paragraph: 'Twelve divers are hired for the spring.' },
    ]);
    const doc = await docx.load(file);
    expect(doc.metadata).toEqual({ title: 'Quarterly plan' });
    expect(doc.text).toBe('# Budget\n\nThe dredging budget is 4.2 million krona.\n\n## Staffing\n\nTwelve divers are hired for the spring.');
  });

  test('a file that is not a zip, and an encrypted (OLE) one, are refused with their reason', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'notes.docx'), 'just some text');
    await expect(docx.load(path.join(dir, 'notes.docx'))).rejects.toMatchObject({ code: 'corrupt_document', message: expect.stringContaining('zip archive') });
    writeFileSync(path.join(dir, 'locked.docx'), Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]));
    await expect(docx.load(path.join(dir, 'locked.docx'))).rejects.toMatchObject({ code: 'encrypted_document' });
    writeFileSync(path.join(dir, 'broken.docx'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 7)]));
    await expect(docx.load(path.join(dir, 'broken.docx'))).rejects.toMatchObject({ code: 'corrupt_document', message: expect.stringMatching(/^not a readable \.docx file: /) });
  });
});

describe('Markdown and text', () => {
  test('front matter becomes the title and tags, and is not text', async () => {
    const file = path.join(tempDir(), 'guide.md');
    writeFileSync(file, '---\r\ntitle: Ferry guide\r\ntags: [ferries, "timetables"]\r\nauthor: Ilse\r\n---\r\n# Boarding\r\n\r\nBoard ten minutes early.\r\n');
    const doc = await new LoaderRegistry().forFile(file)?.load(file);
    expect(doc).toEqual({ text: '# Boarding\n\nBoard ten minutes early.\n', format: 'markdown', metadata: { title: 'Ferry guide', tags: ['ferries', 'timetables'] } });
  });

  test('a leading block that is not a YAML mapping stays text', () => {
    expect(splitFrontMatter('---\nJust a line\n---\nBody')).toEqual({ body: '---\nJust a line\n---\nBody', metadata: {} });
    expect(splitFrontMatter('---\ntitle: [unclosed\n---\nBody').body).toBe('---\ntitle: [unclosed\n---\nBody');
    expect(splitFrontMatter('---\ntags: a, b\n---\n').metadata).toEqual({ tags: ['a', 'b'] });
  });

  test('a binary file named .md is refused; UTF-16 with its byte-order mark is text', async () => {
    const dir = tempDir();
    const registry = new LoaderRegistry();
    writeFileSync(path.join(dir, 'blob.md'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]));
    await expect(registry.forFile('blob.md')?.load(path.join(dir, 'blob.md'))).rejects.toMatchObject({ code: 'binary_content' });
    writeFileSync(path.join(dir, 'wide.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Tide at 06:12', 'utf16le')]));
    expect((await registry.forFile('wide.txt')?.load(path.join(dir, 'wide.txt')))?.text).toBe('Tide at 06:12');
    await registry.close();
  });
});

describe('splitSentences', () => {
  test('follows the Unicode rules: abbreviations and decimals do not end a sentence, CJK full stops do', () => {
    expect(splitSentences('Use a tool, e.g. the hammer. It weighs 3.5 kg! Does it fit?')).toEqual(['Use a tool, e.g. the hammer.', 'It weighs 3.5 kg!', 'Does it fit?']);
    expect(splitSentences('港口很大。渡轮很慢。')).toEqual(['港口很大。', '渡轮很慢。']);
  });

  test('a line break inside a paragraph does not end a sentence, and is kept', () => {
    expect(splitSentences('The ferry leaves\nat noon. It returns at six.')).toEqual(['The ferry leaves\nat noon.', 'It returns at six.']);
  });
});
