// Public API of @sage/gateway (L6): the RAG pipeline and its HTTP gateway.
export { createGateway, defaultDataDir, DEFAULT_GATEWAY_PORT, type Gateway, type GatewayOptions } from './gateway';
export { GatewayClients, type ClientSettings, type EndpointSettings } from './clients';
export { GatewayError, toOpenAIError } from './errors';
export type { VectorStore, StoredChunk, ChunkRecord, SearchHit, DocumentInfo } from './store/vector-store';
export { LanceDBVectorStore } from './store/lancedb-store';
export { LoaderRegistry, markdownLoader, textLoader, type DocumentLoader, type LoadedDocument, type DocumentFormat } from './ingest/loaders';
export { chunkText, chunkingFingerprint, DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, type ChunkingOptions, type TextChunk } from './ingest/chunker';
export { collectFiles, type CollectedFiles, type CollectedFolder, type CollectOptions } from './ingest/collect';
export { Ingester, fileDocumentId, embeddingText, type Embedder, type IngestResult, type IngestedDocument, type IngestStatus, type RemovedDocument, type TextDocument } from './ingest/ingester';
export { Retriever, conversationQuery, DEFAULT_TOP_K, DEFAULT_MAX_QUERY_TOKENS, type RetrievalOptions } from './rag/retriever';
export { buildPassages, type Passage, type PassageOptions } from './rag/passages';
export { buildRagMessages, formatContext, citedPassages, DEFAULT_INSTRUCTIONS } from './rag/prompt';
export { resolveConversation, type Conversation } from './rag/conversation';
export { RagPipeline, toSources, type Source, type ChatTurn, type PreparedTurn, type TurnResult } from './rag/pipeline';
export { SessionStore, boundWindow, validateSessionId, DEFAULT_MAX_SESSION_MESSAGES, type Session, type SessionSummary } from './sessions/session-store';
export { buildApp, type AppOptions } from './server/app';
