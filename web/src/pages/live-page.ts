import type { LiveEventDto } from '../api';
import { h, replaceChildren } from '../dom';
import { plural } from '../format';
import { followLiveCalls, type LiveState } from '../live-stream';
import { LiveCallCard } from './live-call-card';

const ENDED_KEPT = 6;

export function renderLivePage(main: HTMLElement): () => void {
  const controller = new AbortController();
  const cards = new Map<string, LiveCallCard>();
  const connection = h('span', { class: 'connection' });
  const count = h('span', {});
  const active = h('div', { class: 'live-grid', id: 'live-active' });
  const ended = h('div', { class: 'live-grid', id: 'live-ended' });
  const empty = h('p', { class: 'muted empty' }, 'No call in progress. Calls appear here as soon as they start.');
  const noneEnded = h('p', { class: 'muted empty' }, 'None since this page was opened.');

  replaceChildren(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Live calls'),
      h('p', { class: 'live-status', role: 'status' }, connection, ' ', count),
    ),
    h(
      'section',
      { 'aria-labelledby': 'live-active-title' },
      h('h2', { id: 'live-active-title', class: 'section-title' }, 'In progress'),
      empty,
      active,
    ),
    h(
      'section',
      { 'aria-labelledby': 'live-ended-title' },
      h('h2', { id: 'live-ended-title', class: 'section-title' }, 'Just ended'),
      noneEnded,
      ended,
    ),
  );

  const refreshCount = () => {
    const n = [...cards.values()].filter((card) => !card.ended).length;
    count.textContent = `· ${plural(n, 'call')} in progress`;
    empty.hidden = n > 0;
    noneEnded.hidden = ended.childElementCount > 0;
  };
  const showState = (state: LiveState) => {
    connection.className = `connection connection-${state.kind}`;
    connection.textContent =
      state.kind === 'open'
        ? 'Connected'
        : state.kind === 'connecting'
          ? 'Connecting…'
          : `Disconnected, retrying in ${Math.ceil(state.retryInMs / 1000)} s`;
  };

  const onEvent = (event: LiveEventDto) => {
    switch (event.type) {
      case 'snapshot':
        for (const [id, card] of cards) {
          if (card.ended) continue;
          card.element.remove();
          cards.delete(id);
        }
        for (const call of [...event.calls].sort((a, b) => a.started_at.localeCompare(b.started_at)))
          addCard(new LiveCallCard(call));
        break;
      case 'call_started':
        addCard(new LiveCallCard(event.call));
        break;
      case 'reply_started':
        cards.get(event.session_id)?.addTurn(event.turn);
        break;
      case 'reply_piece':
        cards.get(event.session_id)?.appendPiece(event.stream_id, event.content);
        break;
      case 'reply_finished':
        cards
          .get(event.session_id)
          ?.finish(event.stream_id, event.status, event.time_to_first_token_ms, event.total_ms, event.text);
        break;
      case 'call_ended': {
        const card = cards.get(event.session_id);
        if (!card) break;
        card.end(event.end_reason, event.at);
        ended.prepend(card.element);
        card.attached();
        const old = [...ended.children].slice(ENDED_KEPT);
        for (const element of old) {
          element.remove();
          cards.delete((element as HTMLElement).dataset.sessionId ?? '');
        }
        break;
      }
    }
    refreshCount();
  };

  function addCard(card: LiveCallCard): void {
    cards.get(card.call.session_id)?.element.remove();
    cards.set(card.call.session_id, card);
    active.prepend(card.element);
    // Turns from a snapshot were added before the card had a height to scroll.
    card.attached();
  }

  const clock = window.setInterval(() => {
    const now = Date.now();
    for (const card of cards.values()) card.tick(now);
  }, 1000);
  refreshCount();
  followLiveCalls(onEvent, showState, controller.signal);
  return () => {
    controller.abort();
    window.clearInterval(clock);
  };
}
