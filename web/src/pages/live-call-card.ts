import type { LiveCallDto, LiveTurnDto } from '../api';
import type { EndReason, ExchangeStatus } from '../../../src/call-records/call-status';
import { badge, h, parties } from '../dom';
import { END_REASON_LABELS, formatDuration, formatMs, REPLY_STATUS_LABELS } from '../format';
import { ScrollFollower } from '../scroll-follower';

interface TurnView {
  text: Text;
  bubble: HTMLElement;
  who: HTMLElement;
  timing: HTMLElement;
}

/** One call in progress: its turns, with the reply growing piece by piece as the caller hears it. */
export class LiveCallCard {
  readonly element: HTMLElement;
  private readonly turns = new Map<number, TurnView>();
  private readonly timeline: HTMLOListElement;
  private readonly elapsed: HTMLElement;
  private readonly state: HTMLElement;
  private readonly started: number;
  private readonly follower: ScrollFollower;
  ended = false;

  constructor(readonly call: LiveCallDto) {
    this.started = Date.parse(call.started_at);
    const titleId = `live-${call.session_id.replace(/[^\w-]/g, '_')}`;
    this.timeline = h('ol', { class: 'timeline compact', 'aria-label': 'Conversation so far' });
    this.follower = new ScrollFollower(this.timeline, '↓ Back to the latest words');
    this.elapsed = h('span', { class: 'elapsed' });
    this.state = h('span', { class: 'live-state' }, badge('live', 'live', 'In progress'));
    this.element = h(
      'article',
      { class: 'live-call', 'data-session-id': call.session_id, 'aria-labelledby': titleId },
      h(
        'header',
        {},
        h('h2', { id: titleId }, parties(call.from_number, call.to_number)),
        h('p', { class: 'call-facts' }, this.state, h('span', {}, `Agent ${call.agent_id}`), this.elapsed),
      ),
      this.timeline,
      this.follower.resumeButton,
    );
    for (const turn of call.turns) this.addTurn(turn);
    this.tick();
  }

  tick(now = Date.now()): void {
    if (!this.ended) this.elapsed.textContent = formatDuration(now - this.started);
  }

  addTurn(turn: LiveTurnDto): void {
    if (turn.kind === 'reply' && turn.user_text) {
      this.timeline.append(
        h(
          'li',
          { class: 'bubble-row caller' },
          h('div', { class: 'bubble' }, h('p', { class: 'who' }, 'Caller'), h('p', { class: 'text' }, turn.user_text)),
        ),
      );
    }
    const text = document.createTextNode(turn.text);
    const who = h('p', { class: 'who' }, turn.kind === 'greeting' ? 'Agent · greeting' : 'Agent');
    const timing = h('p', { class: 'timing-text' });
    const bubble = h(
      'div',
      { class: 'bubble streaming' },
      who,
      h('p', { class: 'text' }, text, h('span', { class: 'caret', 'aria-hidden': 'true' })),
      timing,
    );
    this.timeline.append(h('li', { class: 'bubble-row agent', 'data-stream-id': turn.stream_id }, bubble));
    this.turns.set(turn.stream_id, { text, bubble, who, timing });
    if (turn.status !== 'streaming')
      this.finish(turn.stream_id, turn.status, turn.time_to_first_token_ms, turn.total_ms);
    this.follower.grew();
  }

  appendPiece(streamId: number, content: string): void {
    const turn = this.turns.get(streamId);
    if (!turn) return;
    turn.text.appendData(content);
    this.follower.grew();
  }

  /** `text`, when given, is the whole reply: it replaces the pieces, which are not streamed while no view is open. */
  finish(streamId: number, status: ExchangeStatus, ttft: number | null, total: number | null, text?: string): void {
    const turn = this.turns.get(streamId);
    if (!turn) return;
    if (text !== undefined && text !== turn.text.data) turn.text.data = text;
    turn.bubble.classList.remove('streaming');
    turn.bubble.querySelector('.caret')?.remove();
    if (status === 'interrupted' || status === 'superseded') turn.bubble.classList.add('cut');
    if (status !== 'completed')
      turn.who.append(badge(REPLY_STATUS_LABELS[status], status === 'failed' ? 'bad' : 'warn'));
    turn.timing.textContent = `first token ${formatMs(ttft)} · total ${formatMs(total)}`;
    this.follower.grew();
  }

  end(reason: EndReason, at: string): void {
    this.ended = true;
    this.elapsed.textContent = formatDuration(Date.parse(at) - this.started);
    this.element.classList.add('ended');
    for (const [streamId, turn] of this.turns)
      if (turn.bubble.classList.contains('streaming')) this.finish(streamId, 'interrupted', null, null);
    this.state.replaceChildren(badge(END_REASON_LABELS[reason], 'neutral'));
    this.element.append(
      h(
        'p',
        { class: 'open-call' },
        h('a', { href: `/calls/${encodeURIComponent(this.call.session_id)}` }, 'Open the call'),
      ),
    );
  }

  /** After the card is put in a list, which resets its scroll position. */
  attached(): void {
    this.follower.attached();
  }
}
