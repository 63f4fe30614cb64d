// Delivery of rendered reports. A folder for now; e-mail and webhooks plug in beside it.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReportFile { name: string; body: Buffer }

/** Writes each file atomically (temp name, then rename) so a reader never sees half a PDF. */
export function deliverToFolder(dir: string, files: ReportFile[]): string[] {
  mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const path = join(dir, f.name);
    const tmp = `${path}.partial`;
    writeFileSync(tmp, f.body);
    renameSync(tmp, path);
    return path;
  });
}
