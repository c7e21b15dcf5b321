import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
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
import type { CallConnection } from './call-connection';
import { CallService } from './call.service';

/**
 * The Millis custom-LLM endpoint. Frames arrive admitted, parsed and validated by
 * CallSocketAdapter; each handler hands its frame to CallService with the frame's call.
 * Handlers return nothing: what we send goes out through the call's connection.
 */
@WebSocketGateway({ path: '/llm-websocket' })
export class CallGateway implements OnGatewayConnection {
  constructor(private readonly calls: CallService) {}

  handleConnection(socket: WebSocket): void {
    this.calls.open(socket);
  }

  @SubscribeMessage('start_call')
  onStartCall(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: StartCallDto): void {
    this.withCall(socket, (call) => this.calls.startCall(call, frame));
  }

  @SubscribeMessage('stream_request')
  onStreamRequest(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: StreamRequestDto): void {
    this.withCall(socket, (call) => this.calls.streamRequest(call, frame));
  }

  @SubscribeMessage('interrupt')
  onInterrupt(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: InterruptDto): void {
    this.withCall(socket, (call) => this.calls.interrupt(call, frame));
  }

  @SubscribeMessage('partial_transcript')
  onPartialTranscript(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: PartialTranscriptDto): void {
    this.withCall(socket, (call) => this.calls.partialTranscript(call, frame));
  }

  @SubscribeMessage('playback_finished')
  onPlaybackFinished(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: PlaybackFinishedDto): void {
    this.withCall(socket, (call) => this.calls.playbackFinished(call, frame));
  }

  @SubscribeMessage('invalid')
  onInvalid(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: InvalidFrame): void {
    this.withCall(socket, (call) => this.calls.invalidFrame(call, frame));
  }

  private withCall(socket: WebSocket, handle: (call: CallConnection) => void): void {
    const call = this.calls.connectionOf(socket);
    if (call && !call.ended) handle(call);
  }
}
