// Shared helpers for tests that run real sim engines as child processes (built output: the Nx test
// target builds first). Every engine started here is stopped by stopAll() in afterAll.
import { launchSimEngine, type LaunchOptions, type LaunchedEngine } from '../../src/testing';
import { metricValue } from '../../src/control-plane/manager';

const started: LaunchedEngine[] = [];

export async function startEngine(opts: LaunchOptions): Promise<LaunchedEngine> {
  const e = await launchSimEngine(opts);
  started.push(e);
  return e;
}

export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((e) => e.stop()));
}

export async function engineMetric(engine: LaunchedEngine, name: string): Promise<number> {
  const res = await fetch(`http://${engine.host}:${engine.port}/metrics`);
  return metricValue(await res.text(), name);
}

/** A chat request whose answer (sim-llm answers extractively from the system context) names `word`. */
export function factMessages(word: string) {
  return [
    { role: 'system', content: `Answer from this context. Context: The vault password is ${word}. The weather is mild.` },
    { role: 'user', content: 'What is the vault password?' },
  ];
}

export function answerOf(body: Record<string, unknown>): string {
  const choices = body.choices as Array<{ message?: { content?: string }; text?: string }>;
  return choices[0]?.message?.content ?? choices[0]?.text ?? '';
}
