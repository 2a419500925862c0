// Real PDF and Word files for the tests, written with pdf-lib and a zip of WordprocessingML (as Word saves
// it), so the loaders read what a user's files hold: wrapped lines, larger headings, styles, page breaks.
import { writeFileSync } from 'node:fs';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export interface PdfPage {
  heading?: string;
  paragraphs: string[];
}

/** Writes a PDF: A4 pages, headings in 18 pt bold, paragraphs in 11 pt wrapped at the margins. */
export async function pdfBytes(pages: readonly PdfPage[], opts: { title?: string; useObjectStreams?: boolean } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  if (opts.title) doc.setTitle(opts.title);
  const body = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  for (const p of pages) {
    const page = doc.addPage([595, 842]);
    let y = 780;
    if (p.heading) {
      page.drawText(p.heading, { x: 56, y, size: 18, font: bold });
      y -= 34;
    }
    for (const para of p.paragraphs) {
      let line = '';
      const lines: string[] = [];
      for (const word of para.split(' ')) {
        const next = line ? `${line} ${word}` : word;
        if (body.widthOfTextAtSize(next, 11) > 480 && line) {
          lines.push(line);
          line = word;
        } else line = next;
      }
      if (line) lines.push(line);
      for (const l of lines) {
        page.drawText(l, { x: 56, y, size: 11, font: body });
        y -= 14;
      }
      y -= 12; // paragraph spacing
    }
  }
  return doc.save({ useObjectStreams: opts.useObjectStreams ?? true });
}

export async function writePdf(file: string, pages: readonly PdfPage[], opts: { title?: string } = {}): Promise<void> {
  writeFileSync(file, await pdfBytes(pages, opts));
}

/**
 * A PDF encrypted with the standard security handler and a user password nobody knows: the trailer names an
 * /Encrypt dictionary whose password check fails for the empty password, as for any protected file.
 */
export async function writeEncryptedPdf(file: string): Promise<void> {
  const plain = Buffer.from(await pdfBytes([{ paragraphs: ['The vault code is 7781.'] }], { useObjectStreams: false })).toString('latin1');
  const hex = 'ab'.repeat(32);
  const encrypted = plain.replace(/trailer\s*<</, `trailer\n<<\n/Encrypt << /Filter /Standard /V 1 /R 2 /O <${hex}> /U <${hex}> /P -44 >>\n/ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>]\n`);
  if (encrypted === plain) throw new Error('no trailer to encrypt');
  writeFileSync(file, Buffer.from(encrypted, 'latin1'));
}

export type DocxBlock = { heading: string; level: 1 | 2 | 3 } | { paragraph: string } | { title: string };

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

function paragraph(text: string, style?: string): string {
  const props = style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : '';
  return `<w:p>${props}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`;
}

/** A minimal but complete .docx: content types, relationships, styles (Title, Heading 1-3) and the body. */
export async function docxBytes(blocks: readonly DocxBlock[]): Promise<Buffer> {
  const zip = new JSZip();
  const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
  zip.file(
    '[Content_Types].xml',
    `${xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
  );
  zip.file(
    '_rels/.rels',
    `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
  );
  zip.file(
    'word/_rels/document.xml.rels',
    `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
  );
  const style = (id: string, name: string) => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`;
  zip.file('word/styles.xml', `${xml}<w:styles ${W}>${style('Title', 'Title')}${style('Heading1', 'heading 1')}${style('Heading2', 'heading 2')}${style('Heading3', 'heading 3')}</w:styles>`);
  const body = blocks
    .map((b) => ('title' in b ? paragraph(b.title, 'Title') : 'heading' in b ? paragraph(b.heading, `Heading${b.level}`) : paragraph(b.paragraph)))
    .join('');
  zip.file('word/document.xml', `${xml}<w:document ${W}><w:body>${body}</w:body></w:document>`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

export async function writeDocx(file: string, blocks: readonly DocxBlock[]): Promise<void> {
  writeFileSync(file, await docxBytes(blocks));
}
