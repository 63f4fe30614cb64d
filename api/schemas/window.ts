// The query parameters every analysis shares, so /api/kpis, /api/trends, /api/hotspots and
// /api/equity (and the CLI) read a window, filters and area kind the same way. Names are checked
// against the data by the warehouse (an unknown one is a 400 with the closest valid values).
import Type from 'typebox';
import { FILTER_NAMES, type CaseFilter } from '../../warehouse/queries/case-predicates.ts';

const Name = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));

export const WindowQuery = {
  from: Type.Optional(Type.String({ format: 'date', description: 'First local day, inclusive (default: 12 weeks — or `weeks` where a route has it — before `to`)' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'Last local day, inclusive (default: the local day of the newest request by as_of)' })),
  weeks: Type.Integer({ minimum: 1, maximum: 520, default: 12, description: 'Length of the window in weeks when `from` is not given' }),
  as_of: Type.Optional(Type.String({ format: 'date-time', description: 'What "now" is for open cases; nothing later is seen (default: the newest event in the warehouse)' })),
  service: Name('Only this service (code or name; GET /api/dimensions lists them)'),
  service_group: Name('Only this service group'),
  agency: Name('Only this agency'),
  channel: Name('Only cases that came in through this channel'),
  area: Name('Only this area (id or name) of the area kind'),
  area_kind: Name('Which areas `area` means: a loaded boundary kind (e.g. district) or `source` (the names in the source rows); default: district if loaded, else the first kind loaded, else source'),
};

/** The filters a request gave. */
export function filterOf(q: Partial<Record<(typeof FILTER_NAMES)[number], string>>): CaseFilter {
  const filter: CaseFilter = {};
  for (const f of FILTER_NAMES) if (q[f] !== undefined) filter[f] = q[f];
  return filter;
}
