import WebSocket from 'ws';
import { describeError } from '../src/common/describe-error';
import { webSocketText } from '../src/common/web-socket-text';
import { epochNow } from './statistics';

export interface CallPlan {
  url: string;
  sessionId: string;
  index: number;
  turns: number;
  /** With a deadline (epoch ms), the call keeps taking turns until then, `turns` or not. */
  deadline?: number;
  thinkMs: number;
  tokensPerReply: number;
  interruptRate: number;
  /** Pieces to hear before interrupting a turn chosen for interruption. */
  interruptAfterPieces: number;
  /**
   * Hangs up only once this settles: with every call done with its turns and still open,
   * the idle heap is read without pausing any measured turn or lining the turns up.
   */
  hangUpAfter?: Promise<unknown>;
  /**
   * The platform's endpointing, as `--scenario preemptive` plays it: each turn's final partial
   * transcript, then the stream_request `delayMs` later; in `mismatchRate` of the turns the
   * stream_request carries other final words than the partial. Unset: the partials and the
   * stream_request go together, as before.
   */
  endpointing?: { delayMs: number; mismatchRate: number };
}

/** The words of a turn under endpointing: the final partial's, and the stream_request's (other words on a mismatch). */
export function endpointedWords(key: string, mismatch: boolean): { partial: string; final: string } {
  return { partial: `${key} alpha`, final: mismatch ? `${key} bravo` : `${key} alpha` };
}

export interface TurnTiming {
  key: string;
  streamId: number;
  sentAt: number;
  pieceAt: number[];
  endAt: number | null;
  interrupted: boolean;
  /** Under endpointing: the stream_request carried other words than the final partial. */
  mismatch: boolean;
  /** The words of the stream_request's last user turn. */
  said: string;
  /** What the caller heard of the reply. */
  text: string;
}

export interface CallOutcome {
  turns: TurnTiming[];
  framesSent: number;
  framesReceived: number;
  partialsSent: number;
  interruptsSent: number;
  error?: string;
}

export interface CallProgress {
  connected: number;
  greeted: number;
  turnsDone: number;
  /** Calls done with their turns (or failed), waiting for `hangUpAfter`. */
  holding: number;
  /** Frames all calls sent so far (start_call, partial_transcript, stream_request, interrupt). */
  framesSent: number;
  /** Frames all calls received so far (stream_response: the greeting and the replies). */
  framesReceived: number;
}

/** What the bench reads of the service's frames, taken on trust (the e2e suites check them). */
interface ReplyFrame {
  type: string;
  data: { stream_id: number; content: string; end_of_stream: boolean };
}

/**
 * One call as the Millis platform makes it: start_call, the greeting, then turns
 * separated by think time, each preceded by partial transcripts, some interrupted.
 */
export async function simulateCall(plan: CallPlan, progress: CallProgress, random: () => number): Promise<CallOutcome> {
  const outcome: CallOutcome = { turns: [], framesSent: 0, framesReceived: 0, partialsSent: 0, interruptsSent: 0 };
  const socket = new WebSocket(plan.url, { perMessageDeflate: false });
  let onFrame: (frame: ReplyFrame) => void = () => {};
  socket.on('message', (raw) => {
    outcome.framesReceived++;
    progress.framesReceived++;
    onFrame(JSON.parse(webSocketText(raw)) as ReplyFrame);
  });
  const send = (frame: object) => {
    outcome.framesSent++;
    progress.framesSent++;
    socket.send(JSON.stringify(frame));
  };

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    progress.connected++;

    const greetingDone = waitForEnd(0);
    send({
      type: 'start_call',
      data: {
        stream_id: 0,
        agent_id: 'bench-agent',
        session_id: plan.sessionId,
        call_sid: `CA${plan.index}`,
        metadata: { customer: `caller ${plan.index}` },
        voip: { from: `+1555${String(plan.index).padStart(7, '0')}`, to: '+15550000000' },
      },
    });
    const greeting = await greetingDone;
    progress.greeted++;

    const transcript: Array<{ role: string; content: string }> = [{ role: 'assistant', content: greeting }];
    const more = (streamId: number) =>
      plan.deadline === undefined ? streamId <= plan.turns : Date.now() < plan.deadline;
    for (let streamId = 1; more(streamId); streamId++) {
      const think = sleep(plan.thinkMs * (0.8 + 0.4 * random()));
      await think;
      const key = `${plan.sessionId} t${streamId}`;
      let utterance = `${key} [fake:tokens ${plan.tokensPerReply}]`;
      let mismatch = false;
      if (plan.endpointing) {
        // The caller's final words, then the platform's endpointing delay before it asks for the reply.
        mismatch = random() < plan.endpointing.mismatchRate;
        const words = endpointedWords(key, mismatch);
        utterance = words.final;
        for (const [partial, isFinal] of [
          [key, false],
          [words.partial, true],
        ] as const) {
          send({
            type: 'partial_transcript',
            data: { session_id: plan.sessionId, transcript: partial, is_final: isFinal },
          });
          outcome.partialsSent++;
        }
        await sleep(plan.endpointing.delayMs);
      } else {
        for (const words of [utterance.split(' ').slice(0, 1).join(' '), key]) {
          send({
            type: 'partial_transcript',
            data: { session_id: plan.sessionId, transcript: words, is_final: words === key },
          });
          outcome.partialsSent++;
        }
      }
      transcript.push({ role: 'user', content: utterance });

      const timing: TurnTiming = {
        key,
        streamId,
        sentAt: 0,
        pieceAt: [],
        endAt: null,
        interrupted: false,
        mismatch,
        said: utterance,
        text: '',
      };
      outcome.turns.push(timing);
      const interrupt = random() < plan.interruptRate;
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        onFrame = (frame) => {
          if (frame.type !== 'stream_response' || frame.data.stream_id !== streamId) return;
          const at = epochNow();
          if (frame.data.end_of_stream) {
            timing.endAt = at;
            resolve(text);
            return;
          }
          timing.pieceAt.push(at);
          text += frame.data.content;
          timing.text = text;
          if (interrupt && timing.pieceAt.length === plan.interruptAfterPieces) {
            send({ type: 'interrupt', stream_id: streamId });
            outcome.interruptsSent++;
            timing.interrupted = true;
            resolve(text);
          }
        };
        timing.sentAt = epochNow();
        send({ type: 'stream_request', data: { stream_id: streamId, transcript } });
      });
      onFrame = () => {};
      transcript.push({ role: 'assistant', content: reply });
      progress.turnsDone++;
    }
  } catch (error) {
    outcome.error = describeError(error);
  } finally {
    progress.holding++;
    await plan.hangUpAfter?.catch(() => undefined);
    socket.close();
  }
  return outcome;

  function waitForEnd(streamId: number): Promise<string> {
    return new Promise((resolve) => {
      let text = '';
      onFrame = (frame) => {
        if (frame.type !== 'stream_response' || frame.data.stream_id !== streamId) return;
        text += frame.data.content;
        if (frame.data.end_of_stream) resolve(text);
      };
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Small seeded generator so two runs make the same choices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
