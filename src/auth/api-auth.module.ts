import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiAuthController } from './api-auth.controller';
import { ApiKeyGuard } from './api-key.guard';

/** Import into any module whose controllers use `@RequireApiKey()`. Also answers GET /auth/status. */
@Module({
  controllers: [ApiAuthController],
  providers: [ApiKeyGuard],
  exports: [ApiKeyGuard],
})
export class ApiAuthModule implements OnModuleInit {
  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (!this.config.api.key) {
      new Logger('ApiAuth').warn(
        'API_KEY is not set: every request to /api is answered 401. Set it to use the REST API.',
      );
    }
  }
}
