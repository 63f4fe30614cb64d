// A watched inbox: drop an export into <inbox>/<profile>/ and the running server loads it, then
// moves it to done/ or failed/ with a report beside it. A folder with its own profile.json uses
// that profile; otherwise the folder's name must be a built-in profile.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInProfiles, loadProfile, type Profile } from '../ingest/profile.ts';
import type { IngestService } from './ingest-service.ts';

interface Log { info: (o: object, m: string) => void; error: (o: object, m: string) => void }
export interface Inbox { scan(): Promise<number>; stop(): Promise<void> }

const IGNORED = /^\.|\.(partial|tmp|crdownload|part)$|\.report\.json$|^profile\.json$|^README/i;

export function startInbox(dir: string, ingest: IngestService, log: Log, pollSeconds: number): Inbox {
  mkdirSync(dir, { recursive: true });
  const readme = join(dir, 'README.txt');
  if (!existsSync(readme)) {
    writeFileSync(readme, `Drop exports into a folder named after a mapping profile, e.g. ${join(dir, 'myla311')}/requests.csv.\n` +
      `Built-in profiles: ${builtInProfiles().join(', ')}. A folder with its own profile.json uses that profile.\n` +
      'Files are loaded in name order and moved to done/ or failed/ with a .report.json beside them.\n');
  }
  const seen = new Map<string, string>(); // path → "size:mtime" at the last look
  let running: Promise<number> | null = null;
  let stopped = false;

  async function scanOnce(): Promise<number> {
    let processed = 0;
    for (const folder of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
      const base = join(dir, folder);
      let profile: Profile;
      try {
        if (existsSync(join(base, 'profile.json'))) profile = loadProfile(join(base, 'profile.json'));
        else if (builtInProfiles().includes(folder)) profile = loadProfile(folder);
        else continue;
      } catch (err) {
        log.error({ folder, err: (err as Error).message }, 'inbox folder has an invalid profile.json');
        continue;
      }
      for (const name of readdirSync(base, { withFileTypes: true }).filter((d) => d.isFile() && !IGNORED.test(d.name)).map((d) => d.name).sort()) {
        const path = join(base, name);
        const st = statSync(path);
        const sig = `${st.size}:${st.mtimeMs}`;
        // Only a file that has not changed since the last look is complete: it may still be copying.
        if (seen.get(path) !== sig) {
          seen.set(path, sig);
          continue;
        }
        seen.delete(path);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        try {
          const result = await ingest.run(path, profile);
          moveWithReport(base, 'done', name, stamp, { status: 'loaded', profile: profile.name, ...result, file: name });
          log.info({ file: name, batch: result.batch_id, loaded: result.loaded, rejected: result.rejected, warnings: result.warnings }, 'inbox file loaded');
        } catch (err) {
          moveWithReport(base, 'failed', name, stamp, { status: 'failed', profile: profile.name, file: name, error: (err as Error).message });
          log.error({ file: name, err: (err as Error).message }, 'inbox file failed');
        }
        processed++;
      }
    }
    return processed;
  }

  const scan = () => {
    running ??= scanOnce().finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void scan().catch((err) => log.error({ err }, 'inbox scan failed'));
  }, pollSeconds * 1000);
  return {
    scan,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

function moveWithReport(base: string, to: 'done' | 'failed', name: string, stamp: string, report: object) {
  const target = join(base, to);
  mkdirSync(target, { recursive: true });
  const dest = join(target, `${stamp}_${name}`);
  renameSync(join(base, name), dest);
  writeFileSync(`${dest}.report.json`, JSON.stringify(report, null, 2) + '\n');
}
