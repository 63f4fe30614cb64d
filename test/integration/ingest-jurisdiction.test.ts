// The jurisdiction belongs to the data: the first real ingest records whose data it is and its time
// zone; the demo city's name never labels a real city's data; an ingest in another zone warns.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { seedDemoCity } from '../../ingest/demo-city.ts';
import { recordedJurisdiction, resolveJurisdiction } from '../../warehouse/analytics/jurisdiction.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

const FROM_DATA = { jurisdiction: null, timezone: null };
const NYC = fixture('nyc311/nyc311_2011_sample_2000.csv');
const CHICAGO = fixture('open311/chicago_open311_requests_2014_sample.json');

describe('the jurisdiction, from the data', () => {
  let t: TempWarehouse;
  beforeEach(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterEach(() => t.cleanup());

  it('LA into a fresh warehouse: City of Los Angeles, cut in Los Angeles time', async () => {
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: '(no data yet)', timezone: 'UTC', source: 'default' });
    const r = await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    expect(r.warnings).toEqual([]);
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toEqual({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest', timezone_source: 'ingest' });
    expect(await recordedJurisdiction(t.wh)).toMatchObject({ batch_id: r.batch_id });
    // Configuration, when set, still wins.
    expect(await resolveJurisdiction(t.wh, { jurisdiction: 'Los Angeles (staging)', timezone: null })).toMatchObject({ name: 'Los Angeles (staging)', timezone: 'America/Los_Angeles', source: 'config' });
  });

  it('the demo city, then LA: the LA name wins, and the mix is pointed out', async () => {
    await seedDemoCity(t.wh, { weeks: 2, scale: 0.2 });
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo' });
    const r = await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest' });
    expect(r.warnings).toEqual([
      `This warehouse also holds the demo city's data ("Riverton (demo city)"), which now counts as City of Los Angeles's: ` +
        'to keep them apart, load real exports into a warehouse of their own (--database / CIVIC_DATABASE).',
    ]);
  });

  it('LA, then the demo city: LA stays', async () => {
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    await seedDemoCity(t.wh, { weeks: 2, scale: 0.2 });
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest' });
  });

  it('an ingest in another time zone warns, and changes nothing recorded', async () => {
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    const r = await ingestFile(t.wh, NYC, loadProfile('nyc311'));
    expect(r.loaded).toBe(2000);
    expect(r.warnings).toEqual([
      'This file\'s times were read in America/New_York (profile "nyc311"), but the warehouse\'s time zone is America/Los_Angeles (City of Los Angeles): ' +
        'its days, weeks and months are cut in America/Los_Angeles. If it belongs to another city, load it into a warehouse of its own.',
      "This file is New York City's, but the warehouse holds City of Los Angeles's data: their figures will be counted together.",
    ]);
    expect(await recordedJurisdiction(t.wh)).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles' });
    // The same zone and name again: nothing to say.
    expect((await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'))).warnings).toEqual([]);
  });

  it('the name given with the ingest (civic ingest --jurisdiction) beats the profile\'s; --timezone is the profile\'s zone', async () => {
    const profile = loadProfile('open311');
    profile.timezone = 'America/Chicago';
    const r = await ingestFile(t.wh, CHICAGO, profile, { jurisdiction: 'City of Chicago' });
    expect(r.warnings).toEqual([]);
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: 'City of Chicago', timezone: 'America/Chicago', source: 'ingest' });
  });

  it('a profile that names no jurisdiction (generic Open311, UTC): recorded from its source, with what to do about it', async () => {
    const r = await ingestFile(t.wh, CHICAGO, loadProfile('open311'));
    expect(await resolveJurisdiction(t.wh, FROM_DATA)).toMatchObject({ name: 'open311', timezone: 'UTC', source: 'ingest' });
    expect(r.warnings).toEqual([
      'The warehouse\'s time zone is now UTC, from profile "open311": days, weeks and months will be cut in UTC. ' +
        'If open311 is elsewhere, give its zone (--timezone, or "timezone" in civic.config.json).',
      'The jurisdiction is recorded as "open311" (the profile\'s source): give its real name with --jurisdiction, or "jurisdiction" in civic.config.json.',
    ]);
  });

  it('reference data (services) and a batch that loads nothing record nothing', async () => {
    await ingestFile(t.wh, fixture('open311/spec_v2/xml-service-list.xml'), loadProfile('open311-services'));
    expect(await recordedJurisdiction(t.wh)).toBeNull();
    const empty = t.write('dup.csv', 'SRNumber,CreatedDate\nX,not a date\n');
    const profile = { ...loadProfile('myla311'), columns: { case_id: 'SRNumber', opened_at: 'CreatedDate' }, keep: [] };
    expect(await ingestFile(t.wh, empty, profile)).toMatchObject({ loaded: 0, rejected: 1 });
    expect(await recordedJurisdiction(t.wh)).toBeNull();
  });
});
