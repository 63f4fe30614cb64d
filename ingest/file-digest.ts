// The fingerprint of one ingest: the file's bytes and everything that decides how they are read
// (its name — the extension says the format and whether it is compressed —, the profile, the
// jurisdiction given, whose data it is recorded as). Two ingests with the same
// fingerprint into an unchanged warehouse load the same rows, reject the same rows for the same
// reasons and find nothing new the second time (load.ts relies on that to skip the work).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Profile } from './profile.ts';

/** JSON with object keys in sorted order, so the same profile always hashes the same. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** SHA-256 over the file (streamed: memory does not grow with it) and how it is to be read. */
export async function ingestDigest(file: string, profile: Profile, how: { jurisdiction?: string; recordAs?: string }): Promise<string> {
  const h = createHash('sha256');
  h.update(stableJson({ name: basename(file), profile, jurisdiction: how.jurisdiction ?? null, recordAs: how.recordAs ?? null }));
  h.update('\0');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
