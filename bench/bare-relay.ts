import OpenAI from 'openai';
import { WebSocketServer } from 'ws';
import { webSocketText } from '../src/common/web-socket-text';

/**
 * The baseline the benchmark compares us with: the least a Millis custom-LLM server
 * can be. `ws` + `openai`, no framework, no validation, no persistence. Frames as the
 * service sends them: each token its own stream_response, and `flush` on end_of_stream.
 */
const port = Number(process.env.PORT ?? 8090);
const greeting = process.env.GREETING ?? 'Hello.';
const openai = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY ?? 'x',
  maxRetries: 0,
});
const model = process.env.OPENAI_MODEL ?? 'fake-model';

/** The frames the relay reads, taken on trust: the baseline validates nothing. */
type Frame =
  | { type: 'start_call'; data: { stream_id: number } }
  | { type: 'interrupt' }
  | { type: 'stream_request'; data: { stream_id: number; transcript: OpenAI.ChatCompletionMessageParam[] } };

const server = new WebSocketServer({ port, host: '127.0.0.1', path: '/llm-websocket' });
server.on('connection', (socket) => {
  let current: AbortController | null = null;
  const send = (data: object) => socket.send(JSON.stringify({ type: 'stream_response', data }));

  const relay = async (frame: Frame) => {
    if (frame.type === 'start_call') {
      send({ stream_id: frame.data.stream_id, content: greeting, end_of_stream: false });
      send({ stream_id: frame.data.stream_id, content: '', end_of_stream: true, flush: true });
    } else if (frame.type === 'interrupt') {
      current?.abort();
    } else if (frame.type === 'stream_request') {
      current?.abort();
      const controller = (current = new AbortController());
      const streamId = frame.data.stream_id;
      try {
        const stream = await openai.chat.completions.create(
          { model, stream: true, messages: frame.data.transcript },
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta?.content;
          if (content && !controller.signal.aborted) send({ stream_id: streamId, content, end_of_stream: false });
        }
        if (!controller.signal.aborted) send({ stream_id: streamId, content: '', end_of_stream: true, flush: true });
      } catch {
        if (!controller.signal.aborted) send({ stream_id: streamId, content: 'Sorry.', end_of_stream: true });
      }
    }
  };
  // relay() catches its own failures: a reply that fails ends in 'Sorry.'.
  socket.on('message', (raw) => void relay(JSON.parse(webSocketText(raw)) as Frame));
  socket.on('close', () => current?.abort());
});
server.on('listening', () => console.log(`bare relay listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
