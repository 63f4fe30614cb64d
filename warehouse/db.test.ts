import { describe, expect, it } from 'vitest';
import { appendRowObjectsInTurns, defaultMemoryLimit, ROWS_PER_TURN, Warehouse } from './db.ts';
import { DoubleArena } from './double-arena.ts';

describe('Warehouse.open', () => {
  it('caps DuckDB\'s memory by default (a quarter of the machine, 1–8 GiB), and takes a configured cap instead', async () => {
    expect(defaultMemoryLimit(24 * 2 ** 30)).toBe('6144MiB');
    expect(defaultMemoryLimit(2 * 2 ** 30)).toBe('1024MiB');
    expect(defaultMemoryLimit(256 * 2 ** 30)).toBe('8192MiB');
    const saved = process.env.CIVIC_MEMORY_LIMIT;
    delete process.env.CIVIC_MEMORY_LIMIT;
    try {
      // DuckDB reports its cap in its own units (MiB as "… MiB", rounded): compare in bytes.
      const bytes = (s: string) => {
        const m = /^([\d.]+)\s*(KiB|MiB|GiB|TiB|KB|MB|GB|TB)$/.exec(s)!;
        const f = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2]]!;
        return Number(m[1]) * f;
      };
      const setting = async (wh: Warehouse) => String((await wh.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))!.v);
      const plain = await Warehouse.open(':memory:');
      expect(bytes(await setting(plain)) / bytes(defaultMemoryLimit())).toBeCloseTo(1, 1); // DuckDB shows one decimal ("5.9 GiB")
      plain.close();
      const capped = await Warehouse.open(':memory:', { memoryLimit: '512MiB' });
      expect(bytes(await setting(capped))).toBe(512 * 2 ** 20);
      capped.close();
    } finally {
      if (saved !== undefined) process.env.CIVIC_MEMORY_LIMIT = saved;
    }
  });
});

describe('Warehouse.allWithLists', () => {
  it('reads DOUBLE[] columns as Float64Arrays over many chunks, a NULL list as an empty one, the other columns as all() does', async () => {
    const wh = await Warehouse.open(':memory:');
    try {
      // 3,000 groups: two chunks of rows, each chunk's list elements read in one piece.
      const sql = `SELECT g, 'g' || g AS label,
          list(x / 4 ORDER BY x) AS quarters,
          list(x::DOUBLE) FILTER (WHERE g % 7 = 0 AND x < 0) AS none,
          list(x::DOUBLE ORDER BY x) FILTER (WHERE g % 2 = 0) AS evens
        FROM range(3000) a(g), range(1 + $n) b(x) WHERE x <= g % 5 GROUP BY g ORDER BY g`;
      const rows = await wh.allWithLists(sql, { n: 10 }, ['quarters', 'none', 'evens'] as const);
      const plain = await wh.all<Record<string, unknown>>(`SELECT g, label FROM (${sql})`, { n: 10 });
      expect(rows).toHaveLength(3000);
      rows.forEach((r, i) => {
        expect([r.g, r.label]).toEqual([plain[i].g, plain[i].label]);
        const want = Array.from({ length: (i % 5) + 1 }, (_, x) => x / 4);
        expect(Array.from(r.quarters)).toEqual(want);
        expect(r.none).toEqual(new Float64Array(0));
        expect(Array.from(r.evens)).toEqual(i % 2 === 0 ? want.map((q) => q * 4) : []);
      });
      // The same lists carved out of an arena's blocks: equal, and sharing its memory.
      const arena = new DoubleArena();
      const inArena = await wh.allWithLists(sql, { n: 10 }, ['quarters', 'none', 'evens'] as const, { arena });
      expect(inArena.map((r) => [Array.from(r.quarters), Array.from(r.none), Array.from(r.evens)]))
        .toEqual(rows.map((r) => [Array.from(r.quarters), Array.from(r.none), Array.from(r.evens)]));
      expect(inArena[1].quarters.buffer).toBe(inArena[2999].quarters.buffer);
      arena.release();
      // Refused, naming the column; the connection is usable after.
      await expect(wh.allWithLists('SELECT list(x) AS l FROM range(3) t(x)', {}, ['l'])).rejects.toThrow(/l is BIGINT\[\], not DOUBLE\[\]/);
      await expect(wh.allWithLists('SELECT 1 AS a', {}, ['b'])).rejects.toThrow(/no column b/);
      expect(await wh.one('SELECT 42 AS v')).toEqual({ v: 42 });
    } finally {
      wh.close();
    }
  });
});

describe('a pool of readers converts a large answer in turns of the event loop', () => {
  it('gives the loop back every ROWS_PER_TURN rows of a chunk, with the rows the node API would give', async () => {
    const wh = await Warehouse.open(':memory:');
    const sql = `SELECT i, 'x' || i AS label, i % 3 = 0 AS third, map(['a'], [i]) AS m, [i, i + 1] AS l FROM range(2048) t(i)`;
    try {
      const conn = wh.conn;
      const result = await conn.stream(sql);
      const chunk = (await result.fetchChunk())!;
      expect(chunk.rowCount).toBe(2048);
      const rows: Record<string, unknown>[] = [];
      // A task queued before the conversion runs once its first slice is done, not after the chunk.
      const seen: number[] = [];
      setImmediate(() => seen.push(rows.length));
      await appendRowObjectsInTurns(chunk, result.deduplicatedColumnNames(), rows);
      expect(seen).toEqual([ROWS_PER_TURN]);
      expect(rows).toEqual((await conn.runAndReadAll(sql)).getRowObjectsJson());
      // And through `all` on a pool (which has a row cap, so it streams): the same rows.
      const readers = await wh.readers({ connections: 1 });
      try {
        expect(await readers.all(sql)).toEqual(rows);
      } finally {
        readers.close();
      }
    } finally {
      wh.close();
    }
  });
});

