// Server-sent events from an OpenAI-compatible engine: yields the payload of each `data:` field
// (multi-line data joined by "\n"), stops at `[DONE]`. Comments and other fields are ignored.

export async function* parseSseData(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length > 0) {
          const payload = data.join('\n');
          data = [];
          if (payload.trim() === '[DONE]') return;
          yield payload;
        }
        continue;
      }
      if (line.startsWith(':')) continue;
      if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }
  // A stream cut without the trailing blank line still delivers its last event.
  if (buffer.startsWith('data:')) data.push(buffer.slice(buffer.startsWith('data: ') ? 6 : 5));
  if (data.length > 0) {
    const payload = data.join('\n');
    if (payload.trim() !== '[DONE]') yield payload;
  }
}
