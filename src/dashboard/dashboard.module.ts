import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { ExpressLoader, ServeStaticModuleOptions } from '@nestjs/serve-static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiAuthModule } from '../auth/api-auth.module';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { DASHBOARD_ROUTES, dashboardAssetsDir, NOT_DASHBOARD_PATHS } from './dashboard-assets';
import { LiveCallsService } from './live-calls.service';
import { LiveController } from './live.controller';

const ASSETS: ServeStaticModuleOptions = {
  rootPath: dashboardAssetsDir(),
  renderPath: DASHBOARD_ROUTES,
  exclude: NOT_DASHBOARD_PATHS,
  serveStaticOptions: {
    index: false,
    // Hashed file names never change; index.html is revalidated so a new build is picked up.
    setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) => {
      res.setHeader(
        'Cache-Control',
        /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  },
};

/**
 * The call desk: the web page at / (public static files; its data comes from /api with the key)
 * and the live event stream at /api/live.
 */
@Module({
  imports: [ApiAuthModule, CallActivityModule],
  controllers: [LiveController],
  providers: [LiveCallsService],
})
export class DashboardModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly appConfig: ApplicationConfig,
  ) {}

  /**
   * @nestjs/serve-static's loader, registered once the HTTP adapter exists: ServeStaticModule
   * picks its loader when the module is compiled, which under Test.createTestingModule is
   * before there is an adapter (it would silently serve nothing).
   */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter || adapter.getType() !== 'express') return;
    new ExpressLoader().register(adapter, this.appConfig, [{ ...ASSETS }]);
    if (!existsSync(join(ASSETS.rootPath!, 'index.html'))) {
      new Logger('Dashboard').warn(
        `The call desk is not built (${ASSETS.rootPath}): run npm run build:web to serve it at /.`,
      );
    }
  }
}
