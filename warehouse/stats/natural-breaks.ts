// Classes for a choropleth by natural breaks: simple-statistics' ckmeans (Wang & Song's optimal
// one-dimensional k-means, the modern Jenks), k = min(5, distinct values) so no class is empty.
import { ckmeans } from 'simple-statistics';

export interface NaturalBreaks {
  /** Classes made (0 when there are no values). */
  k: number;
  /** Each class's [lowest, highest] value, lowest class first. */
  classes: { lower: number; upper: number }[];
  /** The class (0…k−1) of each value of the input, in its order. */
  classOf: number[];
}

export function naturalBreaks(values: readonly number[], maxClasses = 5): NaturalBreaks {
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError('naturalBreaks takes finite numbers only');
  const distinct = new Set(values).size;
  const k = Math.min(maxClasses, distinct);
  if (k === 0) return { k: 0, classes: [], classOf: [] };
  const clusters = ckmeans([...values], k);
  const classes = clusters.map((c) => ({ lower: c[0], upper: c[c.length - 1] }));
  // Clusters are sorted and do not overlap: a value's class is the first whose upper end reaches it.
  const classOf = values.map((v) => classes.findIndex((c) => v <= c.upper));
  return { k, classes, classOf };
}
