import { describe, expect, it } from 'vitest';
import type { Dimensions } from './api.ts';
import { apiParams, checkFilters, readFilters, searchFor } from './filters.ts';

const dims: Dimensions = {
  services: [{ code: 'POTHOLE', name: 'Pothole Repair', service_group: 'Streets', agency: 'Streets' }, { code: null, name: 'Graffiti', service_group: null, agency: null }],
  service_groups: ['Streets'],
  agencies: ['Streets'],
  channels: ['phone', 'web'],
  area_kinds: [{ kind: 'district', method: 'polygons', areas: 2, default: true }, { kind: 'neighborhood_council', method: 'polygons', areas: 1, default: false }],
  areas: [{ kind: 'district', id: 'D6', name: 'District 6' }, { kind: 'district', id: 'D1', name: 'District 1' }, { kind: 'neighborhood_council', id: '52', name: 'BOYLE HEIGHTS NC' }],
  no_area_label: '(no area)',
  first_request: '2025-01-01T00:00:00Z',
  last_request: '2026-11-15T00:00:00Z',
  data_as_of: '2026-11-15T00:00:00Z',
};
const read = (s: string) => checkFilters(readFilters(new URLSearchParams(s)), dims);

describe('filters in the URL', () => {
  it('names and ids the data has are kept (a name becomes its code or id)', () => {
    expect(read('service=Pothole%20Repair&area=District%206&weeks=26').filters).toEqual({ weeks: 26, service: 'POTHOLE', area: 'D6' });
    expect(read('service=Graffiti').filters).toEqual({ weeks: 12, service: 'Graffiti' });
    expect(read('area_kind=neighborhood_council&area=BOYLE%20HEIGHTS%20NC').filters).toEqual({ weeks: 12, area_kind: 'neighborhood_council', area: '52' });
    expect(read('area=(no%20area)').filters.area).toBe('(no area)');
  });

  it('values the data does not have are dropped and named', () => {
    const c = read('service=Snow&channel=pigeon&area=D6&area_kind=ward&from=2026-02-30&to=2026-01-01');
    // An unknown kind falls back to the default kind, where D6 is an area.
    expect(c.filters).toEqual({ weeks: 12, to: '2026-01-01', area: 'D6' });
    expect(c.problems).toEqual([
      'Ignored from “2026-02-30”: not a date (YYYY-MM-DD).',
      'Ignored service “Snow”: no such service in the data.',
      'Ignored channel “pigeon”: no such channel.',
      'Ignored area kind “ward”: the data has district, neighborhood_council.',
    ]);
    expect(read('area=D1&area_kind=neighborhood_council').problems).toEqual(['Ignored area “D1”: no such area of kind neighborhood_council.']);
  });

  it('a from after to is dropped; a bad weeks falls back to 12', () => {
    expect(read('from=2026-03-01&to=2026-02-01').problems).toEqual(['Ignored from “2026-03-01”: it is after “to” (2026-02-01).']);
    expect(read('weeks=0').filters.weeks).toBe(12);
    expect(read('weeks=abc').filters.weeks).toBe(12);
  });

  it('round-trips through the URL and gives the API its parameters', () => {
    const f = read('service=POTHOLE&weeks=26').filters;
    expect(searchFor(f)).toBe('?weeks=26&service=POTHOLE');
    expect(searchFor({ weeks: 12 })).toBe('');
    expect(searchFor({ weeks: 12, from: '2026-01-01', to: '2026-02-01' }, { measure: 'backlog' })).toBe('?from=2026-01-01&to=2026-02-01&measure=backlog');
    expect(apiParams(f)).toEqual({ weeks: '26', service: 'POTHOLE', service_group: undefined, agency: undefined, channel: undefined, area: undefined, area_kind: undefined });
    expect(apiParams({ weeks: 12, from: '2026-01-01' }).weeks).toBeUndefined();
  });
});
