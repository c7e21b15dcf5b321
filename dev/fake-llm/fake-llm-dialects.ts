/**
 * The ways OpenAI-compatible providers actually write a chat-completions stream, as the fake
 * reproduces them. Each dialect is taken from the provider's documentation or from issues
 * reporting what it sends (the `source` of each); the service must read every one of them
 * the same way.
 */

export const FAKE_DIALECTS = ['openai', 'azure', 'vllm', 'ollama', 'gemini', 'groq', 'deepseek', 'openrouter'] as const;
export type FakeDialect = (typeof FAKE_DIALECTS)[number];

export interface DialectTraits {
  /**
   * Before the first token: `role` the usual {"role":"assistant","content":""} chunk;
   * `role-only` {"role":"assistant"} without content; `azure-filter` a chunk with empty
   * choices carrying prompt_filter_results, then the role chunk; `none` the role comes with
   * the first token.
   */
  opening: 'role' | 'role-only' | 'azure-filter' | 'none';
  /** SSE comment sent while the model has not started (and on and on while it hangs). */
  keepAlive?: string;
  /** Delta field of a reasoning model's thinking, streamed before its answer. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** Thinking that is not streamed but counted in usage.completion_tokens_details.reasoning_tokens. */
  hiddenReasoningTokens?: number;
  /**
   * `pieces`: id, type and name on a call's first piece, then argument pieces (OpenAI);
   * `id-every-piece`: id, type and name repeated on every piece; `whole`: each call in one
   * piece; `whole-no-index`: the same without `index`; `whole-index-zero`: every call at index 0.
   */
  toolCalls: 'pieces' | 'id-every-piece' | 'whole' | 'whole-no-index' | 'whole-index-zero';
  /** Parallel calls' pieces alternate instead of following each other. */
  interleaveToolCalls?: boolean;
  /**
   * `final-chunk`: an extra chunk with empty choices before [DONE] (when include_usage);
   * `on-finish`: usage on the finish chunk; `every-chunk`: running totals on every chunk;
   * `x_groq`: under x_groq.usage on the finish chunk.
   */
  usage: 'final-chunk' | 'on-finish' | 'every-chunk' | 'x_groq';
  /** "usage": null on every other chunk (OpenAI with include_usage). */
  usageNullOnChunks?: boolean;
  /** finish_reason on the last token's chunk rather than on a chunk of its own. */
  finishOnLastToken?: boolean;
  /** content_filter_results on every choice, and a trailing annotation chunk whose choice has no delta. */
  contentFilter?: boolean;
  /** 429s also carry retry-after-ms. */
  retryAfterMs?: boolean;
  /** Where this dialect comes from. */
  source: string;
}

export const DIALECTS: Record<FakeDialect, DialectTraits> = {
  openai: {
    opening: 'role',
    toolCalls: 'pieces',
    usage: 'final-chunk',
    usageNullOnChunks: true,
    source:
      'OpenAI API reference, chat completion chunk and stream_options.include_usage: a final chunk with empty choices carries usage, every other chunk "usage": null; tool calls by index, id and name on the first piece',
  },
  azure: {
    opening: 'azure-filter',
    toolCalls: 'pieces',
    usage: 'final-chunk',
    contentFilter: true,
    retryAfterMs: true,
    source:
      'Azure OpenAI content filtering in streams: first chunk with "choices": [] and prompt_filter_results (Azure/azure-sdk-for-go#21086, AbanteAI/mentat#429), annotation chunks whose choice has no delta (microsoft/autogen#6465); 429s with retry-after / retry-after-ms',
  },
  vllm: {
    opening: 'role',
    reasoningField: 'reasoning',
    toolCalls: 'pieces',
    interleaveToolCalls: true,
    usage: 'every-chunk',
    finishOnLastToken: true,
    source:
      "vLLM: reasoning deltas renamed reasoning_content -> reasoning (vllm-project/vllm#27752, #33402); stream_options.continuous_usage_stats puts running usage on every chunk; finish_reason on the last token's chunk (vllm-project/vllm#36944); parallel tool-call pieces interleaved by index (continuedev/continue#13223, maximhq/bifrost#1830)",
  },
  ollama: {
    opening: 'none',
    reasoningField: 'reasoning',
    toolCalls: 'whole-index-zero',
    usage: 'final-chunk',
    source:
      'Ollama OpenAI compatibility: each tool call whole in one chunk (ollama/ollama#11633), every call at index 0 (ollama/ollama#15457; no index at all before 0.4.7, #7881), thinking as `reasoning` (QwenLM/Qwen-Agent#843)',
  },
  gemini: {
    opening: 'none',
    toolCalls: 'whole-no-index',
    usage: 'on-finish',
    finishOnLastToken: true,
    hiddenReasoningTokens: 12,
    source:
      "Gemini's OpenAI-compatible endpoint: tool calls without index (openai/openai-python#2806), usage with completion_tokens_details.reasoning_tokens on the chunk that finishes (openai/openai-python#2641)",
  },
  groq: {
    opening: 'role',
    toolCalls: 'whole',
    usage: 'x_groq',
    source:
      "Groq: usage under x_groq.usage on the finish chunk and each tool call whole in one chunk (recorded Groq streams in the AI SDK's Groq provider tests)",
  },
  deepseek: {
    opening: 'role-only',
    keepAlive: ': keep-alive',
    reasoningField: 'reasoning_content',
    toolCalls: 'id-every-piece',
    usage: 'final-chunk',
    source:
      'DeepSeek API docs: ": keep-alive" SSE comments while a request waits (Rate Limit page), reasoning_content deltas (deepseek-reasoner guide); the tool-call id repeated on every piece (langchain4j/langchain4j#4544; Fireworks also repeats type and name, SillyTavern/SillyTavern#5948)',
  },
  openrouter: {
    opening: 'role',
    keepAlive: ': OPENROUTER PROCESSING',
    reasoningField: 'reasoning',
    toolCalls: 'pieces',
    usage: 'final-chunk',
    source:
      'OpenRouter streaming docs: ": OPENROUTER PROCESSING" comments to keep the connection open, `reasoning` deltas, usage in a final chunk',
  },
};

export function isFakeDialect(value: string): value is FakeDialect {
  return (FAKE_DIALECTS as readonly string[]).includes(value);
}
