// The detectors against what the demo city planted (its manifest): they must find the planted
// hot-spot, rising trend, anomaly week and slow district, and raise few alarms elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../demo-warehouse.ts';
import { gridDistance, latLngToCell } from 'h3-js';
import type { DemoManifest } from '../../ingest/demo-city.ts';
import { computeFindings } from '../../warehouse/analytics/findings.ts';
import { computeHotspots } from '../../warehouse/analytics/hotspots.ts';
import { computeEquity } from '../../warehouse/analytics/equity.ts';
import { dataAsOf } from '../../warehouse/analytics/kpis.ts';
import type { TempWarehouse } from '../helpers.ts';

const TZ = 'America/New_York';

describe('detectors on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let m: DemoManifest;
  let window: { from: string; to: string; as_of: string; timezone: string };
  beforeAll(async () => {
    t = await demoWarehouse();
    m = t.manifest;
    window = { from: m.start, to: '2026-11-15', as_of: (await dataAsOf(t.wh))!, timezone: TZ };
  });
  afterAll(() => t.cleanup());

  it('finds the rising trend in its service and district, and no other trend among 72 series', async () => {
    const f = await computeFindings(t.wh, { window, by: ['service', 'area'], period: 'week' });
    expect(f.series_tested).toBe(72);
    const planted = (x: { service: string | null; area: string | null }) => x.service === 'Pothole Repair' && x.area === m.rising_trend.district;
    const hits = f.trends.filter(planted);
    expect(hits).toHaveLength(1); // recall 1
    expect(hits[0].direction).toBe('rising');
    expect(hits[0].sentence).toMatch(/^Pothole Repair requests in District 4 have risen by about [\d.]+ requests a week since .+ \(p < 0\.001\)\.$/);
    const precision = hits.length / f.trends.length;
    expect(precision).toBeGreaterThanOrEqual(0.8);
  });

  it('finds the anomaly week of its service, and (citywide) nothing else', async () => {
    const f = await computeFindings(t.wh, { window, by: ['service'], period: 'week' });
    const weekEnd = new Date(Date.parse(`${m.anomaly_week.week_start}T00:00:00Z`) + 6 * 86400000).toISOString().slice(0, 10);
    const inWeek = (a: { service: string | null; from: string; to: string }) => a.service === 'Missed Trash Pickup' && a.from >= m.anomaly_week.week_start && a.to <= weekEnd;
    expect(f.anomalies.filter(inWeek)).toHaveLength(1);
    expect(f.anomalies.find(inWeek)!.ratio).toBeGreaterThan(2);
    expect(f.anomalies.length - 1).toBeLessThanOrEqual(1); // at most one false alarm in 9 services × a year
  });

  it('puts the hot-spot where it was planted (Gi*, FDR), and not elsewhere', async () => {
    const r = await computeHotspots(t.wh, { resolution: 8, k: 1, window, filter: { service: m.hotspot.service_code }, fdr: true });
    const centre = latLngToCell(m.hotspot.lat, m.hotspot.lon, 8);
    const hot = r.cells.filter((c) => c.bin >= 2);
    expect(hot.find((c) => c.h3 === centre)?.bin).toBe(3); // recall: the planted centre is a 99% hot spot
    const near = hot.filter((c) => gridDistance(c.h3, centre) <= 2);
    expect(near.length / hot.length).toBeGreaterThanOrEqual(0.9); // precision
    expect(r.cells.filter((c) => c.bin <= -2)).toHaveLength(0);
  });

  it('names the slow district as the unequal one, beyond chance', async () => {
    const r = await computeEquity(t.wh, { window });
    expect(r.time_to_close.worst).toBe(m.slow_area.district);
    expect(r.time_to_close.ratio!).toBeGreaterThan(1.8);
    expect(r.time_to_close.test!.p).toBeLessThan(0.001);
    expect(r.on_time.worst).toBe(m.slow_area.district);
    expect(r.satisfaction.worst).toBe(m.slow_area.district);
    expect(r.sentence).toMatch(/^Requests \(areas of kind district, opened [\d-]+ to [\d-]+\) take longest to close in District 6 \(median [\d.]+ (h|days), [\d.]+ times District \d's [\d.]+ (h|days)\); the difference between areas is beyond chance \(p < 0\.001\)\.$/);
  });
});
