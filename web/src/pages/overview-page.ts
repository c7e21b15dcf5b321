import { describeError } from '../../../src/common/describe-error';
import { api, type CallStatsDto } from '../api';
import { dailyChart, type Chart } from '../charts';
import { h, replaceChildren } from '../dom';
import { asWords, formatMs, percent, plural } from '../format';
import { navigate } from '../navigation';

const RANGES = [7, 14, 30, 90];
const DAY_MS = 86_400_000;

export function renderOverviewPage(main: HTMLElement, url: URL): () => void {
  const days = RANGES.includes(Number(url.searchParams.get('days'))) ? Number(url.searchParams.get('days')) : 14;
  const controller = new AbortController();
  let charts: Chart[] = [];

  const range = h(
    'select',
    { id: 'range' },
    RANGES.map((n) => h('option', { value: n, selected: n === days }, `Last ${n} days`)),
  );
  range.addEventListener('change', () => {
    navigate(`/overview?days=${range.value}`);
  });
  const body = h('div', { class: 'overview' }, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
  replaceChildren(
    main,
    h(
      'div',
      { class: 'page-head head-row' },
      h('h1', {}, 'Overview'),
      h('div', { class: 'field inline' }, h('label', { for: 'range' }, 'Period'), range),
    ),
    body,
  );

  const today = new Date();
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - days + 1);
  api
    .stats({ from: from.toISOString() }, controller.signal)
    .then((stats) => {
      const view = overview(stats, from, today);
      charts = view.charts;
      replaceChildren(body, view.element);
    })
    .catch((error: unknown) => {
      if (!controller.signal.aborted)
        replaceChildren(
          body,
          h('p', { class: 'error', role: 'alert' }, `Could not load the statistics: ${describeError(error)}`),
        );
    });
  return () => {
    controller.abort();
    for (const chart of charts) chart.destroy();
  };
}

function overview(stats: CallStatsDto, from: Date, to: Date): { element: HTMLElement; charts: Chart[] } {
  const first = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const byDay = new Map(stats.by_day.map((d) => [d.day, d]));
  const days: number[] = [];
  for (let t = first; t <= to.getTime(); t += DAY_MS) days.push(t / 1000);
  const dayStats = days.map((seconds) => byDay.get(new Date(seconds * 1000).toISOString().slice(0, 10)));
  const count = (v: number | null) => (v === null ? '–' : String(v));

  const charts = [
    dailyChart(
      'Calls per day',
      days,
      [
        { label: 'Calls', values: dayStats.map((d) => d?.calls ?? 0), color: '#3b6fd8', kind: 'bars', format: count },
        {
          label: 'Calls with failures',
          values: dayStats.map((d) => d?.failed_calls ?? 0),
          color: '#d0453b',
          kind: 'line',
          format: count,
        },
      ],
      'calls',
      true,
    ),
    dailyChart(
      'Failure rate',
      days,
      [
        {
          label: 'Calls with a failed reply',
          values: dayStats.map((d) => (d && d.calls ? (100 * d.failed_calls) / d.calls : null)),
          color: '#d0453b',
          kind: 'line',
          format: (v) => (v === null ? '–' : `${v.toFixed(1)} %`),
        },
      ],
      '%',
    ),
    dailyChart(
      'LLM time to first token',
      days,
      [
        {
          label: 'p50',
          values: dayStats.map((d) => d?.ttft_p50_ms ?? null),
          color: '#2f9e6e',
          kind: 'line',
          format: formatMs,
        },
        {
          label: 'p95',
          values: dayStats.map((d) => d?.ttft_p95_ms ?? null),
          color: '#c77c12',
          kind: 'line',
          format: formatMs,
        },
      ],
      'ms',
    ),
  ];

  const t = stats.totals;
  const card = (label: string, value: string, note?: string) =>
    h(
      'div',
      { class: 'stat-card' },
      h('p', { class: 'stat-label' }, label),
      h('p', { class: 'stat-value' }, value),
      note ? h('p', { class: 'stat-note' }, note) : null,
    );
  const cards = h(
    'section',
    { class: 'stat-cards', 'aria-label': 'Totals' },
    card('Calls', String(t.calls), plural(t.turns, 'turn')),
    card(
      'Failure rate',
      percent(t.failed_calls, t.calls),
      `${plural(t.failed_calls, 'call')}, ${plural(t.failed_exchanges, 'reply', 'replies')}`,
    ),
    card('First token p50', formatMs(t.ttft_p50_ms)),
    card('First token p95', formatMs(t.ttft_p95_ms)),
  );

  const busiest = Math.max(1, ...stats.by_agent.map((a) => a.calls));
  const agents = h(
    'section',
    { class: 'chart agents', 'aria-labelledby': 'agents-title' },
    h('h2', { id: 'agents-title' }, 'Calls per agent'),
    stats.by_agent.length === 0
      ? h('p', { class: 'muted' }, 'No calls in this period.')
      : h(
          'table',
          { class: 'agent-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Agent', 'Calls', 'Failure rate', 'First token p50', 'p95'].map((label) =>
                h('th', { scope: 'col' }, label),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            stats.by_agent.map((a) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, a.agent_id),
                h(
                  'td',
                  { class: 'bar-cell' },
                  h('span', {
                    class: 'hbar',
                    'aria-hidden': 'true',
                    style: `width:${((100 * a.calls) / busiest).toFixed(1)}%`,
                  }),
                  h('span', { class: 'hbar-value' }, String(a.calls)),
                ),
                h('td', {}, percent(a.failed_calls, a.calls)),
                h('td', {}, formatMs(a.ttft_p50_ms)),
                h('td', {}, formatMs(a.ttft_p95_ms)),
              ),
            ),
          ),
        ),
  );

  const element = h(
    'div',
    {},
    cards,
    h(
      'div',
      { class: 'chart-grid' },
      charts.map((c) => c.element),
      agents,
      outcomeMix(stats),
    ),
  );
  return { element, charts };
}

/** Outcomes of the analysed calls (post-call analysis); nothing when no call was analysed. */
function outcomeMix(stats: CallStatsDto): HTMLElement | null {
  if (stats.outcomes.length === 0) return null;
  const analysed = stats.outcomes.reduce((sum, o) => sum + o.calls, 0);
  const most = Math.max(1, ...stats.outcomes.map((o) => o.calls));
  return h(
    'section',
    { class: 'chart outcomes', 'aria-labelledby': 'outcomes-title' },
    h('h2', { id: 'outcomes-title' }, 'Outcomes'),
    h('p', { class: 'muted' }, `${plural(analysed, 'analysed call')}`),
    h(
      'table',
      { class: 'agent-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Outcome', 'Calls', 'Share'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        stats.outcomes.map((o) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, asWords(o.outcome)),
            h(
              'td',
              { class: 'bar-cell' },
              h('span', {
                class: 'hbar',
                'aria-hidden': 'true',
                style: `width:${((100 * o.calls) / most).toFixed(1)}%`,
              }),
              h('span', { class: 'hbar-value' }, String(o.calls)),
            ),
            h('td', {}, percent(o.calls, analysed)),
          ),
        ),
      ),
    ),
  );
}
