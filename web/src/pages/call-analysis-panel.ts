import { api, type CallAnalysisDto, type CallDetailDto } from '../api';
import { describeError } from '../../../src/common/describe-error';
import { badge, definitions, h, replaceChildren } from '../dom';
import { formatFull } from '../format';

const STATUS_LABELS: Record<CallAnalysisDto['status'], string> = {
  pending: 'Queued',
  running: 'Running',
  completed: 'Done',
  failed: 'Failed',
};

const SENTIMENT_TONES: Record<string, 'neutral' | 'ok' | 'bad'> = {
  positive: 'ok',
  neutral: 'neutral',
  negative: 'bad',
};

/** The call's post-call analysis in the side panel, with a button to run it (again). */
export function analysisPanel(call: CallDetailDto): HTMLElement {
  const body = h('div', {}, analysisBody(call.analysis));
  const button = h('button', { type: 'button', class: 'ghost' }, call.analysis ? 'Analyse again' : 'Analyse');
  const status = h('p', { class: 'muted', role: 'status' });
  const rerun = async () => {
    button.disabled = true;
    try {
      replaceChildren(body, analysisBody(await api.analyse(call.session_id)));
      status.textContent = 'Queued: reload the page in a moment for the result.';
    } catch (error) {
      status.textContent = `Could not queue the analysis: ${describeError(error)}`;
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', () => void rerun());
  return h(
    'details',
    { open: true, class: 'analysis' },
    h('summary', {}, 'Analysis'),
    body,
    call.redacted_at ? null : h('div', { class: 'actions' }, button),
    status,
  );
}

function analysisBody(analysis: CallAnalysisDto | null): HTMLElement {
  if (!analysis) return h('p', { class: 'muted' }, 'Not analysed.');
  const fields = Object.entries(analysis.custom_fields ?? {});
  const tokens =
    analysis.prompt_tokens === null
      ? null
      : `${analysis.prompt_tokens} in, ${analysis.completion_tokens ?? 0} out (${analysis.model ?? 'model'})`;
  return h(
    'div',
    {},
    analysis.summary ? h('p', { class: 'analysis-summary' }, analysis.summary) : null,
    definitions([
      [
        'Status',
        badge(
          STATUS_LABELS[analysis.status],
          analysis.status === 'failed' ? 'bad' : analysis.status === 'completed' ? 'ok' : 'neutral',
        ),
      ],
      ['Outcome', analysis.outcome],
      [
        'Sentiment',
        analysis.sentiment ? badge(analysis.sentiment, SENTIMENT_TONES[analysis.sentiment] ?? 'neutral') : null,
      ],
      ...fields.map(([name, value]): [string, string] => [
        name,
        value === null
          ? '–'
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value as string | number | boolean),
      ]),
      ['Error', analysis.error],
      ['Attempts', analysis.attempts > 1 ? String(analysis.attempts) : null],
      ['Tokens', tokens],
      ['Analysed', formatFull(analysis.completed_at) || null],
    ]),
  );
}
