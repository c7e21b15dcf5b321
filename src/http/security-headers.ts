import { INestApplication } from '@nestjs/common';
import helmet from 'helmet';

/**
 * helmet's defaults on every HTTP response. The Swagger UI at /api/docs loads its own
 * scripts and styles from 'self' and inline styles, which the default policy allows.
 */
export function applySecurityHeaders(app: INestApplication): void {
  app.use(helmet());
}
