import { Logger } from '@nestjs/common';
import { AbstractLogger, LogLevel, LogMessage } from 'typeorm';

/** TypeORM's messages through the service's logger, so they share its format and level. */
export class TypeOrmNestLogger extends AbstractLogger {
  private readonly logger = new Logger('TypeORM');

  protected writeLog(level: LogLevel, messages: LogMessage | LogMessage[]): void {
    for (const { message } of Array.isArray(messages) ? messages : [messages]) {
      const text = String(message);
      if (level === 'error') this.logger.error(text);
      else if (level === 'warn') this.logger.warn(text);
      else this.logger.log(text);
    }
  }
}
