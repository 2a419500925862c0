// Bytes to text for the text-based formats (Markdown, plain text, HTML), refusing what is not text: an
// image or an archive with a text extension would otherwise be indexed as pages of mojibake.
import { TextDecoder } from 'node:util';
import { LoadError } from './document';

/** Bytes looked at to decide whether a file is binary. */
const SNIFF_BYTES = 64 * 1024;

function bomEncoding(bytes: Uint8Array): { encoding: string; skip: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', skip: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', skip: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', skip: 2 };
  return null;
}

function decoder(label: string, fatal: boolean): TextDecoder | null {
  try {
    return new TextDecoder(label, { fatal });
  } catch {
    return null; // a label the runtime does not know
  }
}

/** Share of control characters other than tab, line and page breaks: text has almost none. */
function controlShare(text: string): number {
  const sample = text.slice(0, SNIFF_BYTES);
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f || c === 0xfffd) controls++;
  }
  return sample.length === 0 ? 0 : controls / sample.length;
}

/**
 * Decodes a text file: a byte-order mark wins, then the encoding the file declares (an HTML <meta charset>),
 * then UTF-8, then Windows-1252 for the legacy files that are not UTF-8. Line ends become \n.
 * @throws LoadError('binary_content') when the bytes are not text
 */
export function decodeText(bytes: Uint8Array, declared?: string): string {
  const bom = bomEncoding(bytes);
  const body = bom ? bytes.subarray(bom.skip) : bytes;
  // NUL bytes never occur in text of the 8-bit encodings; UTF-16 (with its BOM) is full of them.
  if (!bom?.encoding.startsWith('utf-16') && body.subarray(0, SNIFF_BYTES).includes(0)) {
    throw new LoadError('binary_content', 'the file holds binary data, not text');
  }
  let text: string | null = null;
  for (const label of [bom?.encoding, declared, 'utf-8']) {
    if (!label) continue;
    const d = decoder(label, true);
    if (!d) continue;
    try {
      text = d.decode(body);
      break;
    } catch {
      // not valid in this encoding: try the next
    }
  }
  text ??= (decoder('windows-1252', false) as TextDecoder).decode(body);
  if (controlShare(text) > 0.01) throw new LoadError('binary_content', 'the file holds binary data, not text');
  return text.replace(/\r\n?/g, '\n');
}
