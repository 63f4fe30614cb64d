// The demo city, "Riverton": a deterministic (seeded) but realistic year of 311 data —
// districts as polygons, services with SLA targets, weekday and annual seasonality, several
// channels, contacts and surveys — plus a manifest of what was planted on purpose (a hot-spot,
// a rising trend, an anomaly week, a slow district) for the detectors to find.
import * as turf from '@turf/turf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Feature, Polygon } from 'geojson';
import type { Warehouse } from '../warehouse/db.ts';
import { ingestFile, type IngestResult } from './load.ts';
import { loadProfile } from './profile.ts';
import { normal, pick, poisson, seededRandom } from './random.ts';
import { localToUtcMs, zoneOffsetMs } from './time-zone.ts';

export const DEMO_TIMEZONE = 'America/New_York';
/** The demo city's name: recorded as the demo's, so a real ingest replaces it. */
export const DEMO_JURISDICTION = 'Riverton (demo city)';

export interface DemoOptions {
  seed?: number;
  /** Local date (YYYY-MM-DD) the data runs up to, exclusive; the extract time. */
  end?: string;
  weeks?: number;
  /** Multiplies every service's volume (1 ≈ 40,000 cases a year). */
  scale?: number;
}

export interface DemoManifest {
  seed: number;
  start: string;
  end: string;
  timezone: string;
  cases: number;
  hotspot: { service_code: string; district: string; lat: number; lon: number; radius_m: number; extra_cases: number };
  rising_trend: { service_code: string; district: string; from_week: string; weekly_rate_start: number; weekly_rate_end: number };
  anomaly_week: { service_code: string; week_start: string; multiplier: number };
  slow_area: { district: string; duration_multiplier: number };
  contact_centre: ContactCentreManifest;
}

/** What the demo's call handling looks like, and the improvement planted in it. */
export interface ContactCentreManifest {
  teams: string[];
  /** Phone calls outside these local hours (Monday–Friday), and all weekend, go to the evening team. */
  office_hours: { from_hour: number; to_hour: number };
  improvement: {
    team: string;
    channel: 'phone';
    /** Local day (a Monday) from which the team answers faster: calls started from its midnight on. */
    date: string;
    /** The generator's mean wait of the team's answered inbound phone calls, before and after. */
    asa_before_seconds: number;
    asa_after_seconds: number;
    /** What was written: the team's answered inbound phone calls started on local days [start, date) and [date, end). */
    observed: { before: { answered: number; mean_wait_seconds: number }; after: { answered: number; mean_wait_seconds: number } };
  };
}

interface DemoService {
  code: string; name: string; agency: string; group: string; sla_hours: number; daily: number; median_share: number; peak_month?: number;
  /** On-time target (a share), written to services.csv only: it changes no generated case. */
  on_time_target: number;
}

export const DEMO_SERVICES: readonly DemoService[] = [
  // No annual cycle for potholes: the rising trend planted in one district is their only change.
  { code: 'POTHOLE', name: 'Pothole Repair', agency: 'Streets', group: 'Streets & Sidewalks', sla_hours: 72, daily: 14, median_share: 0.55, on_time_target: 0.85 },
  { code: 'STREETLIGHT', name: 'Streetlight Out', agency: 'Streets', group: 'Streets & Sidewalks', sla_hours: 120, daily: 6, median_share: 0.6, peak_month: 11, on_time_target: 0.85 },
  { code: 'TRASH', name: 'Missed Trash Pickup', agency: 'Sanitation', group: 'Waste', sla_hours: 48, daily: 18, median_share: 0.5, on_time_target: 0.85 },
  { code: 'BULKY', name: 'Bulky Item Pickup', agency: 'Sanitation', group: 'Waste', sla_hours: 168, daily: 15, median_share: 0.5, peak_month: 6, on_time_target: 0.85 },
  { code: 'DUMPING', name: 'Illegal Dumping', agency: 'Sanitation', group: 'Waste', sla_hours: 96, daily: 9, median_share: 0.65, on_time_target: 0.85 },
  { code: 'GRAFFITI', name: 'Graffiti Removal', agency: 'Public Works', group: 'Clean City', sla_hours: 96, daily: 8, median_share: 0.45, peak_month: 7, on_time_target: 0.85 },
  { code: 'NOISE', name: 'Noise Complaint', agency: 'Code Enforcement', group: 'Quality of Life', sla_hours: 24, daily: 12, median_share: 0.7, peak_month: 7, on_time_target: 0.8 },
  { code: 'TREE', name: 'Tree Maintenance', agency: 'Parks', group: 'Parks & Trees', sla_hours: 336, daily: 5, median_share: 0.55, peak_month: 5, on_time_target: 0.85 },
  { code: 'WATERLEAK', name: 'Water Leak', agency: 'Water', group: 'Water', sla_hours: 24, daily: 5, median_share: 0.6, peak_month: 1, on_time_target: 0.9 },
];

