import { h } from './dom';

/**
 * Keeps the end of a growing scrollable list in view (the words being spoken), until the reader
 * scrolls away from it to read something earlier; scrolling back to the end, or the button,
 * resumes. A reader's scroll is told from ours by position: text can arrive faster than the
 * scroll event that reports it, so `grew()` checks it too.
 */
export class ScrollFollower {
  readonly resumeButton: HTMLButtonElement;
  private following = true;
  private ownScrollTop = -1;

  constructor(
    private readonly list: HTMLElement,
    label: string,
  ) {
    this.resumeButton = h(
      'button',
      { type: 'button', class: 'ghost follow-resume', hidden: true, onClick: () => this.resume() },
      label,
    );
    list.addEventListener('scroll', () => this.movedByReader() && this.setFollowing(this.atEnd()), { passive: true });
  }

  /** Call after adding to the list. */
  grew(): void {
    if (this.following && this.movedByReader() && !this.atEnd()) this.setFollowing(false);
    if (this.following) this.scrollToEnd();
  }

  /** Call after the list was put (back) into the page, which resets its scroll position. */
  attached(): void {
    if (this.following) this.scrollToEnd();
  }

  resume(): void {
    this.setFollowing(true);
    this.scrollToEnd();
  }

  private setFollowing(following: boolean): void {
    this.following = following;
    this.resumeButton.hidden = following;
  }

  private scrollToEnd(): void {
    this.list.scrollTop = this.list.scrollHeight;
    this.ownScrollTop = this.list.scrollTop;
  }

  private movedByReader(): boolean {
    return Math.abs(this.list.scrollTop - this.ownScrollTop) >= 2;
  }

  private atEnd(): boolean {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 24;
  }
}
