// The one rule for OpenAI base URLs in sage, the one a user of the official `openai` SDK expects: a base URL is
// the prefix that /chat/completions, /embeddings and /models are appended to, so a path that is given is kept
// as given (http://h:8001/v1, https://api.groq.com/openai/v1, https://generativelanguage.googleapis.com/v1beta/openai).
// Only a bare origin (http://localhost:8001), where the SDK would post to /chat/completions at the root, gets the
// /v1 that every OpenAI-compatible server (vLLM, TEI, llama.cpp, a sage control plane) serves under. Trailing
// slashes are dropped. A server's own routes (/health, /metrics, /info, /v1/management) live at its root.

/** `http://h:p` → `http://h:p/v1`; `http://h:p/v1/` → `http://h:p/v1`; any other path is kept (minus a trailing slash). */
export function normalizeBaseUrl(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path === '' ? '/v1' : path;
  return u.toString().replace(/\/+$/, '');
}

/**
 * The root of the server behind a base URL, where /health and the management API live: `http://h:p/v1` and
 * `http://h:p/` → `http://h:p`. Only a final `/v1` is taken off; a base URL with another path keeps it.
 */
export function serverRootUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}
