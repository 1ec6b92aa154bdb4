// The geometry of the admin area's activity chart: daily series drawn as
// inline SVG (no chart library). Pure functions.

export interface DayCount {
  day: string;
  count: number;
}

/** The smallest of 1, 2, 5 × 10^k at or above n (at least 1): the chart's top. */
export function niceMax(n: number): number {
  if (!(n > 1)) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const f of [1, 2, 5, 10]) if (f * p >= n) return f * p;
  return 10 * p;
}

/** The series on one axis of days: every day any of them has, in order, a
 *  missing count being 0. */
export function alignDays(series: readonly (readonly DayCount[])[]): { days: string[]; counts: number[][] } {
  const days = [...new Set(series.flatMap((s) => s.map((d) => d.day)))].sort();
  const counts = series.map((s) => {
    const by = new Map(s.map((d) => [d.day, d.count]));
    return days.map((d) => by.get(d) ?? 0);
  });
  return { days, counts };
}

export interface Plot {
  /** The value at the top of the plot. */
  max: number;
  /** The centre x of each day's slot. */
  xs: number[];
  /** Width of one day's slot. */
  slot: number;
  /** The y of a value (0 at the bottom edge). */
  y(v: number): number;
}

/** Fits n days and values up to max into a box of width × height (y grows downwards). */
export function plot(n: number, max: number, width: number, height: number): Plot {
  const top = niceMax(max);
  const slot = n > 0 ? width / n : width;
  return {
    max: top,
    slot,
    xs: Array.from({ length: n }, (_, i) => slot * i + slot / 2),
    y: (v) => height - (Math.max(0, v) / top) * height,
  };
}

/** An SVG polyline's points for counts on p. */
export function linePoints(p: Plot, counts: readonly number[]): string {
  return counts.map((c, i) => `${p.xs[i].toFixed(1)},${p.y(c).toFixed(1)}`).join(' ');
}
