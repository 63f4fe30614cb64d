// Numerical helpers for trend and anomaly findings. Dependency-free and written for full double
// precision: simple-statistics' normal CDF is a 4-decimal table and it has no Student-t, Poisson
// or negative-binomial quantile, and a finding's p-value must not round to 0 or to 0.0001.

const SQRT_PI_INV = 0.56418958354775628695; // 1/√π

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
// as in SPECFUN's CALERF: at least 18 significant digits in theory, so double precision in practice.
const ERF_A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const ERFC_C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const ERFC_D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const ERFC_P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4,
  0.0163153871373020978,
];
const ERFC_Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
// Beyond this erfc underflows to 0 in double precision.
const ERFC_XBIG = 26.543;

/** exp(−y²) with y² split so the rounding of y² does not cost relative precision in the tail. */
function expNegSquare(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const del = (y - head) * (y + head);
  return Math.exp(-head * head) * Math.exp(-del);
}

/** Complementary error function, full double precision on the whole line (Cody's CALERF). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  let result: number;
  if (y <= 0.46875) {
    const ysq = y > 1.11e-16 ? y * y : 0;
    let num = ERF_A[4] * ysq;
    let den = ysq;
    for (let i = 0; i < 3; i++) {
      num = (num + ERF_A[i]) * ysq;
      den = (den + ERF_B[i]) * ysq;
    }
    // erf is small here, so 1 − erf loses nothing and the sign handles negative x directly.
    return 1 - (x * (num + ERF_A[3])) / (den + ERF_B[3]);
  } else if (y <= 4) {
    let num = ERFC_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERFC_C[i]) * y;
      den = (den + ERFC_D[i]) * y;
    }
    result = ((num + ERFC_C[7]) / (den + ERFC_D[7])) * expNegSquare(y);
  } else if (y >= ERFC_XBIG) {
    result = 0;
  } else {
    const ysq = 1 / (y * y);
    let num = ERFC_P[5] * ysq;
    let den = ysq;
    for (let i = 0; i < 4; i++) {
      num = (num + ERFC_P[i]) * ysq;
      den = (den + ERFC_Q[i]) * ysq;
    }
    const r = (ysq * (num + ERFC_P[4])) / (den + ERFC_Q[4]);
    result = ((SQRT_PI_INV - r) / y) * expNegSquare(y);
  }
  return x < 0 ? 2 - result : result;
}

/** Φ(z), the standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * Math.SQRT1_2);
}

/** 1 − Φ(z), computed directly so that far tails stay positive instead of cancelling to 0. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z * Math.SQRT1_2);
}

/** Two-sided p-value of a standard normal statistic: 2·(1 − Φ(|z|)). */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

// M. J. Wichura, Algorithm AS 241 (PPND16), Appl. Statist. 37 (1988): about 1e-16 relative.
const AS241_A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const AS241_B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
];
const AS241_C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const AS241_D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const AS241_E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const AS241_F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

function horner(coefs: readonly number[], x: number): number {
  let v = coefs[coefs.length - 1];
  for (let i = coefs.length - 2; i >= 0; i--) v = v * x + coefs[i];
  return v;
}

/** Φ⁻¹(p), the standard normal quantile (Wichura's AS 241). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(AS241_C, r) / horner(AS241_D, r);
  } else {
    r -= 5;
    value = horner(AS241_E, r) / horner(AS241_F, r);
  }
  return q < 0 ? -value : value;
}

// Lanczos (g = 7, 9 terms): ~1e-15 relative, ample for the t and count quantiles used here.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xm = x - 1;
  let a = LANCZOS[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

const TINY = 1e-300;
const CF_EPS = 1e-16;
const CF_MAX_ITER = 10_000;

/** Continued fraction for I_x(a, b) (modified Lentz), valid for x < (a + 1)/(a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= CF_MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < CF_EPS) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b). `y` is 1 − x when the caller knows it more precisely
 * than 1 − x would give (the t tail near t = 0, the negative binomial with a tiny mean).
 * Returns [I_x(a, b), 1 − I_x(a, b)], each computed without cancellation.
 */
export function incompleteBeta(x: number, a: number, b: number, y: number = 1 - x): [number, number] {
  if (x <= 0) return [0, 1];
  if (y <= 0) return [1, 0];
  const logFront = a * Math.log(x) + b * Math.log(y) + logGamma(a + b) - logGamma(a) - logGamma(b);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (front * betaContinuedFraction(x, a, b)) / a;
    return [lower, 1 - lower];
  }
  const upper = (front * betaContinuedFraction(y, b, a)) / b;
  return [1 - upper, upper];
}

