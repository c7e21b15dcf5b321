import { createInterface, type Interface } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';
import { TerminalView } from './terminal-view';

/**
 * Just enough of a VT100 to read back what a terminal would show: printable
 * characters with auto-wrap (the cursor waits at the margin until the next character),
 * CR, LF, and the CSI sequences readline and the view use (A B C D G J K).
 */
class Screen extends Writable {
  readonly isTTY = true;
  rows: string[][] = [[]];
  private row = 0;
  private col = 0;

  constructor(readonly columns: number) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: string, done: () => void): void {
    this.feed(chunk.toString());
    done();
  }

  text(): string[] {
    return this.rows.map((cells) => cells.join('').trimEnd());
  }

  cursor(): { row: number; col: number } {
    return { row: this.row, col: Math.min(this.col, this.columns - 1) };
  }

  private feed(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      if (c === '\x1b' && data[i + 1] === '[') {
        // eslint-disable-next-line no-control-regex -- an escape sequence starts with ESC
        const match = /^\x1b\[(\d*)([A-Za-z])/.exec(data.slice(i))!;
        this.csi(match[2], match[1] === '' ? undefined : Number(match[1]));
        i += match[0].length - 1;
      } else if (c === '\r') {
        this.col = 0;
      } else if (c === '\n') {
        this.col = Math.min(this.col, this.columns - 1);
        this.down();
      } else {
        if (this.col >= this.columns) {
          this.col = 0;
          this.down();
        }
        this.line()[this.col++] = c;
      }
    }
  }

  private csi(command: string, n: number | undefined): void {
    this.col = Math.min(this.col, this.columns - 1);
    switch (command) {
      case 'A':
        this.row = Math.max(0, this.row - (n ?? 1));
        break;
      case 'B':
        this.row += n ?? 1;
        this.line();
        break;
      case 'C':
        this.col = Math.min(this.columns - 1, this.col + (n ?? 1));
        break;
      case 'D':
        this.col = Math.max(0, this.col - (n ?? 1));
        break;
      case 'G':
        this.col = (n ?? 1) - 1;
        break;
      case 'J':
        this.line().length = this.col;
        this.rows.length = this.row + 1;
        break;
      case 'K':
        this.line().length = this.col;
        break;
      default:
        throw new Error(`unexpected CSI ${command}`);
    }
  }

  private down(): void {
    this.row++;
    this.line();
  }

  private line(): string[] {
    while (this.rows.length <= this.row) this.rows.push([]);
    const cells = this.rows[this.row];
    for (let i = 0; i < this.col; i++) cells[i] ??= ' ';
    return cells;
  }
}

describe('TerminalView in a terminal', () => {
  let screen: Screen;
  let input: PassThrough;
  let rl: Interface;
  let view: TerminalView;

  const type = async (keys: string) => {
    input.write(keys);
    await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(() => {
    screen = new Screen(30);
    input = new PassThrough();
    rl = createInterface({ input, output: screen, prompt: 'you> ', terminal: true });
    view = new TerminalView(screen, rl);
    rl.prompt();
  });
  afterEach(() => rl.close());

  it('streams the reply on its own lines and keeps what the user is typing on the prompt', async () => {
    await type('can I');
    view.piece('We are open');
    view.piece(' from nine');
    await type(' ask');
    view.piece(' to six, Monday to Friday, and from ten to four on Saturdays.');
    view.endReply();
    view.line('  (first words 450 ms, total 3100 ms)');

    expect(screen.text()).toEqual([
      'agent> We are open from nine t',
      'o six, Monday to Friday, and f',
      'rom ten to four on Saturdays.',
      '  (first words 450 ms, total 3',
      '100 ms)',
      'you> can I ask',
    ]);
    expect(screen.cursor()).toEqual({ row: 5, col: 'you> can I ask'.length });
    expect(rl.line).toBe('can I ask');
  });

  it('keeps a sent line, then the reply below it, when the user presses enter mid-reply', async () => {
    view.piece('Hello, and thanks');
    await type('/partial Hi\r');
    rl.prompt();
    view.piece(' for calling!');
    await type('Hi\r');
    view.endReply();
    view.line('  (interrupted)');
    rl.prompt();
    view.piece('Sure.');

    expect(screen.text()).toEqual([
      'agent> Hello, and thanks',
      'you> /partial Hi',
      'agent>  for calling!',
      'you> Hi',
      '  (interrupted)',
      'agent> Sure.',
      'you>',
    ]);
  });

  it('continues a reply whose last row is exactly full, and keeps a prompt that wraps', async () => {
    view.piece('x'.repeat(30 - 'agent> '.length));
    await type('a long question that wraps');
    view.piece(' and more');

    expect(screen.text()).toEqual(['agent> ' + 'x'.repeat(23), ' and more', 'you> a long question that wrap', 's']);
    expect(screen.cursor()).toEqual({ row: 3, col: 1 });
  });

  it('finds the prompt when the typed text ends exactly at the margin', async () => {
    view.piece('Hi');
    await type('y'.repeat(30 - 'you> '.length));
    view.piece(' there');
    await type('z');

    expect(screen.text()).toEqual(['agent> Hi there', 'you> ' + 'y'.repeat(25), 'z']);
    expect(screen.cursor()).toEqual({ row: 2, col: 1 });
  });

  it('writes plainly once the prompt is gone', () => {
    view.piece('Goodbye');
    view.detach();
    view.line('call closed (1000)');
    expect(screen.text()).toEqual(['agent> Goodbye', 'call closed (1000)', '']);
  });
});

describe('TerminalView without a terminal', () => {
  it('writes each reply on one line, and other lines after it', () => {
    let written = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const view = new TerminalView(out, null);
    view.piece('Hello');
    view.piece(' there.\nHow');
    view.line('[end_call] {"stream_id":1}');
    view.piece('Bye.');
    view.endReply();
    view.line('  (first words 5 ms, total 9 ms)');
    expect(written).toBe(
      'agent> Hello there. How\n[end_call] {"stream_id":1}\nagent> Bye.\n  (first words 5 ms, total 9 ms)\n',
    );
  });
});
