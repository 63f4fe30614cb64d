// Delivery to a folder, and the atomic write every report file goes through: a temp name in the
// same folder, the bytes flushed to disk (fsync), then a rename — rename within one file system
// is atomic, so a reader (a file share, a sync job) sees the old file or the whole new one, never
// half a PDF. The folder itself is fsynced after the rename so the new name survives a crash.
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface ReportFile { name: string; body: Buffer }

function checkName(name: string): void {
  // A file name, never a path: report ids and periods are checked, but this is where it matters.
  if (!name || name !== basename(name) || name.startsWith('.')) throw new Error(`"${name}" is not a plain file name`);
}

const tempName = (path: string) => `${path}.${randomBytes(4).toString('hex')}.partial`;

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems (and Windows) cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `body` (bytes, or text chunks streamed one by one) to `dir/name` atomically; returns the path and size. */
export async function writeFileAtomic(dir: string, name: string, body: Buffer | AsyncIterable<string>): Promise<{ path: string; bytes: number }> {
  checkName(name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const tmp = tempName(path);
  const fh = await open(tmp, 'wx', 0o640);
  let bytes = 0;
  try {
    if (Buffer.isBuffer(body)) {
      await fh.writeFile(body);
      bytes = body.length;
    } else {
      for await (const chunk of body) {
        const b = Buffer.from(chunk, 'utf8');
        await fh.write(b);
        bytes += b.length;
      }
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    rmSync(tmp, { force: true });
    throw err;
  }
  await fh.close();
  renameSync(tmp, path);
  fsyncDir(dir);
  return { path, bytes };
}

/** Copies existing files into `dir` atomically (the folder recipient: the run's archived files). */
export function copyFilesAtomic(dir: string, files: { name: string; path: string }[]): string[] {
  mkdirSync(dir, { recursive: true });
  const out = files.map((f) => {
    checkName(f.name);
    const path = join(dir, f.name);
    const tmp = tempName(path);
    try {
      copyFileSync(f.path, tmp);
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return path;
  });
  fsyncDir(dir);
  return out;
}

/** Writes each file atomically (kept for callers with whole buffers). */
export function deliverToFolder(dir: string, files: ReportFile[]): string[] {
  mkdirSync(dir, { recursive: true });
  const out = files.map((f) => {
    checkName(f.name);
    const path = join(dir, f.name);
    const tmp = tempName(path);
    const fd = openSync(tmp, 'wx', 0o640);
    try {
      writeSync(fd, f.body);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, path);
    return path;
  });
  fsyncDir(dir);
  return out;
}
