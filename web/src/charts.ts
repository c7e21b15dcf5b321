import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
  kind: 'bars' | 'line';
  format: (value: number | null) => string;
}

export interface Chart {
  element: HTMLElement;
  destroy(): void;
}

const HEIGHT = 220;
const HALF_DAY = 43_200;

/**
 * A daily time series drawn by uPlot, with the same numbers as a table for screen readers
 * and for anyone who wants them exactly. `days` are UTC days as epoch seconds.
 */
export function dailyChart(
  title: string,
  days: number[],
  series: ChartSeries[],
  yLabel: string,
  counts = false,
): Chart {
  const plotArea = h('div', {
    class: 'chart-plot',
    role: 'img',
    'aria-label': `${title}: chart; the data is in the table below.`,
  });
  const dayLabel = (seconds: number) =>
    new Date(seconds * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const table = h(
    'table',
    { class: 'chart-data' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Day (UTC)'),
        series.map((s) => h('th', { scope: 'col' }, s.label)),
      ),
    ),
    h(
      'tbody',
      {},
      days.map((day, i) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, dayLabel(day)),
          series.map((s) => h('td', {}, s.format(s.values[i]))),
        ),
      ),
    ),
  );
  const element = h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, title),
    plotArea,
    h('details', { class: 'chart-table' }, h('summary', {}, 'Show the numbers'), table),
  );

  const bars = uPlot.paths.bars!({ size: [0.6, 48], align: 0 });
  const options: uPlot.Options = {
    width: 600,
    height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: (_u, min, max) => [min - HALF_DAY, max + HALF_DAY] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
    },
    axes: [
      { values: (_u, ticks) => ticks.map(dayLabel), grid: { stroke: '#e7e9ee' }, stroke: '#5b6474' },
      {
        label: yLabel,
        grid: { stroke: '#e7e9ee' },
        stroke: '#5b6474',
        size: 56,
        incrs: counts ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] : undefined,
      },
    ],
    series: [
      { label: 'Day', value: (_u, v) => (v === null ? '' : dayLabel(v)) },
      ...series.map<uPlot.Series>((s) => ({
        label: s.label,
        stroke: s.color,
        fill: s.kind === 'bars' ? `${s.color}cc` : undefined,
        width: s.kind === 'bars' ? 0 : 2,
        paths: s.kind === 'bars' ? bars : undefined,
        points: { show: s.kind === 'line', size: 6, fill: s.color },
        spanGaps: true,
        value: (_u, v) => s.format(v),
      })),
    ],
  };
  const plot = new uPlot(options, [days, ...series.map((s) => s.values)], plotArea);
  const resize = new ResizeObserver(() => {
    const width = Math.floor(plotArea.clientWidth);
    if (width > 0 && width !== plot.width) plot.setSize({ width, height: HEIGHT });
  });
  resize.observe(plotArea);
  return {
    element,
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
