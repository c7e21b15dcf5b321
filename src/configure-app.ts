import { INestApplication, Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { CallAdmission } from './call-socket/call-admission.service';
import { CallSocketAdapter } from './call-socket/call-socket.adapter';
import { CallService } from './call-socket/call.service';
import { applySecurityHeaders } from './http/security-headers';
import { AppConfig } from './config/app-config';
import { setupOpenApi } from './call-history/openapi';
import { requestLogger } from './observability/logging';
import { installJsonBody } from './http/json-body';
import { urlGuard } from './http/url-guard.middleware';

/**
 * Everything main.ts does to the app besides listening; the e2e tests call it too. A cluster's
 * workers leave the configuration warnings to their primary, which logs them once.
 */
export function configureApp(app: INestApplication, options: { configWarnings?: boolean } = {}): AppConfig {
  const config = app.get(AppConfig);
  app.useWebSocketAdapter(
    new CallSocketAdapter(app as NestExpressApplication, config, app.get(CallAdmission), app.get(CallService)),
  );
  applySecurityHeaders(app);
  app.use(requestLogger(config));
  app.use(urlGuard);
  installJsonBody(app as NestExpressApplication);
  setupOpenApi(app);
  if (options.configWarnings ?? true) warnAboutRiskyConfig(config);
  return config;
}

export function warnAboutRiskyConfig(config: AppConfig): void {
  const logger = new Logger('Config');
  if (!config.ws.authToken && config.security.allowedIps.length === 0) {
    logger.warn(
      'SECURITY: NO AUTHENTICATION on /llm-websocket (neither WS_AUTH_TOKEN nor WS_ALLOWED_IPS is set): anyone who can reach it can start calls. Set WS_AUTH_TOKEN in production.',
    );
  } else if (!config.ws.authToken) {
    logger.warn('WS_AUTH_TOKEN is not set: /llm-websocket is protected by WS_ALLOWED_IPS only.');
  }
  if (!config.security.metricsToken) {
    logger.warn('METRICS_TOKEN is not set: every request to /metrics is answered 401.');
  }
  const keyless = config.llm.providers.filter((p) => !p.apiKey && !p.baseUrl);
  if (keyless.some((p) => p.name === 'default') && config.llm.providers.length === 1) {
    logger.warn('OPENAI_API_KEY is not set: LLM requests will fail and callers will hear the fallback message.');
  } else if (keyless.length) {
    logger.warn(
      `LLM provider(s) ${keyless.map((p) => p.name).join(', ')} have neither a key nor a base URL: their requests to OpenAI will fail and turns will move on to the next provider.`,
    );
  }
  if (!config.database.url) {
    logger.warn(
      `DATABASE_URL is not set: using the embedded Postgres in ${config.database.embeddedDir} (development only).`,
    );
  }
}
