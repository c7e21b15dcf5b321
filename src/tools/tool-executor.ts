import { Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import type { ToolCallRecord, ToolCallStatus } from '../audit/audit-records';
import { preciseNow } from '../common/clock';
import { describeError } from '../common/describe-error';
import type { ToolCallRequest } from '../llm/llm-client';
import { LinkedAbortController } from '../llm/linked-abort-controller';
import { ToolContext, ToolError } from './tool-context';
import type { RegisteredTool } from './tool-registry';

/** Longest tool result handed back to the model (characters). */
const MAX_RESULT_CHARS = 16_000;
const logger = new Logger('ToolExecutor');

export interface ToolOutcome {
  record: ToolCallRecord;
  /** What the model reads as the tool's result. */
  content: string;
}

export type ArgumentCheck = { ok: true; value: object } | { ok: false; parsed: unknown; error: string };

/** Parses the model's JSON and validates it against the tool's DTO (unknown properties are refused). */
export async function checkArguments(tool: RegisteredTool, raw: string): Promise<ArgumentCheck> {
  let parsed: unknown;
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, parsed: raw, error: 'arguments are not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, parsed, error: 'arguments must be a JSON object' };
  }
  const dto = tool.options.parameters;
  if (!dto) return { ok: true, value: parsed };
  const instance = plainToInstance(dto, parsed);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) return { ok: false, parsed, error: `invalid arguments: ${describe(errors).join('; ')}` };
  return { ok: true, value: instance };
}

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => [
    ...Object.values(e.constraints ?? {}).map((message) => (prefix ? `${prefix}.${message}` : message)),
    ...describe(e.children ?? [], prefix ? `${prefix}.${e.property}` : e.property),
  ]);
}

/**
 * Runs one tool call to an outcome, whatever happens: unknown tool, bad arguments, an
 * exception, the timeout or the turn being cancelled all become an error result the
 * model can read. The tool's signal aborts on timeout and on cancellation.
 */
export async function executeToolCall(
  tool: RegisteredTool | undefined,
  call: ToolCallRequest,
  context: Omit<ToolContext, 'signal'> & { signal: AbortSignal },
  /** `log`: the call's logger, so a tool's failure is found with the call's other lines. */
  options: { timeoutMs: number; round: number; log?: Pick<Logger, 'warn'> },
): Promise<ToolOutcome> {
  const startedAt = preciseNow();
  const started = performance.now();
  const finish = (
    status: ToolCallStatus,
    args: unknown,
    outcome: { result?: unknown; error?: string },
  ): ToolOutcome => {
    const record: ToolCallRecord = {
      id: call.id,
      name: call.name,
      arguments: args,
      status,
      ...outcome,
      round: options.round,
      startedAt,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    const content = status === 'ok' ? resultText(outcome.result) : JSON.stringify({ error: outcome.error });
    return { record, content: content.length > MAX_RESULT_CHARS ? content.slice(0, MAX_RESULT_CHARS) : content };
  };

  if (!tool)
    return finish('unknown_tool', safeParse(call.arguments), { error: `no tool named "${call.name}" is available` });
  if (context.signal.aborted) return finish('cancelled', safeParse(call.arguments), { error: 'cancelled' });
  const checked = await checkArguments(tool, call.arguments);
  if (!checked.ok) return finish('invalid_arguments', checked.parsed, { error: checked.error });

  const timeoutMs = tool.options.timeoutMs ?? options.timeoutMs;
  // Follows the turn's signal until this call ends, and aborts on its own timeout.
  const controller = new LinkedAbortController(context.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`tool timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const stopped = new Promise<typeof STOPPED>((resolve) =>
    controller.signal.addEventListener('abort', () => resolve(STOPPED), { once: true }),
  );
  const running = tool.invoke(checked.value, { ...context, signal: controller.signal });
  // The tool may still reject after we stopped waiting for it.
  running.catch(() => undefined);

  try {
    const result = await Promise.race([running, stopped]);
    if (result !== STOPPED) return finish('ok', toRecordable(checked.value), { result });
  } catch (error) {
    if (!controller.signal.aborted) {
      if (!(error instanceof ToolError))
        (options.log ?? logger).warn(`tool ${call.name} failed: ${describeError(error, { stack: true })}`);
      return finish('error', toRecordable(checked.value), { error: describeError(error) });
    }
  } finally {
    clearTimeout(timer);
    controller.dispose();
  }
  return timedOut
    ? finish('timeout', toRecordable(checked.value), { error: `timed out after ${timeoutMs} ms` })
    : finish('cancelled', toRecordable(checked.value), { error: 'cancelled' });
}

const STOPPED = Symbol('stopped');

function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  return JSON.stringify(result === undefined ? { ok: true } : result);
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function toRecordable(value: object): unknown {
  return JSON.parse(JSON.stringify(value));
}
