import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PGlite served over the Postgres wire protocol on loopback, so the app uses the
 * ordinary `pg` driver either way. For running on a machine with no database server;
 * it serialises every query, so real Postgres is for production.
 */
@Injectable()
export class EmbeddedPostgres implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedPostgres.name);
  private db?: PGlite;
  private server?: PGLiteSocketServer;

  async start(dataDir: string, maxConnections: number): Promise<string> {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    this.db = await PGlite.create(dir);
    this.server = new PGLiteSocketServer({ db: this.db, host: '127.0.0.1', port: 0, maxConnections });
    await this.server.start();
    const address = this.server.getServerConn();
    this.logger.log(`Embedded Postgres (PGlite) in ${dir}, serving on ${address}`);
    return `postgres://postgres@${address}/postgres`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
    await this.db?.close();
  }
}
