import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import {
  InterruptDto,
  InvalidFrame,
  PartialTranscriptDto,
  PlaybackFinishedDto,
  StartCallDto,
  StreamRequestDto,
} from '../protocol/inbound-frames';
import { serializeFrame } from '../protocol/outbound-frames';
import { isPeerLost } from '../observability/peer-liveness';
import { ActiveCall } from './active-call';
import { CallService } from './call.service';

/**
 * The Millis custom-LLM endpoint. Frames arrive parsed and validated by the adapter's
 * message parser; each handler hands its frame to CallService. Every frame we send
 * goes through `socket.send` (never a handler's return value, which Nest would wrap
 * and send asynchronously).
 */
@WebSocketGateway({ path: '/llm-websocket' })
export class CallGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly calls = new WeakMap<WebSocket, ActiveCall>();

  constructor(private readonly callService: CallService) {}

  handleConnection(socket: WebSocket): void {
    const call = this.callService.open({
      send: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(serializeFrame(frame));
      },
      close: (code, reason) => socket.close(code, reason),
    });
    this.calls.set(socket, call);
    socket.once('close', (code: number) => this.callService.close(call, code, isPeerLost(socket) ? 'peer_lost' : undefined));
  }

  handleDisconnect(socket: WebSocket): void {
    const call = this.calls.get(socket);
    if (call) this.callService.close(call, null);
  }

  @SubscribeMessage('start_call')
  onStartCall(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: StartCallDto): void {
    this.withCall(socket, (call) => this.callService.startCall(call, frame));
  }

  @SubscribeMessage('stream_request')
  onStreamRequest(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: StreamRequestDto): void {
    this.withCall(socket, (call) => this.callService.streamRequest(call, frame));
  }

  @SubscribeMessage('interrupt')
  onInterrupt(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: InterruptDto): void {
    this.withCall(socket, (call) => this.callService.interrupt(call, frame));
  }

  @SubscribeMessage('partial_transcript')
  onPartialTranscript(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: PartialTranscriptDto): void {
    this.withCall(socket, (call) => this.callService.partialTranscript(call, frame));
  }

  @SubscribeMessage('playback_finished')
  onPlaybackFinished(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: PlaybackFinishedDto): void {
    this.withCall(socket, (call) => this.callService.playbackFinished(call, frame));
  }

  @SubscribeMessage('invalid')
  onInvalid(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: InvalidFrame): void {
    this.withCall(socket, (call) => this.callService.invalidFrame(call, frame));
  }

  private withCall(socket: WebSocket, handle: (call: ActiveCall) => void): void {
    const call = this.calls.get(socket);
    if (call) handle(call);
  }
}
