// Kept for callers written before ingest took every format: see load.ts.
export { ingestFile, ingestCasesCsv, type IngestResult, type IngestOptions } from './load.ts';
