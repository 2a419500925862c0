// The settings as a Markdown table (key, environment variable, default, meaning): the README's table is this
// output, and a test keeps the two the same.
import { defaultSettings, SETTING_DOCS, SETTING_KEYS } from './schema';

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function settingsMarkdownTable(): string {
  const defaults = defaultSettings() as Record<string, unknown>;
  const rows = SETTING_KEYS.map((key) => {
    const d = defaults[key];
    const shown = d === undefined ? '—' : Array.isArray(d) ? (d.length ? JSON.stringify(d) : '—') : `\`${String(d)}\``;
    const env = SETTING_DOCS[key].env;
    return `| \`${snake(key)}\` | ${env ? `\`${env}\`` : '—'} | ${shown} | ${SETTING_DOCS[key].doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| setting (file, `--set`, preset) | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
