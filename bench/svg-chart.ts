/** A small line chart as SVG text: enough for the sweep's two panels, no dependency. */

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const WIDTH = 460;
const HEIGHT = 320;
const MARGIN = { top: 36, right: 20, bottom: 48, left: 64 };

export function renderChart(panels: Panel[]): string {
  const body = panels.map((panel, i) => `<g transform="translate(${i * WIDTH},0)">${renderPanel(panel)}</g>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * panels.length}" height="${HEIGHT}" ` +
    `font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>${body}</svg>\n`
  );
}

function renderPanel(panel: Panel): string {
  const all = panel.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMax = Math.max(...all.map(([x]) => x), 1);
  const yMax = niceCeil(Math.max(...all.map(([, y]) => y), 1e-6));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;

  const parts: string[] = [];
  parts.push(
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(panel.title)}</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${sy(y) + 4}" text-anchor="end">${format(y)}</text>`);
  }
  const xs = [...new Set(all.map(([x]) => x))].sort((a, b) => a - b);
  for (const x of xs) parts.push(`<text x="${sx(x)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${x}</text>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(0)}" y2="${sy(0)}" stroke="#333"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${sy(0)}" stroke="#333"/>`);
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escape(panel.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
  );
  panel.series.forEach((series, i) => {
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const path = points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const [x, y] of points) parts.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${series.color}"/>`);
    const ly = MARGIN.top + 8 + i * 16;
    parts.push(`<rect x="${MARGIN.left + 10}" y="${ly - 8}" width="12" height="3" fill="${series.color}"/>`);
    parts.push(`<text x="${MARGIN.left + 28}" y="${ly - 3}">${escape(series.name)}</text>`);
  });
  return parts.join('');
}

function niceCeil(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
