import {
  api,
  ApiError,
  download,
  type CallDetailDto,
  type CallEventDto,
  type ExchangeDto,
  type ToolCallDto,
} from '../api';
import { describeError } from '../../../src/common/describe-error';
import { badge, definitions, h, parties, replaceChildren } from '../dom';
import { analysisPanel } from './call-analysis-panel';
import {
  asWords,
  END_REASON_LABELS,
  formatDuration,
  formatFull,
  formatMs,
  formatOffset,
  formatParties,
  formatPhone,
  isWebCall,
  plural,
  REPLY_STATUS_LABELS,
} from '../format';

const CUT_OFF = new Set(['interrupted', 'superseded']);

export function renderCallPage(main: HTMLElement, _url: URL, [sessionId]: string[]): () => void {
  const controller = new AbortController();
  replaceChildren(main, h('h1', {}, 'Call'), h('p', { class: 'muted', role: 'status' }, 'Loading the call…'));
  api
    .getCall(sessionId, controller.signal)
    .then((call) => {
      document.title = `${formatParties(call.from_number, call.to_number)} · Call desk`;
      replaceChildren(main, callView(call));
    })
    .catch((error: unknown) => {
      if (controller.signal.aborted) return;
      const message =
        error instanceof ApiError && error.status === 404
          ? 'No call with this id.'
          : `Could not load the call: ${describeError(error)}`;
      replaceChildren(
        main,
        h('h1', {}, 'Call'),
        h('p', { class: 'error', role: 'alert' }, message),
        h('a', { href: '/' }, 'Back to the calls'),
      );
    });
  return () => controller.abort();
}

function callView(call: CallDetailDto): HTMLElement {
  const started = Date.parse(call.started_at);
  const slowest = Math.max(1, ...call.exchanges.map((e) => e.total_ms ?? e.time_to_first_token_ms ?? 0));
  const downloadButton = h('button', { type: 'button', class: 'ghost' }, 'Download transcript');
  const downloadTranscript = async () => {
    downloadButton.disabled = true;
    try {
      download(await api.transcriptText(call.session_id), `transcript-${call.session_id}.txt`);
    } finally {
      downloadButton.disabled = false;
    }
  };
  // A failed download is left to the browser's console; the button comes back either way.
  downloadButton.addEventListener('click', () => void downloadTranscript());

  const head = h(
    'div',
    { class: 'page-head call-head' },
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, '← Calls')),
    h('h1', {}, parties(call.from_number, call.to_number)),
    h(
      'p',
      { class: 'call-facts' },
      h('span', {}, formatFull(call.started_at)),
      h('span', {}, `Agent ${call.agent_id}`),
      h('span', {}, call.status === 'active' ? 'In progress' : formatDuration(call.duration_ms)),
      h('span', {}, plural(call.turn_count, 'turn')),
      call.end_reason ? h('span', {}, END_REASON_LABELS[call.end_reason]) : null,
      call.status === 'active' ? badge('live', 'live') : null,
      call.has_failures ? badge(`${call.failed_exchanges} failed`, 'bad') : null,
    ),
    h('div', { class: 'actions' }, downloadButton),
  );

  const timeline = h(
    'ol',
    { class: 'timeline', 'aria-label': 'Conversation' },
    call.exchanges.map((exchange) => turnItems(exchange, started, slowest)),
  );
  if (call.exchanges.length === 0) timeline.append(h('li', { class: 'muted' }, 'Nothing was said on this call.'));

  return h(
    'div',
    { class: 'call-layout' },
    h('section', { class: 'call-main', 'aria-label': 'Conversation' }, head, timeline),
    sidePanel(call, started),
  );
}

function turnItems(exchange: ExchangeDto, started: number, slowest: number): HTMLElement[] {
  const items: HTMLElement[] = [];
  const offset = (iso: string | null) => (iso ? formatOffset(Date.parse(iso) - started) : '');
  if (exchange.kind === 'reply' && exchange.user_text) {
    items.push(
      h(
        'li',
        { class: 'bubble-row caller', 'data-stream-id': exchange.stream_id },
        h(
          'div',
          { class: 'bubble' },
          h(
            'p',
            { class: 'who' },
            'Caller',
            h('time', { datetime: exchange.requested_at }, offset(exchange.requested_at)),
          ),
          h('p', { class: 'text' }, exchange.user_text),
        ),
      ),
    );
  }
  const cut = CUT_OFF.has(exchange.status);
  const statusNote =
    exchange.status === 'completed'
      ? null
      : badge(
          REPLY_STATUS_LABELS[exchange.status],
          exchange.status === 'failed' ? 'bad' : exchange.status === 'streaming' ? 'live' : 'warn',
        );
  items.push(
    h(
      'li',
      { class: `bubble-row agent status-${exchange.status}`, 'data-stream-id': exchange.stream_id },
      h(
        'div',
        { class: `bubble${cut ? ' cut' : ''}` },
        h(
          'p',
          { class: 'who' },
          exchange.kind === 'greeting' ? 'Agent · greeting' : 'Agent',
          h(
            'time',
            { datetime: exchange.first_token_at ?? exchange.requested_at },
            offset(exchange.first_token_at ?? exchange.requested_at),
          ),
          statusNote,
        ),
        h(
          'p',
          { class: 'text' },
          exchange.response_text ? exchange.response_text : h('span', { class: 'muted' }, '(nothing was sent)'),
          cut && exchange.response_text ? h('span', { class: 'cut-mark', title: 'Cut off here' }, ' ✂') : null,
        ),
        cut ? h('p', { class: 'note' }, 'Only the text above was sent to the caller.') : null,
        exchange.error ? h('p', { class: 'note error-note' }, exchange.error) : null,
        timingBar(exchange, slowest),
      ),
    ),
  );
  return items;
}