describe('Warehouse.appendIntegers', () => {
  it('appends whole INTEGER columns in order, across vectors, and refuses columns of different lengths', async () => {
    const wh = await Warehouse.open(':memory:');
    try {
      await wh.run(`CREATE TEMP TABLE ints (a INTEGER, b INTEGER)`);
      // Two full vectors and a part of one, with the extremes of the type.
      const n = 2 * 2048 + 777;
      const a = Int32Array.from({ length: n }, (_, i) => i);
      const b = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -2147483648 : i % 3 === 1 ? 2147483647 : -i));
      await wh.appendIntegers('ints', [a, b]);
      await wh.appendIntegers('ints', [new Int32Array(0), new Int32Array(0)]);
      const rows = await wh.all<{ a: number; b: number }>(`SELECT a, b FROM ints ORDER BY rowid`);
      expect(rows.length).toBe(n);
      expect(rows.every((r, i) => r.a === a[i] && r.b === b[i])).toBe(true);
      await expect(wh.appendIntegers('ints', [new Int32Array(2), new Int32Array(3)])).rejects.toThrow(/columns of 2, 3 values/);
      expect((await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ints`))!.n).toBe(n);
    } finally {
      wh.close();
    }
  });
});

describe('Warehouse.allAsJson', () => {
  it('reads text, whole numbers, doubles, booleans and NULLs exactly as all() does, in the rows\' order, over many chunks, under the row cap', async () => {
    const wh = await Warehouse.open(':memory:');
    // Text JSON must escape (quotes, backslashes, control characters, non-ASCII, long values),
    // doubles that must come back to the bit, and rows numbered in an order that is not the
    // table's (rn from a descending sort), over 5,000 rows (three JSON texts of 2,048 rows).
    const texts = [`'plain'`, `'say "hi"'`, `'back\\slash'`, `'tab' || chr(9) || 'nl' || chr(10) || 'cr' || chr(13)`, `'ünïcödé – 😀'`, `repeat('long ', 40)`, `''`, `'=1+2,x'`, 'NULL'];
    const doubles = ['0.1 + 0.2', '1e-7', '-0.0', '123456789.123456789', '1/3', '2.0', '-1e300', '5e-324', 'NULL'];
    const sql = `SELECT t, n, d, b, row_number() OVER (ORDER BY i DESC) AS rn FROM (
      SELECT i, (CASE i % ${texts.length} ${texts.map((x, k) => `WHEN ${k} THEN ${x}`).join(' ')} END) || CASE WHEN i % 5 = 0 THEN '' ELSE i::VARCHAR END AS t,
             CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 - 20000)::INTEGER END AS n,
             (CASE i % ${doubles.length} ${doubles.map((x, k) => `WHEN ${k} THEN ${x}`).join(' ')} END)::DOUBLE * (1 + i) AS d,
             CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2 = 0 END AS b
      FROM range(5000) r(i))
      ORDER BY rn`;
    try {
      const want = (await wh.all<Record<string, unknown>>(sql)).map(({ rn: _rn, ...r }) => r);
      const got = await wh.allAsJson<Record<string, unknown>>(sql, {}, ['t', 'n', 'd', 'b']);
      expect(got).toHaveLength(5000);
      // Object.is, value by value: -0 and the last bit of every double too.
      let same = true;
      for (let i = 0; i < want.length && same; i++) for (const k of ['t', 'n', 'd', 'b']) same &&= Object.is(got[i][k], want[i][k]);
      expect(same).toBe(true);
      expect(got).toEqual(want);
      expect(Object.keys(got[0])).toEqual(['t', 'n', 'd', 'b']);
      // The row cap: exactly the cap is answered, one row fewer allowed is refused.
      const exact = await wh.readers({ connections: 1, maxQueryRows: 5000 });
      const under = await wh.readers({ connections: 1, maxQueryRows: 4999 });
      try {
        expect(await exact.allAsJson(sql, {}, ['t'])).toHaveLength(5000);
        await expect(under.allAsJson(sql, {}, ['t'])).rejects.toThrow(/more than 4,?999/);
        // The stream was ended: the connection answers the next question.
        expect(await under.one<{ x: number }>('SELECT 1 AS x')).toEqual({ x: 1 });
        // Columns JSON would not give back as they are are refused before the query runs; a
        // NaN fails the read, and the connection still answers after it.
        await expect(exact.allAsJson(`SELECT 9007199254740993::BIGINT AS big, 1 AS rn`, {}, ['big'])).rejects.toThrow(/big is BIGINT/);
        await expect(exact.allAsJson(`SELECT 1.50::DECIMAL(4,2) AS dec, 1 AS rn`, {}, ['dec'])).rejects.toThrow(/dec is DECIMAL/);
        await expect(exact.allAsJson(`SELECT 'x' AS t`, {}, ['t'])).rejects.toThrow(/no column rn/);
        await expect(exact.allAsJson(`SELECT CASE WHEN i = 4000 THEN 'NaN'::DOUBLE ELSE i END AS d, i + 1 AS rn FROM range(5000) r(i)`, {}, ['d'])).rejects.toThrow();
        expect(await exact.one<{ x: number }>('SELECT 1 AS x')).toEqual({ x: 1 });
      } finally {
        exact.close();
        under.close();
      }
    } finally {
      wh.close();
    }
  });
});