/** P(T > t) for Student's t with df degrees of freedom (df may be fractional). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2); the complement argument t²/(df+t²) is exact here.
  const [twoTail] = incompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
  return t >= 0 ? twoTail / 2 : 1 - twoTail / 2;
}

/** P(T ≤ t) for Student's t. */
export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df);
}

function studentTPdf(t: number, df: number): number {
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** t > 0 with P(T > t) = q, for 0 < q < 1/2: safeguarded Newton inside a bracket. */
function studentTUpperQuantile(q: number, df: number): number {
  const z = -normalQuantile(q);
  // Cornish–Fisher start; the bracket below guards against it being poor at small df.
  let t = z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  let lo = 0;
  let hi = Math.max(t, 1);
  while (studentTSf(hi, df) > q) {
    lo = hi;
    hi *= 2;
  }
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const diff = studentTSf(t, df) - q;
    if (diff > 0) lo = t;
    else hi = t;
    let next = t + diff / studentTPdf(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 4 * Number.EPSILON * Math.abs(t)) return next;
    t = next;
  }
  return t;
}

/** The Student-t quantile: t with P(T ≤ t) = p. */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // Work on the smaller tail so that p close to 1 does not lose digits in 1 − p twice.
  return p < 0.5 ? -studentTUpperQuantile(p, df) : studentTUpperQuantile(1 - p, df);
}

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[] | Float64Array): number {
  const sorted = Float64Array.from(values).filter((v) => Number.isFinite(v)).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Normal-consistency constant: MAD × 1.4826 estimates σ for normal data (R's default). */
export const MAD_SCALE = 1.4826;

/**
 * Median absolute deviation from the median. Scaled by 1.4826 unless `scaled: false`, because
 * callers use it in place of a standard deviation (simple-statistics' version is unscaled).
 */
export function mad(values: readonly number[], opts: { scaled?: boolean } = {}): number {
  const m = median(values);
  const raw = median(values.filter((v) => Number.isFinite(v)).map((v) => Math.abs(v - m)));
  return opts.scaled === false ? raw : raw * MAD_SCALE;
}

/** Sample mean and standard deviation (n − 1), two-pass for accuracy. */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 − P is fine here because P is not close to 1 yet.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < CF_MAX_ITER; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * CF_EPS) break;
    }
    return 1 - sum * Math.exp(logFront);
  }
  // Continued fraction for Q (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < CF_MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < CF_EPS) break;
  }
  return Math.exp(logFront) * h;
}

/** P(X ≤ k) for X ~ Poisson(mean). */
export function poissonCdf(k: number, mean: number): number {
  if (k < 0) return 0;
  if (mean <= 0) return 1;
  return gammaQ(Math.floor(k) + 1, mean);
}

/** P(X ≤ k) for a negative binomial with the given mean and size (dispersion r; Var = μ + μ²/r). */
export function negBinomialCdf(k: number, mean: number, size: number): number {
  if (k < 0) return 0;
  if (mean <= 0) return 1;
  if (!Number.isFinite(size)) return poissonCdf(k, mean);
  // P(X ≤ k) = I_p(r, k + 1) with p = r/(r + μ); 1 − p = μ/(r + μ) passed exactly.
  return incompleteBeta(size / (size + mean), size, Math.floor(k) + 1, mean / (size + mean))[0];
}

/**
 * Smallest integer k with cdf(k) ≥ p, searched from a normal-approximation start. p is shrunk
 * by 64 ulps first, as R's q* functions do, so a cdf that lands exactly on p is not missed.
 */
function discreteQuantile(p: number, mean: number, variance: number, cdf: (k: number) => number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 1) return Infinity;
  if (mean <= 0 || p === 0) return 0;
  const target = p * (1 - 64 * Number.EPSILON);
  const z = normalQuantile(p);
  let k = Math.max(0, Math.floor(mean + z * Math.sqrt(variance)));
  if (cdf(k) >= target) {
    while (k > 0 && cdf(k - 1) >= target) k--;
  } else {
    while (cdf(k) < target) k++;
  }
  return k;
}

/** Poisson quantile (R's qpois): the smallest k with P(X ≤ k) ≥ p. */
export function poissonQuantile(p: number, mean: number): number {
  return discreteQuantile(p, mean, mean, (k) => poissonCdf(k, mean));
}

/**
 * Negative-binomial quantile (R's qnbinom with mu and size): the smallest k with P(X ≤ k) ≥ p.
 * size = Infinity gives the Poisson limit.
 */
export function negBinomialQuantile(p: number, mean: number, size: number): number {
  if (!Number.isFinite(size)) return poissonQuantile(p, mean);
  return discreteQuantile(p, mean, mean + (mean * mean) / size, (k) => negBinomialCdf(k, mean, size));
}
