// The forecasting model: Grafana's augurs (Rust compiled to WebAssembly, @bsull/augurs) — MSTL
// with an AutoETS trend model when the series has a season, AutoETS (no seasonal part: augurs' ETS
// has no seasonal models of its own) when it has none. Its modules' default initialiser fetches the
// .wasm by URL, which Node has no network (or file URL fetch) for: each module is instantiated
// once, synchronously, from the package's own .wasm file on disk.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initSync as initMstl, MSTL } from '@bsull/augurs/mstl';
import { initSync as initEts, AutoETS } from '@bsull/augurs/ets';
import type { Forecaster, IntervalForecast } from './forecast-eval.ts';

let ready: 'mstl' | 'ets' | 'both' | null = null;
const need = (which: 'mstl' | 'ets') => {
  if (ready === which || ready === 'both') return;
  // The package's exports map names the .js entry points only; the .wasm sits beside them.
  const entry = createRequire(import.meta.url).resolve(`@bsull/augurs/${which}`);
  const module = readFileSync(join(dirname(entry), `${which}_bg.wasm`));
  if (which === 'mstl') initMstl({ module });
  else initEts({ module });
  ready = ready === null ? which : 'both';
};

interface AugursModel {
  fit(y: Float64Array): void;
  predict(horizon: number, level?: number | null): { point: number[]; intervals?: { lower: number[]; upper: number[] } };
  free(): void;
}

/**
 * A Forecaster from augurs: MSTL (the given season lengths, each needing two full cycles of data)
 * with AutoETS on the seasonally adjusted series, or AutoETS alone (spec ZZN: error and trend
 * chosen by AICc, no season) when `periods` is empty. Throws when augurs cannot fit (it says "not
 * enough data" for a very short or constant series) or returns anything not finite.
 */
export function augursForecaster(periods: readonly number[]): Forecaster {
  return (train, h) => {
    const seasonal = periods.length > 0;
    need(seasonal ? 'mstl' : 'ets');
    const model: AugursModel = seasonal ? MSTL.ets([...periods]) : new AutoETS(1, 'ZZN');
    try {
      model.fit(Float64Array.from(train));
      const p80 = model.predict(h, 0.8);
      const p95 = model.predict(h, 0.95);
      const f: IntervalForecast = {
        mean: p80.point,
        lower80: p80.intervals?.lower ?? [],
        upper80: p80.intervals?.upper ?? [],
        lower95: p95.intervals?.lower ?? [],
        upper95: p95.intervals?.upper ?? [],
      };
      for (const xs of Object.values(f)) {
        if (xs.length !== h || !xs.every(Number.isFinite)) throw new Error('the model returned no finite forecast or interval');
      }
      return f;
    } finally {
      model.free();
    }
  };
}
