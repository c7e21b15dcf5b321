import { INestApplication, Logger } from '@nestjs/common';
import { CallService } from './calls/call.service';
import { MillisWsAdapter } from './calls/millis-ws.adapter';
import { AppConfig } from './config/app-config';
import { setupOpenApi } from './history/openapi';

/** Everything main.ts does to the app besides listening; the e2e tests call it too. */
export function configureApp(app: INestApplication): AppConfig {
  const config = app.get(AppConfig);
  const calls = app.get(CallService);
  app.useWebSocketAdapter(new MillisWsAdapter(app, config, () => calls.isDraining));
  setupOpenApi(app);
  warnAboutRiskyConfig(config);
  return config;
}

function warnAboutRiskyConfig(config: AppConfig): void {
  const logger = new Logger('Config');
  if (!config.ws.authToken) {
    logger.warn('WS_AUTH_TOKEN is not set: anyone who can reach /llm-websocket can start calls. Set it in production.');
  }
  if (!config.llm.apiKey) {
    logger.warn('OPENAI_API_KEY is not set: LLM requests will fail and callers will hear the fallback message.');
  }
  if (!config.database.url) {
    logger.warn(`DATABASE_URL is not set: using the embedded Postgres in ${config.database.embeddedDir} (development only).`);
  }
}
