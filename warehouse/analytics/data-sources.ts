// Where the data came from and what is known to be wrong with it, as the public methodology page
// states it: loads summed per source and kind (never file names, which are a city's own paths),
// rows not loaded by field, and the data-quality flags loaded cases carry. Aggregates only.
import type { Warehouse } from '../db.ts';

export interface SourceSummary {
  source: string;
  kind: string;
  profile: string | null;
  batches: number;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  rows_duplicate: number;
  rows_flagged: number;
  /** The local day (UTC) the last batch of this source and kind finished. */
  last_loaded: string | null;
}

export interface QualityCount { what: string; count: number }

export interface DataSources {
  sources: SourceSummary[];
  /** Rows not loaded, by the field that was wrong ("(row)" for a row that could not be read). */
  rejected_by_field: QualityCount[];
  /** Loaded cases carrying a data-quality flag, by flag. */
  flags: QualityCount[];
}

export async function dataSources(wh: Warehouse): Promise<DataSources> {
  const sources = await wh.all<SourceSummary>(
    `SELECT source, kind, any_value(profile) AS profile, count(*)::INTEGER AS batches,
            coalesce(sum(rows_read), 0)::INTEGER AS rows_read, coalesce(sum(rows_loaded), 0)::INTEGER AS rows_loaded,
            coalesce(sum(rows_rejected), 0)::INTEGER AS rows_rejected, coalesce(sum(rows_duplicate), 0)::INTEGER AS rows_duplicate,
            coalesce(sum(rows_flagged), 0)::INTEGER AS rows_flagged,
            strftime(max(finished_at), '%Y-%m-%d') AS last_loaded
       FROM ingest_batches WHERE finished_at IS NOT NULL
      GROUP BY source, kind ORDER BY source, kind`,
  );
  const rejected = await wh.all<QualityCount>(
    `SELECT coalesce(field, '(row)') AS what, count(DISTINCT (batch_id, row_number))::INTEGER AS count
       FROM ingest_rejects GROUP BY 1 ORDER BY count DESC, what`,
  );
  const flags = await wh.all<QualityCount>(
    `SELECT flag AS what, count(*)::INTEGER AS count FROM (SELECT unnest(quality_flags) AS flag FROM cases)
      GROUP BY flag ORDER BY count DESC, what`,
  );
  return { sources, rejected_by_field: rejected, flags };
}

/**
 * Whether the data can give a figure at all: a city whose export has no due times (LA sends none
 * and has no SLAs) or no survey answers has no on-time rate or satisfaction to publish — which is
 * not the same as too few cases, and the pages say which.
 */
export interface DataCoverage { cases: number; with_due_time: number; survey_answers: number }

export async function dataCoverage(wh: Warehouse): Promise<DataCoverage> {
  const r = await wh.one<DataCoverage>(
    `SELECT (SELECT count(*) FROM cases)::INTEGER AS cases,
            (SELECT count(*) FROM cases WHERE due_at IS NOT NULL)::INTEGER AS with_due_time,
            (SELECT count(*) FROM survey_responses)::INTEGER AS survey_answers`,
  );
  return r ?? { cases: 0, with_due_time: 0, survey_answers: 0 };
}
