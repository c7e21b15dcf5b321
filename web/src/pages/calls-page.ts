import { api, ApiError, type CallSummaryDto } from '../api';
import { badge, h, parties, replaceChildren } from '../dom';
import { asWords, END_REASON_LABELS, formatDuration, formatFull, formatWhen, plural } from '../format';

const PAGE_SIZE = 50;

/** The filters as they appear in the page's URL (dates are local days, `to` inclusive). */
interface Filters {
  from: string;
  to: string;
  agent: string;
  phone: string;
  status: string;
  failures: boolean;
  q: string;
}

function filtersFrom(url: URL): Filters {
  const get = (name: string) => url.searchParams.get(name) ?? '';
  return {
    from: get('from'),
    to: get('to'),
    agent: get('agent'),
    phone: get('phone'),
    status: get('status'),
    failures: get('failures') === '1',
    q: get('q'),
  };
}

function filtersToSearch(filters: Filters): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value === true) search.set(name, '1');
    else if (typeof value === 'string' && value.trim()) search.set(name, value.trim());
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Local midnight of a YYYY-MM-DD day, plus `days`, as an ISO instant. */
function localDay(day: string, days = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days).toISOString();
}

function apiParams(filters: Filters) {
  return {
    from: localDay(filters.from),
    to: localDay(filters.to, 1),
    agent_id: filters.agent.trim(),
    phone: filters.phone.trim(),
    status: filters.status,
    has_failures: filters.failures ? 'true' : undefined,
    q: filters.q.trim(),
  };
}

export function renderCallsPage(main: HTMLElement, url: URL): () => void {
  let filters = filtersFrom(url);
  let cursor: string | null = null;
  let loaded = 0;
  let loading = false;
  let generation = 0;
  const controller = new AbortController();

  const field = (id: string, label: string, control: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control);
  const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: filters.from });
  const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: filters.to });
  const agent = h('input', {
    id: 'f-agent',
    name: 'agent',
    type: 'text',
    list: 'agents',
    value: filters.agent,
    placeholder: 'any',
  });
  const phone = h('input', {
    id: 'f-phone',
    name: 'phone',
    type: 'tel',
    value: filters.phone,
    placeholder: '+1 555 0100',
  });
  const status = h(
    'select',
    { id: 'f-status', name: 'status' },
    h('option', { value: '' }, 'Any'),
    h('option', { value: 'active' }, 'In progress'),
    h('option', { value: 'ended' }, 'Ended'),
  );
  status.value = filters.status;
  const failures = h('input', { id: 'f-failures', name: 'failures', type: 'checkbox', checked: filters.failures });
  const q = h('input', { id: 'f-q', name: 'q', type: 'search', value: filters.q, placeholder: 'words said' });
  const agents = h('datalist', { id: 'agents' });

  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter calls' },
    field('f-from', 'From', from),
    field('f-to', 'To', to),
    field('f-agent', 'Agent', agent),
    field('f-phone', 'Phone', phone),
    field('f-status', 'Status', status),
    field('f-q', 'Words', q),
    h('div', { class: 'field field-check' }, failures, h('label', { for: 'f-failures' }, 'Failures only')),
    h(
      'div',
      { class: 'field field-actions' },
      h('button', { type: 'submit' }, 'Apply'),
      h('a', { href: '/', class: 'button ghost' }, 'Clear'),
    ),
    agents,
  );

  // Explicit roles: on a phone the rows are laid out as cards, which would otherwise cost the table its semantics.
  const rows = h('tbody', { role: 'rowgroup' });
  const table = h(
    'table',
    { class: 'calls', role: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Calls, newest first'),
    h(
      'thead',
      { role: 'rowgroup' },
      h(
        'tr',
        { role: 'row' },
        ['When', 'Caller → called', 'Agent', 'Duration', 'Turns', 'End', 'First words'].map((label, i) =>
          h('th', { scope: 'col', role: 'columnheader', class: `col-${i}` }, label),
        ),
      ),
    ),
    rows,
  );
  const listStatus = h('p', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  const more = h(
    'button',
    { type: 'button', class: 'ghost load-more', hidden: true, onClick: () => void loadMore() },
    'Load more calls',
  );
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });

  replaceChildren(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Calls'),
      h('p', { class: 'muted' }, 'Newest first. Filters are kept in the address, so a view can be shared.'),
    ),
    form,
    h('div', { class: 'table-wrap' }, table),
    listStatus,
    more,
    sentinel,
  );

  const read = (): Filters => ({
    from: from.value,
    to: to.value,
    agent: agent.value,
    phone: phone.value,
    status: status.value,
    failures: failures.checked,
    q: q.value,
  });

  const apply = () => {
    filters = read();
    const search = filtersToSearch(filters);
    if (search !== location.search) history.pushState(null, '', `/${search}`);
    void reload();
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  for (const control of [from, to, status, failures]) control.addEventListener('change', apply);

  async function reload(): Promise<void> {
    generation++;
    cursor = null;
    loaded = 0;
    rows.replaceChildren();
    await loadMore(true);
  }

  async function loadMore(first = false): Promise<void> {
    if (loading && !first) return;
    if (!first && !cursor) return;
    const mine = generation;
    loading = true;
    listStatus.textContent = 'Loading…';
    try {
      const page = await api.listCalls(
        { ...apiParams(filters), limit: PAGE_SIZE, cursor: first ? undefined : cursor },
        controller.signal,
      );
      if (mine !== generation) return;
      for (const call of page.items) rows.append(callRow(call));
      loaded += page.items.length;
      cursor = page.next_cursor;
      listStatus.textContent =
        loaded === 0
          ? 'No calls match these filters.'
          : cursor
            ? `${plural(loaded, 'call')} shown; scroll for more.`
            : `${plural(loaded, 'call')}, all shown.`;
      more.hidden = !cursor;
    } catch (error) {
      if (mine !== generation || controller.signal.aborted) return;
      listStatus.textContent =
        error instanceof ApiError ? `Could not load calls: ${error.message}` : 'Could not reach the service.';
    } finally {
      if (mine === generation) loading = false;
    }
    // A tall screen may show the sentinel before any scrolling: keep filling it.
    if (mine === generation && cursor && isVisible(sentinel)) void loadMore();
  }

  const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void loadMore(), {
    rootMargin: '400px',
  });
  observer.observe(sentinel);
  void reload();
  void api
    .stats({ from: new Date(Date.now() - 90 * 86_400_000).toISOString() }, controller.signal)
    .then((stats) => agents.replaceChildren(...stats.by_agent.map((a) => h('option', { value: a.agent_id }))))
    .catch(() => undefined);

  return () => {
    controller.abort();
    observer.disconnect();
  };
}

