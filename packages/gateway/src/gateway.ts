// createGateway(): the composition root. Opens the store under the data directory, wires ingestion,
// retrieval, sessions and the lazy model clients into the pipeline, and builds the HTTP app.
import { homedir } from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { GatewayClients, type ClientSettings } from './clients';
import { Ingester } from './ingest/ingester';
import { builtinLoaders, LoaderRegistry, type DocumentLoader } from './ingest/loaders';
import type { PdfLoaderOptions } from './ingest/pdf-loader';
import type { ChunkingOptions } from './ingest/chunker';
import { RagPipeline } from './rag/pipeline';
import { FUSION_DEFAULTS, type EmbedderProfile } from './rag/fusion-defaults';
import { Retriever, type RetrievalOptions } from './rag/retriever';
import type { PassageOptions } from './rag/passages';
import { buildApp } from './server/app';
import { DEFAULT_MAX_SESSION_MESSAGES, SessionStore } from './sessions/session-store';
import { LanceDBVectorStore } from './store/lancedb-store';
import type { VectorStore } from './store/vector-store';
import type { FastifyInstance } from 'fastify';

export const DEFAULT_GATEWAY_PORT = 8888;

export interface GatewayOptions extends ClientSettings {
  /** Where vectors and sessions live (default `$SAGE_HOME/gateway`, SAGE_HOME defaulting to ~/.sage). */
  dataDir?: string;
  /** A vector store to use instead of the embedded LanceDB one. */
  store?: VectorStore;
  /** Loaders for more file types (by extension; they override the built-in ones for the same extension). */
  loaders?: DocumentLoader[];
  /** Limits of the built-in PDF loader (parse timeout, memory of its thread). */
  pdf?: PdfLoaderOptions;
  chunking?: ChunkingOptions;
  /**
   * Retrieval defaults: `topK`, history blending, and hybrid retrieval (`mode`, `vectorWeight`, `fulltextWeight`,
   * `rrfK`, `candidates`). Fusion settings left unset follow the embedder in use (lexical or semantic).
   */
  retrieval?: RetrievalOptions;
  /** How retrieved chunks become passages (neighbour widening, context token budget). */
  passages?: PassageOptions;
  /** Messages kept per session besides the system prompt (default 20). */
  maxSessionMessages?: number;
  /** Replaces the default answering instructions in the system prompt. */
  instructions?: string;
  logger?: Logger;
  bodyLimit?: number;
  /**
   * Folders that `POST /v1/rag/ingest` with `paths` may read from (symlinks followed); others get 403.
   * Default: any path the process can read — fine on 127.0.0.1, set this before exposing the gateway.
   */
  ingestRoots?: string[];
}

export interface Gateway {
  app: FastifyInstance;
  pipeline: RagPipeline;
  dataDir: string;
  /** Starts listening (default 127.0.0.1:8888; port 0 picks a free one). */
  listen(opts?: { port?: number; host?: string }): Promise<{ url: string; port: number }>;
  /** Stops accepting requests, lets in-flight ones finish, closes the store. */
  close(): Promise<void>;
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const sageHome = env.SAGE_HOME && env.SAGE_HOME.trim() !== '' ? env.SAGE_HOME : path.join(homedir(), '.sage');
  return path.join(sageHome, 'gateway');
}

function defaultLogger(): Logger {
  const level = process.env.SAGE_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  return pino({ level, name: 'sage-gateway' });
}

/** The embedder's profile, logged each time a new one is read (the fusion defaults it brings). */
function embedderProfile(clients: GatewayClients, logger: Logger): () => Promise<EmbedderProfile> {
  let logged: EmbedderProfile | undefined;
  return async () => {
    const profile = await clients.embeddingProfile();
    if (profile !== logged) {
      logged = profile;
      logger.info({ model: profile.model, family: profile.family, reason: profile.reason, fusionDefaults: FUSION_DEFAULTS[profile.family] }, `${profile.family} embedder: hybrid retrieval defaults to its fusion`);
    }
    return profile;
  };
}

export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir(options.detect?.env ?? process.env));
  const logger = options.logger ?? defaultLogger();
  const store = options.store ?? (await LanceDBVectorStore.open(path.join(dataDir, 'vectors')));
  const clients = new GatewayClients(options);
  const embedder = () => clients.getEmbedding();
  const loaders = new LoaderRegistry([...builtinLoaders({ pdf: options.pdf }), ...(options.loaders ?? [])]);
  const pipeline = new RagPipeline(
    store,
    new Ingester(store, loaders, embedder, options.chunking, options.ingestRoots),
    new Retriever(store, embedder, options.retrieval, embedderProfile(clients, logger)),
    new SessionStore(path.join(dataDir, 'sessions'), options.maxSessionMessages ?? DEFAULT_MAX_SESSION_MESSAGES),
    clients,
    options.instructions,
    options.passages,
  );
  const app = buildApp({ pipeline, logger, bodyLimit: options.bodyLimit });
  let closed = false;
  return {
    app,
    pipeline,
    dataDir,
    async listen({ port = DEFAULT_GATEWAY_PORT, host = '127.0.0.1' } = {}) {
      await app.listen({ port, host });
      const addr = app.server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      logger.info({ port: actual, host, dataDir }, 'gateway listening');
      return { url: `http://${shownHost}:${actual}`, port: actual };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await loaders.close();
      await store.close();
    },
  };
}
