import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { gatherFieldParameters } from './field-filters';

/**
 * Query strings into typed DTOs; an unknown parameter is a 400 rather than silently ignored.
 * `field.<name>` parameters (analysis field filters) are gathered into one `field` object first.
 */
class QueryValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const query =
      metadata.type === 'query' && value && typeof value === 'object' && !Array.isArray(value)
        ? gatherFieldParameters(value as Record<string, unknown>)
        : value;
    return super.transform(query, metadata);
  }
}

export const queryValidationPipe = new QueryValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  stopAtFirstError: true,
});
