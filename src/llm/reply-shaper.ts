/**
 * Turns the model's token stream into stream_response pieces.
 *
 * Text is relayed as it arrives (no added latency); the platform buffers it into
 * sentences for speech. We add `flush` only where the platform cannot know to speak:
 * before a pause, after a long run of text with no sentence end (at a clause
 * boundary), and at the end of the reply. A `<break time="500ms"/>` tag from the
 * model or a configured text becomes `pause` on the preceding piece.
 */

export interface ReplyPiece {
  content: string;
  flush?: boolean;
  pause?: number;
}

/** Longest text we let the platform buffer without a sentence end before forcing speech. */
export const FLUSH_AFTER_CHARS = 160;
export const MAX_PAUSE_MS = 10_000;
/** A '<' not closed within this many characters was not a tag: release the held text. */
const MAX_TAG_CHARS = 48;
const BREAK_TAG = /^<break\s+time\s*=\s*["']?(\d+(?:\.\d+)?)\s*(ms|s)["']?\s*\/?>$/i;
const SENTENCE_END = /[.!?…。！？]["')\]]*\s*$/;
const CLAUSE_END = /[,;:\u2014]\s*$/;

export class ReplyShaper {
  private held = '';
  private sinceSentenceEnd = 0;

  push(text: string): ReplyPiece[] {
    const pieces: ReplyPiece[] = [];
    // Almost every token: no tag in sight, so no need to walk it character by character.
    if (!this.held && !text.includes('<')) {
      this.emit(pieces, text, {});
      return pieces;
    }
    let plain = '';
    for (const char of text) {
      if (this.held) {
        this.held += char;
        if (char === '>') {
          const pause = parseBreak(this.held);
          if (pause === undefined) plain += this.held;
          else {
            this.emit(pieces, plain, { flush: true, pause });
            plain = '';
          }
          this.held = '';
        } else if (this.held.length > MAX_TAG_CHARS) {
          plain += this.held;
          this.held = '';
        }
      } else if (char === '<') {
        this.held = char;
      } else {
        plain += char;
      }
    }
    this.emit(pieces, plain, {});
    return pieces;
  }

  /** Whatever is still held back (an unfinished tag is spoken as text). */
  end(): ReplyPiece[] {
    const pieces: ReplyPiece[] = [];
    this.emit(pieces, this.held, {});
    this.held = '';
    return pieces;
  }

  private emit(pieces: ReplyPiece[], content: string, extra: { flush?: boolean; pause?: number }): void {
    if (!content && extra.pause === undefined) return;
    const piece: ReplyPiece = { content };
    if (SENTENCE_END.test(content)) this.sinceSentenceEnd = 0;
    else {
      this.sinceSentenceEnd += content.length;
      if (this.sinceSentenceEnd >= FLUSH_AFTER_CHARS && CLAUSE_END.test(content)) {
        piece.flush = true;
        this.sinceSentenceEnd = 0;
      }
    }
    if (extra.flush) {
      piece.flush = true;
      this.sinceSentenceEnd = 0;
    }
    if (extra.pause !== undefined) piece.pause = extra.pause;
    pieces.push(piece);
  }
}

function parseBreak(tag: string): number | undefined {
  const match = BREAK_TAG.exec(tag);
  if (!match) return undefined;
  const amount = Number(match[1]) * (match[2].toLowerCase() === 's' ? 1000 : 1);
  return Math.min(MAX_PAUSE_MS, Math.round(amount));
}

/** A complete text (greeting, fallback) shaped the same way; the caller ends the stream. */
export function shapeCompleteText(text: string): ReplyPiece[] {
  const shaper = new ReplyShaper();
  const pieces = [...shaper.push(text), ...shaper.end()];
  return pieces;
}
