// Test fixtures: a real control plane serving the embedded default (sim engines as child processes, on
// free ports, with a temporary SAGE_HOME), temporary directories, and a small corpus of invented cities.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlPlaneServer, type RunningControlPlane } from '@sage/llm-core';

export interface ControlPlane {
  cp: RunningControlPlane;
  url: string;
  stop(): Promise<void>;
}

/** A 40-port block chosen at random in 10120-19999: below Linux's ephemeral ports (32768+), which port-0 listeners
 * take between the allocator's probe and an engine's bind, and apart from the lifecycle tests' 20000-31999. It starts
 * above 10080, a port fetch refuses ("bad port"): a test that fetches an engine there failed once in 250 runs. */
function randomRanges() {
  const base = 10120 + Math.floor(Math.random() * 247) * 40;
  return { llm: { start: base, end: base + 14 }, embedding: { start: base + 15, end: base + 29 }, fallback: { start: base + 30, end: base + 39 } };
}

export async function startControlPlane(): Promise<ControlPlane> {
  const sageHome = tempDir('sage-cp-');
  const cp = await startControlPlaneServer({
    port: 0,
    auth: { apiKeys: [] },
    runtime: { sageHome, portRanges: randomRanges(), simTimeScale: 0.02, engineStopGraceMs: 2000 },
  });
  return {
    cp,
    url: cp.url,
    async stop() {
      await cp.close(2000);
      rmSync(sageHome, { recursive: true, force: true });
    },
  };
}

const temps: string[] = [];

export function tempDir(prefix = 'sage-gw-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface City {
  name: string;
  file: string;
  /** What it is known for (the fact of the first question). */
  famousFor: string;
  population: string;
}

export const CITIES: City[] = [
  { name: 'Aldoria', file: 'aldoria.md', famousFor: 'glass lighthouses', population: '48,000' },
  { name: 'Brevik', file: 'brevik.md', famousFor: 'copper bells', population: '112,500' },
  { name: 'Calloway', file: 'calloway.md', famousFor: 'floating gardens', population: '9,300' },
  { name: 'Dunmere', file: 'dunmere.txt', famousFor: 'salt caverns', population: '67,250' },
  { name: 'Esterholt', file: 'esterholt.md', famousFor: 'clockwork trams', population: '230,000' },
  { name: 'Faradine', file: 'faradine.md', famousFor: 'violet marble quarries', population: '15,800' },
  { name: 'Gorsmouth', file: 'gorsmouth.txt', famousFor: 'whale-bone arches', population: '3,400' },
  { name: 'Halvenby', file: 'halvenby.md', famousFor: 'paper lantern festival', population: '88,900' },
  { name: 'Istralle', file: 'istralle.md', famousFor: 'terraced tea hills', population: '41,600' },
  { name: 'Jorvale', file: 'jorvale.md', famousFor: 'amber observatory', population: '19,750' },
  { name: 'Kestrany', file: 'kestrany.md', famousFor: 'singing bridges', population: '150,300' },
  { name: 'Lunhaven', file: 'lunhaven.md', famousFor: 'moss-covered libraries', population: '27,100' },
];

export function cityText(c: City, i: number): string {
  if (c.file.endsWith('.txt')) {
    return `${c.name} is a small city famous for its ${c.famousFor}.\n\n${c.name} has a population of ${c.population} people.\n`;
  }
  // Every other Markdown file has sections, so heading paths are exercised too.
  return i % 2 === 0
    ? `# ${c.name}\n\n${c.name} is a city famous for its ${c.famousFor}.\n\n## People\n\n${c.name} has a population of ${c.population} people.\n`
    : `# ${c.name}\n\n${c.name} is a city famous for its ${c.famousFor}. ${c.name} has a population of ${c.population} people.\n`;
}

/** Writes the dozen city documents (and a file the gateway must pass over) into `dir`. */
export function writeCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  CITIES.forEach((c, i) => writeFileSync(path.join(dir, c.file), cityText(c, i)));
  writeFileSync(path.join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
}
