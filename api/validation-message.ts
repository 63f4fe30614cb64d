// Schema errors as one sentence naming the parameter: ajv reports a choice between constants as
// "must be equal to constant, must be equal to constant, must match a schema in anyOf", which no
// one can act on; this lists the allowed values and what was sent instead.
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { didYouMean } from '../warehouse/errors.ts';

const FORMATS: Record<string, string> = {
  date: 'a calendar date (YYYY-MM-DD)',
  'date-time': 'an ISO 8601 time with an offset (e.g. 2026-11-15T23:59:00Z)',
};

/**
 * `properties` are the schema's properties for this part of the request (their names for "did you
 * mean", their descriptions to say what a pattern wanted).
 */
export function validationMessage(
  context: string,
  errors: readonly FastifySchemaValidationError[],
  input: unknown,
  properties: Record<string, { description?: string }> = {},
): string {
  const known = Object.keys(properties);
  const first = errors[0];
  // An unknown parameter is an error, not silently dropped: `?servce=X` must not answer for every service.
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const name = String((extra.params as { additionalProperty: unknown }).additionalProperty);
    const near = didYouMean(name, known);
    return `${context}${extra.instancePath}/${name} is not a parameter here${near ? ` (did you mean "${near}"?)` : ''}${known.length ? `; parameters: ${known.join(', ')}` : ''}`;
  }
  const path = first?.instancePath ?? '';
  const atPath = errors.filter((e) => e.instancePath === path);
  const allowed = [
    ...atPath.filter((e) => e.keyword === 'const').map((e) => (e.params as { allowedValue: unknown }).allowedValue),
    ...atPath.filter((e) => e.keyword === 'enum').flatMap((e) => (e.params as { allowedValues: unknown[] }).allowedValues),
  ];
  if (allowed.length > 0) {
    const field = path.split('/').filter(Boolean);
    let got: unknown = input;
    for (const f of field) got = got && typeof got === 'object' ? (got as Record<string, unknown>)[f] : undefined;
    return `${context}${path} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
  }
  // A pattern or format says nothing to a person: say what the value should be.
  if (first && (first.keyword === 'pattern' || first.keyword === 'format')) {
    const name = path.split('/').filter(Boolean).at(-1) ?? '';
    const want = first.keyword === 'format' ? FORMATS[String((first.params as { format: string }).format)] : undefined;
    const description = want ?? properties[name]?.description;
    const got = input && typeof input === 'object' ? (input as Record<string, unknown>)[name] : undefined;
    const shown = got === undefined ? '' : ` "${String(got).slice(0, 80)}"`;
    if (want) return `${context}${path}${shown} is not ${want}`;
    if (description) return `${context}${path}${shown} is not valid (${description})`;
  }
  return `${context}${path} ${first?.message ?? 'is not valid'}`;
}