/** Time to first token and total reply time, on one scale for the whole call. */
function timingBar(exchange: ExchangeDto, slowest: number): HTMLElement {
  const ttft = exchange.time_to_first_token_ms;
  const total = exchange.total_ms;
  const label = `Time to first token ${formatMs(ttft)}, total ${formatMs(total)}`;
  const width = (ms: number | null) =>
    `${Math.max(ms ? 1 : 0, Math.min(100, ((ms ?? 0) / slowest) * 100)).toFixed(1)}%`;
  return h(
    'div',
    { class: 'timing', role: 'img', 'aria-label': label, title: label },
    h(
      'div',
      { class: 'timing-track' },
      h('span', { class: 'timing-total', style: `width:${width(total)}` }),
      h('span', { class: 'timing-ttft', style: `width:${width(ttft)}` }),
    ),
    h(
      'span',
      { class: 'timing-text', 'aria-hidden': 'true' },
      `first token ${formatMs(ttft)} · total ${formatMs(total)}`,
      exchange.model ? ` · ${exchange.model}` : '',
      exchange.total_tokens ? ` · ${exchange.total_tokens} tokens` : '',
    ),
  );
}

function sidePanel(call: CallDetailDto, started: number): HTMLElement {
  const json = (value: unknown) => h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
  const hasMetadata = call.metadata && Object.keys(call.metadata).length > 0;
  const timeline = sideTimeline(call, started, json);
  return h(
    'aside',
    { class: 'side-panel', 'aria-label': 'Call details' },
    h(
      'details',
      { open: true },
      h('summary', {}, 'Call'),
      definitions([
        ['Session', h('code', {}, call.session_id)],
        ['Call SID', call.call_sid ? h('code', {}, call.call_sid) : null],
        ['Agent', call.agent_id],
        ['Channel', isWebCall(call.from_number, call.to_number) ? 'Web call' : 'Phone'],
        ['From', call.from_number ? formatPhone(call.from_number) : null],
        ['To', call.to_number ? formatPhone(call.to_number) : null],
        ['Started', formatFull(call.started_at)],
        ['Ended', formatFull(call.ended_at)],
        ['Duration', formatDuration(call.duration_ms)],
        ['End reason', call.end_reason ? END_REASON_LABELS[call.end_reason] : null],
        ['Close code', call.close_code === null ? null : String(call.close_code)],
        ['Failed replies', String(call.failed_exchanges)],
        ['Redacted', formatFull(call.redacted_at)],
      ]),
    ),
    analysisPanel(call),
    h(
      'details',
      { open: !!hasMetadata },
      h('summary', {}, 'Metadata'),
      hasMetadata ? json(call.metadata) : h('p', { class: 'muted' }, 'None.'),
    ),
    h(
      'details',
      { open: true, class: 'events' },
      h('summary', {}, `Events and tool calls (${timeline.length})`),
      timeline.length === 0
        ? h('p', { class: 'muted' }, 'No events.')
        : h(
            'ol',
            { class: 'event-list' },
            timeline.map((item) => item.node),
          ),
    ),
  );
}

/** Frames and tool calls in one list, in time order. */
function sideTimeline(
  call: CallDetailDto,
  started: number,
  json: (value: unknown) => HTMLElement,
): Array<{ at: number; node: HTMLElement }> {
  const events = call.events.map((event) => ({
    at: Date.parse(event.received_at),
    node: eventItem(event, started, json),
  }));
  const tools = call.exchanges.flatMap((exchange) =>
    (exchange.tool_calls ?? []).map((tool) => ({
      at: Date.parse(tool.started_at),
      node: toolCallItem(tool, exchange.stream_id, started, json),
    })),
  );
  return [...events, ...tools].sort((a, b) => a.at - b.at);
}

function toolCallItem(
  tool: ToolCallDto,
  streamId: number,
  started: number,
  json: (value: unknown) => HTMLElement,
): HTMLElement {
  const outcome = tool.status === 'ok' ? '' : ` · ${asWords(tool.status)}`;
  return h(
    'li',
    { class: `event event-tool_call tool-${tool.status}` },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('time', { datetime: tool.started_at }, formatOffset(Date.parse(tool.started_at) - started)),
        ' ',
        h('strong', {}, 'Tool call'),
        ` · stream ${streamId}`,
        h('span', { class: 'muted' }, ` ${tool.name}${outcome} · ${Math.round(tool.duration_ms)} ms`),
      ),
      json({ arguments: tool.arguments, ...(tool.error ? { error: tool.error } : { result: tool.result }) }),
    ),
  );
}

const EVENT_LABELS: Record<string, string> = {
  partial_transcript: 'Partial transcript',
  playback_finished: 'Playback finished',
  interrupt: 'Interrupt',
  invalid: 'Rejected frame',
  stale_stream_request: 'Stale request',
};

/** Any event type renders (tool calls included, when they are recorded). */
function eventItem(event: CallEventDto, started: number, json: (value: unknown) => HTMLElement): HTMLElement {
  const label = EVENT_LABELS[event.type] ?? asWords(event.type).replace(/^./, (c) => c.toUpperCase());
  const data = (event.payload?.data ?? event.payload) as Record<string, unknown> | undefined;
  const preview =
    typeof data?.transcript === 'string' ? `“${data.transcript}”` : typeof data?.name === 'string' ? data.name : '';
  return h(
    'li',
    { class: `event event-${event.type}` },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('time', { datetime: event.received_at }, formatOffset(Date.parse(event.received_at) - started)),
        ' ',
        h('strong', {}, label),
        event.stream_id === null ? '' : ` · stream ${event.stream_id}`,
        preview ? h('span', { class: 'muted' }, ` ${preview}`) : null,
      ),
      json(event.payload),
    ),
  );
}
