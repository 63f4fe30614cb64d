/** Types of h3-keys.mjs. */
export interface CellKeys {
  /** Each point's cell: the last 13 hexadecimal digits of its index, as a number. */
  key: Float64Array<ArrayBuffer>;
  /** The first two digits, which every cell at one resolution shares ('' for no point). */
  prefix: string;
}
export function cellKeys(lat: ArrayLike<number>, lon: ArrayLike<number>, resolution: number): CellKeys;
export function cellName(prefix: string, key: number): string;
