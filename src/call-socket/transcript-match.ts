import type { TranscriptTurn } from '../llm/llm-reply';

/**
 * Words as a comparison sees them: case, punctuation, symbols and spacing ignored, so
 * "What are your hours?" and "what are your  hours" are the same words. Letters and digits of
 * any script are kept; an apostrophe inside a word is dropped ("don't" = "dont").
 */
export function normaliseUtterance(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['\u2019]/gu, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The same conversation: the same turns, in order, with the same roles and the same words. */
export function sameTranscript(expected: readonly TranscriptTurn[], actual: readonly TranscriptTurn[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every(
    (turn, i) =>
      turn.role === actual[i].role && normaliseUtterance(turn.content) === normaliseUtterance(actual[i].content),
  );
}