const CHANNELS = ['phone', 'web', 'app', 'email', 'walk_in', 'social'] as const;
const CHANNEL_WEIGHTS = [44, 24, 22, 5, 3, 2];
const WEEKDAY_FACTOR = [0.55, 1.2, 1.15, 1.1, 1.1, 1.05, 0.7]; // Sun..Sat
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 9, 10, 10, 9, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2.5, 2, 1.5];
const BBOX: [number, number, number, number] = [-77.45, 41.1, -77.15, 41.3];

// Call handling. Districts 1–4 (the northern half: they are numbered north to south) are served
// by the north centre, 5–8 by the south one; phone calls out of office hours by the evening team;
// web, app, e-mail and social contacts by the digital team (they queue for no one: no wait). A
// walk-in is served at the counter of its district's centre, with a queue wait of its own.
export const DEMO_TEAMS = { north: 'Contact Centre North', south: 'Contact Centre South', evening: 'Evening Team', digital: 'Digital Team' } as const;
const OFFICE_HOURS = { from_hour: 7, to_hour: 19 };
/** The planted improvement: the north centre's phone answer times fall from about 15 to about 6 minutes. */
const IMPROVED_TEAM = DEMO_TEAMS.north;
const ASA_BEFORE_S = 900;
const ASA_AFTER_S = 360;
/** Mean wait of answered calls of the other teams, and of the counters' queues (seconds). */
const ASA_S = { south: 150, evening: 240, counter: 300 };
/** Share of calls an agent is free for at once (answered within 30 s): fewer while a queue is long. */
const ANSWERED_AT_ONCE = { slow: 0.05, improved: 0.3, usual: 0.4 };

function csvLine(values: readonly (string | number | null)[]): string {
  return values.map((v) => (v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v))).join(',');
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function districts(rand: () => number) {
  const seeds = turf.featureCollection(
    Array.from({ length: 8 }, () => turf.point([BBOX[0] + 0.03 + rand() * 0.24, BBOX[1] + 0.02 + rand() * 0.16])),
  );
  const cells = turf.voronoi(seeds, { bbox: BBOX }).features.filter((f): f is Feature<Polygon> => Boolean(f));
  // Order west→east, north→south so "District 1" is stable and readable on a map.
  cells.sort((a, b) => turf.centroid(b).geometry.coordinates[1] - turf.centroid(a).geometry.coordinates[1]);
  return cells.map((polygon, i) => ({
    id: `D${i + 1}`,
    name: `District ${i + 1}`,
    population: 15000 + Math.round(rand() * 55000),
    polygon,
    bbox: turf.bbox(polygon),
  }));
}

type District = ReturnType<typeof districts>[number];

function pointIn(rand: () => number, d: District): [number, number] {
  for (;;) {
    const lon = d.bbox[0] + rand() * (d.bbox[2] - d.bbox[0]);
    const lat = d.bbox[1] + rand() * (d.bbox[3] - d.bbox[1]);
    if (turf.booleanPointInPolygon([lon, lat], d.polygon)) return [lat, lon];
  }
}

export interface DemoCity { manifest: DemoManifest; dir: string; files: { services: string; cases: string; events: string; interactions: string; surveys: string }; districts: District[] }

