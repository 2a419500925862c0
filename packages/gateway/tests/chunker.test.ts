import { countTokens } from '@sage/common';
import { chunkText, chunkingFingerprint } from '../src/ingest/chunker';

const sentence = (i: number) => `Sentence number ${i} talks about the harbour, the ferries and the weather of the northern coast.`;
const paragraph = (from: number, n: number) => Array.from({ length: n }, (_, k) => sentence(from + k)).join(' ');

describe('chunkText', () => {
  test('Markdown headings give each chunk its heading path; sections are never mixed', () => {
    const md = [
      '# Guide',
      '',
      'Intro paragraph.',
      '',
      '## Install',
      '',
      'Run the installer.',
      '',
      '### Linux',
      '',
      'Use the tarball.',
      '',
      '## Usage',
      '',
      'Start it.',
      '',
      'Setext title',
      '============',
      '',
      'Under a setext heading.',
    ].join('\n');
    const chunks = chunkText(md, 'markdown');
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [['Guide'], 'Intro paragraph.'],
      [['Guide', 'Install'], 'Run the installer.'],
      [['Guide', 'Install', 'Linux'], 'Use the tarball.'],
      [['Guide', 'Usage'], 'Start it.'],
      [['Setext title'], 'Under a setext heading.'],
    ]);
    expect(chunks.map((c) => c.position)).toEqual([0, 1, 2, 3, 4]);
  });

  test('a "#" inside a fenced code block is not a heading, and the block stays whole', () => {
    const md = '# Title\n\nBefore.\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.';
    const chunks = chunkText(md, 'markdown');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.headingPath).toEqual(['Title']);
    expect(chunks[0]?.text).toContain('```sh\n# not a heading\n\necho hi\n```');
  });

  test('plain text is split by paragraphs only, and "#" lines are just text', () => {
    const chunks = chunkText('# not a heading\n\nsecond paragraph', 'text');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.headingPath).toEqual([]);
    expect(chunks[0]?.text).toBe('# not a heading\n\nsecond paragraph');
  });

  test('chunks stay within the token limit, paragraphs and sentences are not cut when they fit', () => {
    const text = [paragraph(0, 6), paragraph(6, 3), paragraph(9, 12), paragraph(21, 2)].join('\n\n');
    const chunks = chunkText(text, 'text', { maxTokens: 80, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(4);
    for (const c of chunks) expect(countTokens(c.text)).toBeLessThanOrEqual(80);
    // Every sentence survives whole, in order, exactly once.
    const joined = chunks.map((c) => c.text).join(' ');
    for (let i = 0; i < 23; i++) expect(joined.split(sentence(i)).length - 1).toBe(1);
  });

  test('consecutive chunks of a section overlap by whole trailing sentences', () => {
    const chunks = chunkText(paragraph(0, 20), 'text', { maxTokens: 100, overlapTokens: 30 });
    expect(chunks.length).toBeGreaterThan(2);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]?.text as string;
      const first = (chunks[i]?.text as string).split(/(?<=\.)\s+/)[0] as string;
      expect(prev.endsWith(first)).toBe(true); // the next chunk starts with the previous one's last sentence
    }
    for (const c of chunks) expect(countTokens(c.text)).toBeLessThanOrEqual(100);
  });

  test('a single sentence longer than the limit is cut at token boundaries', () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(long, 'text', { maxTokens: 64, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(countTokens(c.text)).toBeLessThanOrEqual(64);
    expect(chunks.map((c) => c.text).join(' ').replace(/\s+/g, ' ')).toContain('word0 word1');
    expect(chunks[chunks.length - 1]?.text).toContain('word399');
  });

  test('empty input gives no chunks; the fingerprint follows the settings', () => {
    expect(chunkText('   \n\n  ', 'markdown')).toEqual([]);
    expect(chunkText('# Only a heading\n', 'markdown')).toEqual([]);
    expect(chunkingFingerprint({ maxTokens: 100 })).not.toBe(chunkingFingerprint({ maxTokens: 200 }));
  });
});
