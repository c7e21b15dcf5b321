import type { DialectTraits } from './fake-llm-dialects';
import type { StreamStep } from './fake-llm-scenario';

export interface StreamContext {
  id: string;
  created: number;
  model: string;
  /** The request asked for stream_options.include_usage. */
  includeUsage: boolean;
  promptTokens: number;
}

/** What Azure's filters annotate: nothing filtered. */
const SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

export function sse(payload: object): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * Writes one reply's SSE frames in a dialect: what comes before the first token, each step,
 * and the ending (finish, usage, annotations, [DONE]).
 */
export class ChunkRenderer {
  /** Completion tokens written so far (running usage). */
  private completion = 0;
  private steps = 0;

  constructor(
    private readonly traits: DialectTraits,
    private readonly ctx: StreamContext,
  ) {}

  opening(): string[] {
    switch (this.traits.opening) {
      case 'role':
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'role-only':
        return [this.chunk({ role: 'assistant' })];
      case 'azure-filter':
        return [
          sse({
            choices: [],
            created: 0,
            id: '',
            model: '',
            object: '',
            prompt_filter_results: [{ prompt_index: 0, content_filter_results: SAFE }],
          }),
          this.chunk({ role: 'assistant', content: '' }),
        ];
      case 'none':
        return [];
    }
  }

  keepAlive(): string | undefined {
    return this.traits.keepAlive ? `${this.traits.keepAlive}\n\n` : undefined;
  }

  step(step: StreamStep, last: boolean, finishReason: string): string {
    const delta: Record<string, unknown> =
      this.steps === 0 && this.traits.opening === 'none'
        ? { role: 'assistant', ...deltaOf(step, this.traits) }
        : deltaOf(step, this.traits);
    this.steps++;
    if (step.type !== 'tool' || step.arguments !== '') this.completion++;
    if (last && this.traits.finishOnLastToken) return this.chunk(delta, finishReason, this.usageOnFinish());
    return this.chunk(delta);
  }

  ending(finishReason: string): string[] {
    const frames: string[] = [];
    if (!(this.traits.finishOnLastToken && this.steps > 0))
      frames.push(this.chunk({}, finishReason, this.usageOnFinish()));
    if (this.traits.contentFilter) {
      // Azure's asynchronous filter: an annotation whose choice has no delta at all.
      frames.push(
        sse({
          id: this.ctx.id,
          object: 'chat.completion.chunk',
          created: this.ctx.created,
          model: this.ctx.model,
          choices: [
            {
              index: 0,
              finish_reason: null,
              content_filter_results: SAFE,
              content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: this.completion },
            },
          ],
        }),
      );
    }
    if (this.ctx.includeUsage && this.traits.usage === 'final-chunk') {
      frames.push(
        sse({
          id: this.ctx.id,
          object: 'chat.completion.chunk',
          created: this.ctx.created,
          model: this.ctx.model,
          choices: [],
          usage: this.usage(),
        }),
      );
    }
    frames.push('data: [DONE]\n\n');
    return frames;
  }

  usage(): Record<string, unknown> {
    const hidden = this.traits.hiddenReasoningTokens ?? 0;
    const completion = this.completion + hidden;
    return {
      prompt_tokens: this.ctx.promptTokens,
      completion_tokens: completion,
      total_tokens: this.ctx.promptTokens + completion,
      ...(hidden ? { completion_tokens_details: { reasoning_tokens: hidden } } : {}),
    };
  }

  private usageOnFinish(): Record<string, unknown> {
    if (this.traits.usage === 'x_groq') return { x_groq: { id: `req_${this.ctx.id}`, usage: this.usage() } };
    if (this.traits.usage === 'on-finish') return { usage: this.usage() };
    return {};
  }

  private chunk(delta: object, finishReason: string | null = null, extra: Record<string, unknown> = {}): string {
    const choice = {
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finishReason,
      ...(this.traits.contentFilter ? { content_filter_results: SAFE } : {}),
    };
    const usage =
      this.ctx.includeUsage && this.traits.usage === 'every-chunk'
        ? { usage: this.usage() }
        : this.ctx.includeUsage && this.traits.usageNullOnChunks
          ? { usage: null }
          : {};
    return sse({
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [choice],
      ...usage,
      ...extra,
    });
  }
}

function deltaOf(step: StreamStep, traits: DialectTraits): Record<string, unknown> {
  switch (step.type) {
    case 'content':
      return { content: step.text };
    case 'reasoning':
      // DeepSeek sends content: null beside reasoning_content.
      return traits.reasoningField === 'reasoning_content'
        ? { content: null, reasoning_content: step.text }
        : { [traits.reasoningField ?? 'reasoning']: step.text };
    case 'tool': {
      const head = step.first || traits.toolCalls === 'id-every-piece';
      const index =
        traits.toolCalls === 'whole-no-index'
          ? {}
          : { index: traits.toolCalls === 'whole-index-zero' ? 0 : step.index };
      const fn = head ? { name: step.name, arguments: step.arguments } : { arguments: step.arguments };
      return { tool_calls: [{ ...index, ...(head ? { id: step.id, type: 'function' } : {}), function: fn }] };
    }
  }
}