function isVisible(element: Element): boolean {
  return element.getBoundingClientRect().top < window.innerHeight + 400;
}

/** Tones of the default outcomes; an agent's own outcomes show neutral. */
const OUTCOME_TONES: Record<string, 'ok' | 'warn' | 'bad'> = { resolved: 'ok', abandoned: 'warn', failed: 'bad' };

/** What the post-call analysis found, when there is one. */
function outcomeBadge(call: CallSummaryDto): HTMLSpanElement | null {
  if (!call.outcome) return null;
  const title = `Outcome the analysis found${call.sentiment ? `; the caller was ${call.sentiment}` : ''}`;
  return badge(asWords(call.outcome), OUTCOME_TONES[call.outcome] ?? 'neutral', title);
}

function callRow(call: CallSummaryDto): HTMLTableRowElement {
  const href = `/calls/${encodeURIComponent(call.session_id)}`;
  const statusBadges = [
    call.status === 'active' ? badge('live', 'live', 'In progress') : null,
    call.has_failures ? badge(`${call.failed_exchanges} failed`, 'bad', 'Replies where the LLM failed') : null,
    call.redacted_at ? badge('redacted', 'neutral') : null,
    outcomeBadge(call),
  ];
  const row = h(
    'tr',
    { 'data-session-id': call.session_id, role: 'row' },
    h(
      'td',
      { class: 'col-0', role: 'cell' },
      h('a', { href, title: formatFull(call.started_at) }, formatWhen(call.started_at)),
      ' ',
      statusBadges,
    ),
    h('td', { class: 'col-1 numbers', role: 'cell' }, parties(call.from_number, call.to_number)),
    h('td', { class: 'col-2', role: 'cell' }, call.agent_id),
    h('td', { class: 'col-3 num', role: 'cell' }, call.status === 'active' ? '…' : formatDuration(call.duration_ms)),
    h('td', { class: 'col-4 num', role: 'cell' }, String(call.turn_count)),
    h('td', { class: 'col-5', role: 'cell' }, call.end_reason ? END_REASON_LABELS[call.end_reason] : ''),
    h('td', { class: 'col-6 summary', role: 'cell' }, call.summary ?? h('span', { class: 'muted' }, '(no words)')),
  );
  // The whole row opens the call; the link in it stays the keyboard and screen-reader target.
  row.addEventListener('click', (event) => {
    if ((event.target as Element).closest('a') || window.getSelection()?.toString()) return;
    row.querySelector('a')?.click();
  });
  return row;
}
