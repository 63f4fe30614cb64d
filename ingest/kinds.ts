// The kinds of data a profile can load, and the fields each has. The mapping SQL is built from
// these specs, so adding a field is one line here, not a new parser.

/**
 * `share`: a proportion, written as a share (0.85) or a percentage with its sign (85%); stored as
 * 0–1. A bare number above 1 is refused rather than guessed at (is "1" 100% or 1%?).
 */
export type FieldType = 'text' | 'timestamp' | 'number' | 'integer' | 'point' | 'share';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  /** Allowed values after the profile's value map (rejects anything else). */
  oneOf?: readonly string[];
  /** Inclusive range for numbers. */
  range?: readonly [number, number];
  /** Value when the column is not mapped. */
  default?: string;
  /** A case id from another table: prefixed with the source like our own case ids. */
  caseRef?: boolean;
  /** Stored only as a keyed hash (citizen identifiers). */
  hashed?: boolean;
}

export const EVENT_TYPES = ['opened', 'acknowledged', 'assigned', 'status_changed', 'closed', 'reopened', 'cancelled', 'duplicate_of', 'note'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const caseAttributes = {
  service_code: { type: 'text' },
  service_name: { type: 'text' },
  agency: { type: 'text' },
  channel: { type: 'text' },
  status: { type: 'text', oneOf: ['open', 'closed', 'cancelled'] },
  lat: { type: 'number' },
  lon: { type: 'number' },
  point: { type: 'point' },
  area_name: { type: 'text' },
  expected_at: { type: 'timestamp' },
} as const satisfies Record<string, FieldSpec>;

export const KINDS = {
  cases: {
    case_id: { type: 'text', required: true },
    opened_at: { type: 'timestamp', required: true },
    closed_at: { type: 'timestamp' },
    updated_at: { type: 'timestamp' },
    ...caseAttributes,
  },
  case_events: {
    case_id: { type: 'text', required: true },
    event_type: { type: 'text', required: true, oneOf: EVENT_TYPES },
    occurred_at: { type: 'timestamp', required: true },
    ...caseAttributes,
  },
  interactions: {
    interaction_id: { type: 'text', required: true },
    case_id: { type: 'text', caseRef: true },
    channel: { type: 'text', required: true },
    direction: { type: 'text', oneOf: ['inbound', 'outbound'], default: 'inbound' },
    started_at: { type: 'timestamp', required: true },
    ended_at: { type: 'timestamp' },
    wait_seconds: { type: 'number', range: [0, 86400 * 7] },
    handle_seconds: { type: 'number', range: [0, 86400 * 7] },
    outcome: { type: 'text' },
    team: { type: 'text' },
    citizen_id: { type: 'text', hashed: true },
  },
  survey_responses: {
    response_id: { type: 'text', required: true },
    case_id: { type: 'text', caseRef: true },
    interaction_id: { type: 'text' },
    answered_at: { type: 'timestamp', required: true },
    csat: { type: 'integer', range: [1, 5] },
    nps: { type: 'integer', range: [0, 10] },
    trust: { type: 'integer', range: [1, 5] },
  },
  services: {
    service_code: { type: 'text', required: true },
    name: { type: 'text', required: true },
    agency: { type: 'text' },
    group: { type: 'text' },
    sla_hours: { type: 'number', range: [0, 24 * 365 * 5] },
    sla_calendar: { type: 'text' },
    /** The on-time target (migration 011); empty = the configured default (targets.on_time). */
    on_time_target: { type: 'share' },
  },
} as const satisfies Record<string, Record<string, FieldSpec>>;

export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];
export const fieldsOf = (kind: Kind): Record<string, FieldSpec> => KINDS[kind];
