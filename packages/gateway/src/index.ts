// Public API of @sage/gateway (L6): the RAG gateway, grouped by what a consumer does. A name not listed here is
// internal (chunking, retrieval, prompt and session helpers): the package's own tests reach those by relative
// path. tests/api-report.test.ts keeps this list and api/exports.txt together.

// Run a gateway in-process (the `sage-gateway` bin does the same from the command line).
export { createGateway, defaultDataDir, DEFAULT_GATEWAY_PORT, type Gateway, type GatewayOptions } from './gateway';
export type { ClientSettings, EndpointSettings } from './clients';
export type { RagPipeline, Source, ChatTurn, PreparedTurn, TurnResult } from './rag/pipeline';
export type { IngestResult, IngestedDocument, IngestStatus, RemovedDocument, TextDocument, FailedFile } from './ingest/ingester';
export type { ChunkingOptions } from './ingest/chunker';
export type { RetrievalOptions, RetrievalMode, RetrieverName, EffectiveRetrieval } from './rag/retriever';
export { FUSION_DEFAULTS, type EmbedderFamily, type EmbedderProfile, type FusionSettings } from './rag/fusion-defaults';
export type { PassageOptions } from './rag/passages';
export type { PdfLoaderOptions } from './ingest/pdf-loader';
export type { Session, SessionSummary } from './sessions/session-store';
export { DEFAULT_INSTRUCTIONS } from './rag/prompt';
export { GatewayError } from './errors';

// Extend it: another vector store (the `store` option) and loaders for more file types (the `loaders` option).
export type { VectorStore, StoredChunk, ChunkRecord, SearchHit, DocumentInfo, WeightedText } from './store/vector-store';
export { LanceDBVectorStore } from './store/lancedb-store';
export { LoadError, type DocumentLoader, type LoadedDocument, type DocumentFormat, type DocumentMetadata, type LoadErrorCode } from './ingest/document';
export { markdownLoader, textLoader } from './ingest/loaders';

// Read documents as the gateway does, outside an ingestion: the built-in loaders by file extension.
export { LoaderRegistry, builtinLoaders, type BuiltinLoaderOptions } from './ingest/loaders';