/** Writes the demo city's exports (CSV) into a fresh temp folder. Pure function of the options. */
export function generateDemoCity(options: DemoOptions = {}): DemoCity {
  const seed = options.seed ?? 311;
  const end = options.end ?? '2026-11-16';
  const weeks = options.weeks ?? 52;
  const scale = options.scale ?? 1;
  const rand = seededRandom(seed);
  const [ey, em, ed] = end.split('-').map(Number);
  const endMs = localToUtcMs(DEMO_TIMEZONE, ey, em, ed);
  const startDay = new Date(Date.UTC(ey, em - 1, ed - weeks * 7));
  const ds = districts(rand);

  const hotDistrict = ds[2];
  const hotCentre = turf.centroid(hotDistrict.polygon).geometry.coordinates as [number, number];
  const risingDistrict = ds[3];
  const slowDistrict = ds[5];
  const anomalyWeekIndex = weeks - 12;
  const risingFromWeek = Math.floor(weeks / 2);
  const popTotal = ds.reduce((s, d) => s + d.population, 0);

  const cases: string[] = [csvLine(['request_id', 'service_code', 'service_name', 'agency', 'channel', 'status', 'requested_at', 'closed_at', 'lat', 'lon', 'district'])];
  const contacts: string[] = [csvLine(['interaction_id', 'case_id', 'channel', 'direction', 'started_at', 'ended_at', 'wait_seconds', 'handle_seconds', 'outcome', 'team', 'caller_id'])];
  const trail: string[] = [csvLine(['request_id', 'event', 'at'])];
  // A second stream for the event trails, so adding them did not move any other number of the city.
  const trailRand = seededRandom(seed + 1);
  const surveys: string[] = [csvLine(['response_id', 'case_id', 'interaction_id', 'answered_at', 'csat', 'nps', 'trust'])];
  // A third stream for call handling (teams, waits, handle times, when an abandoned call hung up):
  // drawing them from `rand` would have moved every case, contact and survey after the first call.
  // Offset 3, not 2: with 2, the south counter's steady waits happened to test as a falling trend
  // (Mann–Kendall p = 0.002), a false finding beside the one planted on purpose.
  const ccRand = seededRandom(seed + 3);
  // What agents record as the first contact's outcome: a stream of its own again, so nothing else moves.
  const fcrRand = seededRandom(seed + 4);
  const improvedFromWeek = Math.round((weeks * 2) / 3);
  const improvedFromMs = (() => {
    const d = new Date(startDay.getTime() + improvedFromWeek * 7 * 86400000);
    return localToUtcMs(DEMO_TIMEZONE, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  })();
  const startMs = localToUtcMs(DEMO_TIMEZONE, startDay.getUTCFullYear(), startDay.getUTCMonth() + 1, startDay.getUTCDate());
  const observed = { before: { answered: 0, wait: 0 }, after: { answered: 0, wait: 0 } };
  /** Gamma(2): less skewed than an exponential, as queue waits are; mean `mean`. */
  const gamma2 = (mean: number) => (-Math.log(1 - ccRand()) - Math.log(1 - ccRand())) * (mean / 2);
  const exp = (mean: number) => -Math.log(1 - ccRand()) * mean;
  /** A call's wait: at once (0–30 s) with probability `atOnce`, else queued; `mean` over both. */
  const callWait = (mean: number, atOnce: number) => (ccRand() < atOnce ? ccRand() * 30 : gamma2((mean - atOnce * 15) / (1 - atOnce)));
  const outOfHours = (ms: number) => {
    const local = new Date(ms + zoneOffsetMs(ms, DEMO_TIMEZONE));
    const wd = local.getUTCDay();
    const h = local.getUTCHours();
    return wd === 0 || wd === 6 || h < OFFICE_HOURS.from_hour || h >= OFFICE_HOURS.to_hour;
  };
  /** An answered queued contact (a call, or a walk-in at a counter): team, wait and handle time. */
  const answered = (channel: string, startedMs: number, dist: District, kind: 'case_created' | 'status_enquiry') => {
    if (channel !== 'phone' && channel !== 'walk_in') return { team: DEMO_TEAMS.digital, wait: null, handle: null };
    const regional = ds.indexOf(dist) < ds.length / 2 ? DEMO_TEAMS.north : DEMO_TEAMS.south;
    if (channel === 'walk_in') return { team: regional, wait: Math.round(gamma2(ASA_S.counter)), handle: Math.round(240 + exp(300)) };
    const team = outOfHours(startedMs) ? DEMO_TEAMS.evening : regional;
    const improved = startedMs >= improvedFromMs;
    const mean = team === IMPROVED_TEAM ? (improved ? ASA_AFTER_S : ASA_BEFORE_S) : team === DEMO_TEAMS.evening ? ASA_S.evening : ASA_S.south;
    const wait = Math.round(callWait(mean, team !== IMPROVED_TEAM ? ANSWERED_AT_ONCE.usual : improved ? ANSWERED_AT_ONCE.improved : ANSWERED_AT_ONCE.slow));
    if (team === IMPROVED_TEAM && startedMs >= startMs && startedMs < endMs) {
      const o = improved ? observed.after : observed.before;
      o.answered++;
      o.wait += wait;
    }
    const handle = Math.round((kind === 'case_created' ? 180 + exp(240) : 60 + exp(120)) * (team === DEMO_TEAMS.evening ? 1.1 : 1));
    return { team, wait, handle };
  };
  let n = 0;
  let hotExtra = 0;
  let interactionSeq = 0;
  const iso = (ms: number) => new Date(ms).toISOString();

  for (let day = 0; day < weeks * 7; day++) {
    const date = new Date(startDay.getTime() + day * 86400000);
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const week = Math.floor(day / 7);
    const weekday = date.getUTCDay();
    for (const svc of DEMO_SERVICES) {
      const season = svc.peak_month ? 1 + 0.2 * Math.cos(((m - svc.peak_month) / 12) * 2 * Math.PI) : 1;
      for (const dist of ds) {
        let mean = svc.daily * scale * WEEKDAY_FACTOR[weekday] * season * (dist.population / popTotal);
        if (svc.code === 'POTHOLE' && dist === risingDistrict && week >= risingFromWeek) mean *= 1 + (3 * (week - risingFromWeek)) / (weeks - risingFromWeek);
        if (svc.code === 'TRASH' && week === anomalyWeekIndex) mean *= 3;
        let count = poisson(rand, mean);
        const hot = svc.code === 'DUMPING' && dist === hotDistrict ? poisson(rand, 2.5 * scale * WEEKDAY_FACTOR[weekday]) : 0;
        count += hot;
        for (let i = 0; i < count; i++) {
          const inHotspot = i >= count - hot;
          const [lat, lon] = inHotspot
            ? (() => {
                const p = turf.destination(hotCentre, Math.abs(normal(rand)) * 0.15, rand() * 360, { units: 'kilometers' }).geometry.coordinates;
                return [p[1], p[0]] as [number, number];
              })()
            : pointIn(rand, dist);
          if (inHotspot) hotExtra++;
          const hour = pick(rand, HOUR_WEIGHTS.map((_, h) => h), HOUR_WEIGHTS);
          const opened = localToUtcMs(DEMO_TIMEZONE, y, m, d, hour, Math.floor(rand() * 60), Math.floor(rand() * 60));
          if (opened >= endMs) continue;
          const channel = pick(rand, CHANNELS, CHANNEL_WEIGHTS);
          const slow = dist === slowDistrict ? 2.2 : 1;
          const hoursToClose = svc.sla_hours * svc.median_share * slow * Math.exp(0.85 * normal(rand));
          const cancelled = rand() < 0.02;
          const closed = opened + (cancelled ? rand() * 6 : hoursToClose) * 3600000;
          const ended = closed < endMs;
          const status = !ended ? 'open' : cancelled ? 'cancelled' : 'closed';
          n++;
          const id = `RVT-${String(n).padStart(7, '0')}`;
          cases.push(csvLine([id, svc.code, svc.name, svc.agency, channel, status, iso(opened), ended ? iso(closed) : null, lat.toFixed(6), lon.toFixed(6), dist.name]));
          if (!cancelled) {
            // The work in between: acknowledged, a crew assigned; now and then reopened and closed again.
            const ack = opened + Math.min(2, hoursToClose * 0.1) * 3600000 * trailRand();
            const assign = opened + hoursToClose * (0.15 + 0.2 * trailRand()) * 3600000;
            if (ack < endMs) trail.push(csvLine([id, 'acknowledged', iso(ack)]));
            if (assign < endMs && assign < closed) trail.push(csvLine([id, 'assigned', iso(assign)]));
            if (ended && trailRand() < 0.03) {
              const reopened = closed + (1 + 4 * trailRand()) * 86400000;
              const reclosed = reopened + (1 + 2 * trailRand()) * 86400000;
              if (reopened < endMs) trail.push(csvLine([id, 'reopened', iso(reopened)]));
              if (reclosed < endMs) trail.push(csvLine([id, 'closed', iso(reclosed)]));
            }
          }

          // The contact that opened the case, and a chase when it runs late.
          const citizen = `c${Math.floor(rand() * 1e9).toString(36)}`;
          const phone = channel === 'phone';
          // These two draws set when the call started (as they always have: the case and contact
          // figures read that time); its wait and handle time now come from the call-handling stream.
          const firstWait = phone ? Math.round(-Math.log(1 - rand()) * 40) : 0;
          const firstHandle = phone ? Math.round(120 + -Math.log(1 - rand()) * 150) : 0;
          const firstId = `I${++interactionSeq}`;
          const started = opened - (firstWait + firstHandle) * 1000;
          // The case keeps its opening time from the main stream, so with a long wait it can be
          // stamped before its call was answered: the price of leaving every case figure as it was.
          const first = answered(channel, started, dist, 'case_created');
          const firstEnded = first.wait === null ? null : iso(started + (first.wait + (first.handle ?? 0)) * 1000);
          const firstLine = contacts.push('') - 1;
          const late = hoursToClose > svc.sla_hours;
          let chased = false;
          if (late && rand() < 0.4 && opened + svc.sla_hours * 3600000 < endMs) {
            const t = opened + svc.sla_hours * 3600000 + rand() * 86400000;
            if (t < endMs) {
              rand(); // the chase's wait of old: drawn still, so everything after it stays where it was
              const chase = answered('phone', t, dist, 'status_enquiry');
              contacts.push(csvLine([`I${++interactionSeq}`, id, 'phone', 'inbound', iso(t), iso(t + (chase.wait! + chase.handle!) * 1000), chase.wait, chase.handle, 'status_enquiry', chase.team, citizen]));
              chased = true;
            }
          }
          // Agents mark most first contacts "resolved at first contact" — including many whose
          // citizen had to chase later — so reported FCR runs above the measured one, as it does
          // in real contact centres (DESIGN.md: "the two differ, and the gap is worth seeing").
          const reported = fcrRand() < (chased ? 0.7 : late ? 0.9 : 0.97);
          contacts[firstLine] = csvLine([firstId, id, channel, 'inbound', iso(started), firstEnded, first.wait, first.handle, reported ? 'resolved_first_contact' : 'case_created', first.team, citizen]);
          if (status === 'closed' && rand() < 0.15 && closed + 86400000 < endMs) {
            const csat = late ? pick(rand, [1, 2, 3, 4, 5], [25, 25, 25, 15, 10]) : pick(rand, [1, 2, 3, 4, 5], [4, 6, 15, 35, 40]);
            const nps = Math.max(0, Math.min(10, Math.round(csat * 2 - 0.5 + normal(rand))));
            surveys.push(csvLine([`S${n}`, id, firstId, iso(closed + 86400000 * (0.5 + rand())), csat, nps, Math.max(1, Math.min(5, csat + Math.round(normal(rand) * 0.7)))]));
          }
        }
      }
    }
    // Calls abandoned before anyone answered: contact-centre demand without a case. They have a
    // wait (until the caller hung up) and no handle time. Long queues lose more callers: while
    // the north centre was slow, most of the weekday abandons were its.
    const abandoned = poisson(rand, 6 * scale * WEEKDAY_FACTOR[weekday]);
    for (let i = 0; i < abandoned; i++) {
      const t = localToUtcMs(DEMO_TIMEZONE, y, m, d, 8 + Math.floor(rand() * 10), Math.floor(rand() * 60));
      if (t < endMs) {
        rand(); // the abandoned call's wait of old: drawn still, so the main stream is unchanged
        const slowNorth = t < improvedFromMs;
        const team = outOfHours(t) ? DEMO_TEAMS.evening : ccRand() < (slowNorth ? 0.75 : 0.45) ? DEMO_TEAMS.north : DEMO_TEAMS.south;
        const wait = Math.round(team === DEMO_TEAMS.north && slowNorth ? gamma2(420) : exp(90));
        contacts.push(csvLine([`I${++interactionSeq}`, null, 'phone', 'inbound', iso(t), iso(t + wait * 1000), wait, null, 'abandoned', team, null]));
      }
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'civic-demo-'));
  const files = { services: join(dir, 'services.csv'), cases: join(dir, 'cases.csv'), events: join(dir, 'events.csv'), interactions: join(dir, 'interactions.csv'), surveys: join(dir, 'surveys.csv') };
  writeFileSync(files.services, [csvLine(['code', 'name', 'agency', 'group', 'sla_hours', 'on_time_target']), ...DEMO_SERVICES.map((x) => csvLine([x.code, x.name, x.agency, x.group, x.sla_hours, x.on_time_target]))].join('\n') + '\n');
  writeFileSync(files.cases, cases.join('\n') + '\n');
  writeFileSync(files.events, trail.join('\n') + '\n');
  writeFileSync(files.interactions, contacts.join('\n') + '\n');
  writeFileSync(files.surveys, surveys.join('\n') + '\n');

  const weekStart = (w: number) => isoDay(startDay.getTime() + w * 7 * 86400000);
  const pot = DEMO_SERVICES.find((s) => s.code === 'POTHOLE')!;
  const risingShare = (risingDistrict.population / popTotal) * pot.daily * scale * 7;
  const manifest: DemoManifest = {
    seed, start: isoDay(startDay.getTime()), end, timezone: DEMO_TIMEZONE, cases: n,
    hotspot: { service_code: 'DUMPING', district: hotDistrict.name, lat: hotCentre[1], lon: hotCentre[0], radius_m: 300, extra_cases: hotExtra },
    rising_trend: { service_code: 'POTHOLE', district: risingDistrict.name, from_week: weekStart(risingFromWeek), weekly_rate_start: Math.round(risingShare * 10) / 10, weekly_rate_end: Math.round(risingShare * 4 * 10) / 10 },
    anomaly_week: { service_code: 'TRASH', week_start: weekStart(anomalyWeekIndex), multiplier: 3 },
    slow_area: { district: slowDistrict.name, duration_multiplier: 2.2 },
    contact_centre: {
      teams: Object.values(DEMO_TEAMS),
      office_hours: OFFICE_HOURS,
      improvement: {
        team: IMPROVED_TEAM, channel: 'phone', date: weekStart(improvedFromWeek), asa_before_seconds: ASA_BEFORE_S, asa_after_seconds: ASA_AFTER_S,
        observed: {
          before: { answered: observed.before.answered, mean_wait_seconds: observed.before.wait / observed.before.answered },
          after: { answered: observed.after.answered, mean_wait_seconds: observed.after.wait / observed.after.answered },
        },
      },
    },
  };
  return { manifest, dir, files, districts: ds };
}

export interface SeedResult { manifest: DemoManifest; services: IngestResult; cases: IngestResult; events: IngestResult; interactions: number; surveys: number }

/** Generates the demo city and loads every file of it through the real ingest path and profiles. */
export async function seedDemoCity(wh: Warehouse, options: DemoOptions = {}): Promise<SeedResult> {
  const city = generateDemoCity(options);
  try {
    await wh.transaction(async () => {
      for (const d of city.districts) {
        await wh.run(`INSERT OR REPLACE INTO areas VALUES ($id, $name, 'district', $pop, $geom)`, {
          id: d.id, name: d.name, pop: d.population, geom: JSON.stringify(d.polygon.geometry),
        });
      }
    });
    const asDemo = { jurisdiction: DEMO_JURISDICTION, recordAs: 'demo' as const };
    const services = await ingestFile(wh, city.files.services, loadProfile('demo-city-services'), asDemo);
    const cases = await ingestFile(wh, city.files.cases, loadProfile('demo-city'), asDemo);
    const events = await ingestFile(wh, city.files.events, loadProfile('demo-city-events'), asDemo);
    const interactions = await ingestFile(wh, city.files.interactions, loadProfile('demo-city-interactions'), asDemo);
    const surveys = await ingestFile(wh, city.files.surveys, loadProfile('demo-city-surveys'), asDemo);
    for (const r of [services, cases, events, interactions, surveys]) {
      // Our own generator writes only loadable rows: a reject here is a bug, not dirty data.
      if (r.rejected > 0) throw new Error(`demo city: ${r.rejected} rows of ${r.file} rejected (batch ${r.batch_id})`);
    }
    return { manifest: city.manifest, services, cases, events, interactions: interactions.loaded, surveys: surveys.loaded };
  } finally {
    rmSync(city.dir, { recursive: true, force: true });
  }
}
