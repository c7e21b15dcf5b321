import { webSocketText } from './web-socket-text';

describe('webSocketText', () => {
  it('reads a Buffer, fragments and an ArrayBuffer alike', () => {
    const frame = '{"type":"ping","data":"é"}';
    const bytes = Buffer.from(frame);

    expect(webSocketText(bytes)).toBe(frame);
    expect(webSocketText([bytes.subarray(0, 5), bytes.subarray(5)])).toBe(frame);
    expect(webSocketText(new Uint8Array(bytes).buffer)).toBe(frame);
  });
});
