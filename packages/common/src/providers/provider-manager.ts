// ProviderManager (F-107, seed 003's Manager layer): the registry of providers and the single entry point
// to their model clients.
import { ProviderNotFoundError, ModelNotFoundError, LLMError } from '../types/errors';
import type { ModelClient } from './model-client';
import type { Provider } from './provider';

export class ProviderManager {
  private readonly providers = new Map<string, Provider>();

  registerProvider(provider: Provider, opts: { replace?: boolean } = {}): this {
    if (this.providers.has(provider.name) && !opts.replace) {
      throw new LLMError(`provider "${provider.name}" is already registered (pass { replace: true } to replace it)`);
    }
    this.providers.set(provider.name, provider);
    return this;
  }

  async unregisterProvider(name: string): Promise<void> {
    await this.providers.get(name)?.close();
    this.providers.delete(name);
  }

  hasProvider(name: string): boolean {
    return this.providers.has(name);
  }

  getProvider(name: string): Provider {
    const p = this.providers.get(name);
    if (!p) throw new ProviderNotFoundError(name, this.listProviders());
    return p;
  }

  listProviders(): string[] {
    return [...this.providers.keys()];
  }

  /** Every registered model as provider/model pairs, in registration order. */
  listModels(): Array<{ provider: string; model: string }> {
    return [...this.providers.values()].flatMap((p) => p.listModels().map((model) => ({ provider: p.name, model })));
  }

  /** The first provider serving `model`, and its client; undefined when none does. */
  findModel(model: string): { provider: Provider; client: ModelClient } | undefined {
    for (const provider of this.providers.values()) {
      if (provider.hasModel(model)) return { provider, client: provider.getClient(model) };
    }
    return undefined;
  }

  /** The client of `model` at `provider`. Throws ProviderNotFoundError / ModelNotFoundError. */
  getLlmClient(provider: string, model: string): ModelClient {
    const p = this.getProvider(provider);
    if (!p.hasModel(model)) throw new ModelNotFoundError(model, p.listModels());
    return p.getClient(model);
  }

  /** Availability of every model, per provider. */
  async healthCheck(timeoutMs?: number): Promise<Record<string, Record<string, boolean>>> {
    const entries = await Promise.all([...this.providers.values()].map(async (p) => [p.name, await p.healthCheck(timeoutMs)] as const));
    return Object.fromEntries(entries);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close()));
    this.providers.clear();
  }
}

let globalManager: ProviderManager | undefined;

/** The process-wide manager (created on first use). */
export function getManager(): ProviderManager {
  globalManager ??= new ProviderManager();
  return globalManager;
}

/** Drops the process-wide manager after closing it (tests, reconfiguration). */
export async function resetManager(): Promise<void> {
  await globalManager?.closeAll();
  globalManager = undefined;
}
