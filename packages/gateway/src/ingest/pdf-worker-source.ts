// The code of the PDF parsing thread, as a script the thread evaluates. PDF.js ships as ES modules only,
// which this CommonJS package (and the test runner's module system) cannot load in-process, while a worker
// thread loads them natively; the thread also keeps a slow or hostile PDF from stalling the gateway's event
// loop, and can be stopped when it takes too long. It receives { id, data } (the file's bytes) and answers
// { id, pages, title } with the text runs of each page, or { id, error: { name, message } }.

export const PDF_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const unpdf = require(workerData.unpdfPath);

async function extract(data) {
  const pdf = await unpdf.getDocumentProxy(new Uint8Array(data), {
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
  });
  try {
    const meta = await pdf.getMetadata().catch(() => null);
    const info = meta && meta.info ? meta.info : {};
    const pages = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      pages.push(
        content.items
          .filter((it) => typeof it.str === 'string')
          .map((it) => {
            const t = it.transform;
            return [it.str, t[4], t[5], it.width || 0, Math.hypot(t[2], t[3]) || it.height || 0, it.hasEOL ? 1 : 0];
          }),
      );
      page.cleanup();
    }
    return { pages, title: typeof info.Title === 'string' ? info.Title : null };
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

parentPort.on('message', async ({ id, data }) => {
  try {
    parentPort.postMessage({ id, ...(await extract(data)) });
  } catch (err) {
    parentPort.postMessage({ id, error: { name: (err && err.name) || 'Error', message: String((err && err.message) || err) } });
  }
});
`;
