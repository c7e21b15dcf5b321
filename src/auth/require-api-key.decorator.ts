import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiKeyGuard } from './api-key.guard';

/** OpenAPI security scheme names, registered by the document builder. */
export const API_KEY_SCHEME = 'api-key';
export const BEARER_SCHEME = 'bearer';

/** Protects a controller (or route) with API_KEY and documents it. */
export function RequireApiKey(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard),
    ApiSecurity(API_KEY_SCHEME),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({ description: 'Missing or wrong API key (or API_KEY is not configured).' }),
  );
}
