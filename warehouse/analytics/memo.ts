// Answers that depend only on the data, kept until the data changes. A dashboard asks the same
// questions again and again (every manager's overview is the same KPI table); computing each
// afresh cost a second or more a panel on a big city. An answer is kept per warehouse under a
// key naming everything it depends on (parameters, window, scope) and dropped, all at once, as
// soon as the data version changes (a batch lands, areas or services load): it can never be
// stale. Failed computations are not kept. Bounded by a weight (rows kept), least recently
// used first out.
import type { Warehouse } from '../db.ts';
import { dataVersion } from './dimensions.ts';

interface Entry { value: Promise<unknown>; weight: number }
interface Store { version: string; entries: Map<string, Entry>; weight: number }
const stores = new WeakMap<Warehouse, Store>();

/** Rows (or other units) the kept answers of one warehouse may hold in all: a KPI row with its
 * 49 measures is about a kilobyte of heap, so about 50 MB at most. */
export const MEMO_MAX_WEIGHT = 50_000;

/**
 * `fn()`'s answer for `key` under the current data, computed once per data version (concurrent
 * callers share one computation). `weigh` says how big an answer is (default 1).
 */
export async function memoByData<T>(wh: Warehouse, key: string, fn: () => Promise<T>, weigh: (v: T) => number = () => 1): Promise<T> {
  const version = await dataVersion(wh);
  let s = stores.get(wh);
  if (!s || s.version !== version) stores.set(wh, (s = { version, entries: new Map(), weight: 0 }));
  const store = s;
  const hit = store.entries.get(key);
  if (hit) {
    store.entries.delete(key); // most recently used last
    store.entries.set(key, hit);
    return hit.value as Promise<T>;
  }
  const entry: Entry = { value: fn(), weight: 0 };
  store.entries.set(key, entry);
  try {
    const v = (await entry.value) as T;
    entry.weight = Math.max(1, weigh(v));
    if (store.entries.get(key) === entry) {
      store.weight += entry.weight;
      for (const [k, e] of store.entries) {
        if (store.weight <= MEMO_MAX_WEIGHT || e === entry) break;
        store.entries.delete(k);
        store.weight -= e.weight;
      }
    }
    return v;
  } catch (err) {
    if (store.entries.get(key) === entry) store.entries.delete(key);
    throw err;
  }
}

/** A key from the values an answer depends on (order of object keys does not matter). */
export function memoKey(name: string, ...parts: unknown[]): string {
  const norm = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, norm(x)]))
      : Array.isArray(v) ? v.map(norm) : v;
  return `${name}:${JSON.stringify(parts.map(norm))}`;
}
