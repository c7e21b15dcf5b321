import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_HEADER } from '../auth/api-key.guard';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../auth/require-api-key.decorator';

export const OPENAPI_PATH = 'api/docs';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Millis call history API')
    .setDescription(
      'Look back at the calls this service handled: list and search them, read a call with every exchange and event, ' +
        'its transcript as heard, statistics, and bulk export. Every /api endpoint needs API_KEY, ' +
        'as an `x-api-key` header or `Authorization: Bearer`.',
    )
    .setVersion('1')
    // Relative: the document is served by the service it describes, wherever that runs.
    .addServer('/', 'This service')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'The API_KEY of the service.' },
      API_KEY_SCHEME,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The API_KEY of the service.' }, BEARER_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /api/docs and the document itself at /api/docs-json. Neither exposes call data, so neither needs the key. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_PATH, app, () => buildOpenApiDocument(app), { jsonDocumentUrl: `${OPENAPI_PATH}-json` });
}
