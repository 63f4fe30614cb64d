import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { DEFAULT_MIN_DENOMINATOR } from '../../../warehouse/analytics/format.ts';
import { MEASURES, methodology, type Measure } from '../../../warehouse/queries/measures.ts';
import { CONTACT_MEASURES, contactMethodology, type ContactMeasure } from '../../../warehouse/queries/contact-measures.ts';

export const MeasuresResponse = Type.Object({
  measures: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.String(),
      cohort: Type.String(),
      unit: Type.String(),
      label: Type.String(),
      definition: Type.String(),
      csv: Type.String(),
      numerator: Type.Optional(Type.String()),
      denominator: Type.Optional(Type.String()),
    }),
  ),
  methodology: Type.Array(
    Type.Object({
      cohort: Type.String(),
      heading: Type.String(),
      measures: Type.Array(Type.Object({ name: Type.String(), label: Type.String(), unit: Type.String(), definition: Type.String() })),
    }),
  ),
  // The contact-centre registry (warehouse/queries/contact-measures.ts): contacts, not cases.
  contact_measures: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.String(),
      unit: Type.String(),
      label: Type.String(),
      definition: Type.String(),
      numerator: Type.Optional(Type.String()),
      denominator: Type.Optional(Type.String()),
    }),
  ),
  min_denominator: Type.Integer({ description: 'The display rule: a rate or median over fewer cases (or answers) than this reads "too few cases" (configuration display.min_denominator)' }),
  contact_methodology: Type.Object({
    heading: Type.String(),
    measures: Type.Array(Type.Object({ name: Type.String(), label: Type.String(), unit: Type.String(), definition: Type.String() })),
  }),
});

const measures: FastifyPluginAsync<{ minDenominator?: number }> = async (fastify, opts) => {
  fastify.get(
    '/api/measures',
    { schema: { summary: 'Every measure: its name, cohort, unit, label and one-sentence definition (the registry every surface is generated from); the contact-centre measures as contact_measures', tags: ['analytics'], querystring: Type.Object({}, { additionalProperties: false }), response: { 200: MeasuresResponse } }, config: { access: 'public' } },
    async () => ({
      min_denominator: opts.minDenominator ?? DEFAULT_MIN_DENOMINATOR,
      // The SQL stays inside the warehouse; the rest of each entry is public documentation.
      measures: (MEASURES as readonly Measure[]).map((m) => ({
        name: m.name, kind: m.kind, cohort: m.cohort, unit: m.unit, label: m.label, definition: m.definition, csv: m.csv,
        ...(m.kind === 'ratio' ? { numerator: m.numerator, denominator: m.denominator } : {}),
      })),
      methodology: methodology(),
      contact_measures: (CONTACT_MEASURES as readonly ContactMeasure[]).map((m) => ({
        name: m.name, kind: m.kind, unit: m.unit, label: m.label, definition: m.definition,
        ...(m.kind === 'ratio' ? { numerator: m.numerator, denominator: m.denominator } : {}),
      })),
      contact_methodology: contactMethodology(),
    }),
  );
};

export default measures;
