import { useId } from "react";
import { axis } from "./axis.ts";
import { formatDayUtc, formatInt } from "./format.ts";

/**
 * Bar charts drawn as inline SVG: two small charts do not justify a chart library (the smallest
 * well-kept ones add 20–50 KB gzipped), and SVG we write can be made accessible our way — a text
 * summary for screen readers (role="img" with a title and description), a tooltip per bar, and
 * the numbers as a table one click away.
 */

export interface ChartSeries {
  key: string;
  label: string;
  /** A CSS class giving the bars their colour (`fill`). */
  className: string;
}

export interface ChartBucket {
  start: number;
  values: Record<string, number>;
}

const W = 640;
const H = 220;
const M = { top: 12, right: 8, bottom: 26, left: 40 };

/** Stacked bars, one per bucket (UTC day or week), with a legend, a summary and a data table. */
export function BarChart(props: {
  title: string;
  buckets: ChartBucket[];
  series: ChartSeries[];
  interval: "day" | "week";
  /** What the bars count, for the summary ("conversations"). */
  unit: string;
}) {
  const id = useId();
  const { buckets, series } = props;
  const totals = buckets.map((b) => series.reduce((n, s) => n + (b.values[s.key] ?? 0), 0));
  const { top, ticks } = axis(Math.max(0, ...totals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(2, Math.min(28, slot * 0.62));
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 7));
  const period = props.interval === "day" ? "Day" : "Week of";
  const sum = totals.reduce((a, b) => a + b, 0);
  const peak = totals.indexOf(Math.max(...totals));

  const summary =
    buckets.length === 0
      ? "No data."
      : `${formatInt(sum)} ${props.unit} from ${formatDayUtc(buckets[0]!.start)} to ${formatDayUtc(buckets.at(-1)!.start)}` +
        (series.length > 1
          ? `: ${series.map((s) => `${s.label.toLowerCase()} ${formatInt(buckets.reduce((n, b) => n + (b.values[s.key] ?? 0), 0))}`).join(", ")}.`
          : ".") +
        (sum > 0
          ? ` Busiest ${props.interval}: ${formatDayUtc(buckets[peak]!.start)} (${formatInt(totals[peak]!)}).`
          : "");

  return (
    <figure className="chart">
      <figcaption className="chart-head">
        <span className="chart-title">{props.title}</span>
        {series.length > 1 && (
          <span className="legend">
            {series.map((s) => (
              <span key={s.key} className="legend-item">
                <span className={`legend-swatch ${s.className}`} aria-hidden="true" />
                {s.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      <div className="chart-frame">
        <svg
          viewBox={`0 0 ${W} ${H}`}
          role="img"
          aria-labelledby={`${id}-t ${id}-d`}
          className="chart-svg"
          preserveAspectRatio="xMidYMid meet"
        >
          <title id={`${id}-t`}>{props.title}</title>
          <desc id={`${id}-d`}>{summary}</desc>
          {ticks.map((t) => (
            <g key={t} className="chart-grid">
              <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} />
              <text x={M.left - 8} y={y(t)} dy="0.32em" textAnchor="end">
                {formatInt(t)}
              </text>
            </g>
          ))}
          {buckets.map((b, i) => {
            const x = M.left + i * slot + (slot - barW) / 2;
            let base = 0;
            return (
              <g key={b.start}>
                {series.map((s) => {
                  const v = b.values[s.key] ?? 0;
                  if (v === 0) return null;
                  const rect = (
                    <rect
                      key={s.key}
                      className={s.className}
                      x={x}
                      y={y(base + v)}
                      width={barW}
                      height={Math.max(1, y(base) - y(base + v))}
                      rx={Math.min(3, barW / 4)}
                    >
                      <title>{`${period} ${formatDayUtc(b.start)}: ${formatInt(v)} ${series.length > 1 ? s.label.toLowerCase() : props.unit}`}</title>
                    </rect>
                  );
                  base += v;
                  return rect;
                })}
                {i % labelEvery === 0 && (
                  // A label near the right edge ends at its bar rather than past the frame.
                  <text
                    className="chart-axis"
                    x={x + barW / 2 > W - M.right - 24 ? x + barW : x + barW / 2}
                    y={H - 8}
                    textAnchor={x + barW / 2 > W - M.right - 24 ? "end" : "middle"}
                  >
                    {formatDayUtc(b.start)}
                  </text>
                )}
              </g>
            );
          })}
          <line className="chart-baseline" x1={M.left} x2={W - M.right} y1={y(0)} y2={y(0)} />
        </svg>
        {sum === 0 && <p className="chart-empty">Nothing in this period yet</p>}
      </div>
      <details className="chart-table">
        <summary>Show the numbers</summary>
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">{period}</th>
              {series.map((s) => (
                <th key={s.key} scope="col" className="num">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.start}>
                <th scope="row">{formatDayUtc(b.start)}</th>
                {series.map((s) => (
                  <td key={s.key} className="num">
                    {formatInt(b.values[s.key] ?? 0)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
