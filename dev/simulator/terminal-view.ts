import { clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline';

/** The parts of a readline interface the view needs (public API only). */
export type PromptLine = Pick<Interface, 'getCursorPos' | 'getPrompt' | 'line' | 'on'>;

const AGENT = 'agent> ';

/**
 * What `npm run call` shows. The agent's reply streams onto lines of its own above the
 * prompt, and after every piece the prompt is drawn again with what the user had typed
 * so far, so typing and a reply never share a line. Without a terminal (input piped in)
 * there is no prompt to keep: the reply is written as it comes, one line per turn.
 */
export class TerminalView {
  /** A reply is on screen and more of it may come. */
  private replyOpen = false;
  /** Where the reply's next character goes on its last row; 0 = the row below it. */
  private replyColumn = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    /** The interactive prompt; null when the input is not a terminal. */
    private prompt: PromptLine | null,
  ) {
    // A line the user sends lands below the reply: more of it starts a new line.
    prompt?.on('line', () => {
      this.replyOpen = false;
    });
  }

  /** The prompt is gone (readline closed): wipe it and write plainly from now on. */
  detach(): void {
    if (this.prompt) this.wipePrompt(this.prompt);
    this.prompt = null;
    this.replyOpen = false;
  }

  /** A piece of the agent's reply. */
  piece(text: string): void {
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    const clean = text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
    if (!this.prompt) {
      this.out.write(this.replyOpen ? clean : AGENT + clean);
      this.replyOpen = true;
      return;
    }
    this.redraw(() => {
      if (!this.replyOpen) {
        this.out.write(AGENT);
        this.replyColumn = AGENT.length;
      } else if (this.replyColumn > 0) {
        moveCursor(this.out, 0, -1);
        cursorTo(this.out, this.replyColumn);
      }
      this.out.write(clean);
      this.replyColumn = (this.replyColumn + [...clean].length) % this.columns;
      this.replyOpen = true;
    });
  }

  /** A line of its own: the end of a reply, a frame the service sent, a notice. */
  line(text: string): void {
    if (!this.prompt) {
      this.out.write(`${this.replyOpen ? '\n' : ''}${text}\n`);
      this.replyOpen = false;
      return;
    }
    this.redraw(() => {
      this.out.write(text.replace(/\r?\n/g, '\r\n'));
      this.replyOpen = false;
    });
  }

  /** Ends the reply on screen, if any, so the next piece starts a new one. */
  endReply(): void {
    if (this.replyOpen && !this.prompt) this.out.write('\n');
    this.replyOpen = false;
  }

  private get columns(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
  }

  /**
   * Wipes the prompt (which may span rows), writes, and draws the prompt again below
   * with the cursor where it was in the typed text, so readline goes on as before.
   */
  private redraw(write: () => void): void {
    const prompt = this.prompt!;
    const cursor = this.wipePrompt(prompt);
    write();
    this.out.write('\r\n');

    const text = prompt.getPrompt() + prompt.line;
    const width = [...text].length;
    this.out.write(text);
    // Make the terminal open the row a full last row points to, as readline does.
    if (width > 0 && width % this.columns === 0) this.out.write(' ');
    cursorTo(this.out, 0);
    moveCursor(this.out, 0, cursor.rows - Math.floor(width / this.columns));
    cursorTo(this.out, cursor.cols);
  }

  /** Clears the prompt's rows and leaves the cursor where the prompt started. */
  private wipePrompt(prompt: PromptLine): { rows: number; cols: number } {
    const cursor = prompt.getCursorPos();
    // A cursor waiting at the right margin is on the row above the one readline counts.
    if (cursor.cols === 0 && cursor.rows > 0) this.out.write(' \r');
    moveCursor(this.out, 0, -cursor.rows);
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
    return cursor;
  }
}
