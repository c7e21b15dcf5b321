import type { AnalysisSettings } from '../agents/agent-analysis';
import type { CallForAnalysis } from '../call-records/call-analysis.types';
import type { ChatMessage } from '../llm/llm-client';

/**
 * The request of an analysis: the instructions (ANALYSIS_PROMPT, the outcomes and fields to
 * fill in, the agent's own instructions) as the system message, the transcript as the user
 * message. Its size is what an analysis costs: about the transcript plus the schema.
 */
export function analysisMessages(prompt: string, settings: AnalysisSettings, call: CallForAnalysis): ChatMessage[] {
  const lines = [prompt.trim(), '', `Outcomes to choose from: ${settings.outcomes.join(', ')}.`];
  if (settings.customFields.length) {
    lines.push('', 'Fields to fill in (null when the call does not tell):');
    for (const field of settings.customFields) {
      const kind = field.type === 'enum' ? `one of ${(field.values ?? []).join(', ')}` : field.type;
      lines.push(`- ${field.name} (${kind})${field.description ? `: ${field.description}` : ''}`);
    }
  }
  if (settings.instructions) lines.push('', settings.instructions.trim());
  return [
    { role: 'system', content: lines.join('\n') },
    { role: 'user', content: transcriptText(call) },
  ];
}

export function transcriptText(call: CallForAnalysis): string {
  const lines = [`Transcript of the call (agent ${call.agentId}, started ${call.startedAt.toISOString()}):`];
  for (const turn of call.turns) {
    if (turn.callerText) lines.push(`Caller: ${oneLine(turn.callerText)}`);
    if (turn.agentText) lines.push(`Agent: ${oneLine(turn.agentText)}`);
  }
  if (lines.length === 1) lines.push('(nothing was said)');
  return lines.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
