import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppModule } from '../../src/app.module';
import { buildOpenApiDocument } from '../../src/call-history/openapi';

/**
 * The document /api/docs-json serves, built without a database, configuration or port:
 * Nest's preview mode resolves the modules and reads the controllers' decorators
 * without creating any provider.
 */
export async function buildOpenApiDocumentOffline(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule, { preview: true, logger: false, abortOnError: false });
  // Not closed: nothing was started, and the shutdown hooks would run on providers never built.
  return buildOpenApiDocument(app);
}

/** `npm run openapi:document -- FILE` (default dist/openapi.json), as `npm run lint:openapi` does. */
async function main(file = 'dist/openapi.json'): Promise<void> {
  const document = await buildOpenApiDocumentOffline();
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(document, null, 2) + '\n');
  // On stderr: the lint's own output may be parsed.
  console.error(`OpenAPI document written to ${file}`);
}

if (require.main === module) {
  main(process.argv[2]).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
