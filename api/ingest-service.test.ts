// The server's one way to load data: what it keeps while the data does not change is dropped
// after every batch, landed or failed, before anything is computed ahead for the new data.
import { expect, it } from 'vitest';
import { IngestService } from './ingest-service.ts';
import { loadProfile } from '../ingest/profile.ts';
import { LA311_CSV, tempWarehouse } from '../test/helpers.ts';

it('tells its listeners after every batch: settled first (landed or failed), then landed; a listener that throws changes no result', async () => {
  const t = await tempWarehouse();
  const service = await IngestService.create(t.wh);
  try {
    const heard: string[] = [];
    service.onSettled(() => heard.push('settled'));
    service.onSettled(() => {
      throw new Error('a listener fails');
    });
    service.onLanded((r) => heard.push(`landed ${r.loaded}`));
    const bad = t.write('bad.json', '{"not": "a list"');
    await expect(service.run(bad, loadProfile('open311'))).rejects.toThrow();
    expect(heard).toEqual(['settled']);
    const r = await service.run(LA311_CSV, loadProfile('myla311'));
    expect(r.loaded).toBe(9999);
    expect(heard).toEqual(['settled', 'settled', 'landed 9999']);
  } finally {
    await service.close();
    t.cleanup();
  }
});
