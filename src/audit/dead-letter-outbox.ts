import type { Logger } from '@nestjs/common';
import { describeError } from '../common/describe-error';
import { DeadLetter, DeadLetterFile } from './dead-letter-file';

/**
 * The dead-letter file as the audit writer uses it: rows it could not append are kept for the
 * next attempt, and a failing file is logged once, then once more when it is writable again.
 */
export class DeadLetterOutbox {
  private readonly file: DeadLetterFile;
  private failing = false;
  private appendedRows = 0;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {
    this.file = new DeadLetterFile(path);
  }

  /** Rows waiting for the file. */
  get pendingRows(): number {
    return this.file.pendingRows;
  }

  /** Rows appended to the file since start. */
  get deadLettered(): number {
    return this.appendedRows;
  }

  /** Appends a dead letter (and any the file refused before); a file error is logged, never thrown. */
  async append(letter?: DeadLetter): Promise<void> {
    try {
      this.appendedRows += await this.file.append(letter);
      if (this.failing) this.logger.log(`${this.path} is writable again`);
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.error(
          `Cannot append to ${this.path} (${describeError(error)}); refused audit rows are kept in memory and retried at every flush`,
        );
      }
      this.failing = true;
    }
  }
}
