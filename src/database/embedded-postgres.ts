import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EmbeddedPostgresServer } from './embedded-postgres-server';

/**
 * The database when DATABASE_URL is unset: a real PostgreSQL server on loopback with its
 * data in EMBEDDED_DB_DIR, so development behaves as production does (several
 * connections, advisory locks, LISTEN/NOTIFY). Refused in production by the config.
 */
@Injectable()
export class EmbeddedPostgres implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedPostgres.name);
  private server?: EmbeddedPostgresServer;

  async start(dataDir: string, maxConnections: number): Promise<string> {
    const started = Date.now();
    // Headroom over the pools for migrations, psql and the retention CLI.
    this.server = new EmbeddedPostgresServer({
      dataDir,
      maxConnections: Math.max(maxConnections + 10, 30),
      onLog: (line) => this.logger.debug(line),
    });
    const url = await this.server.start();
    const { port } = new URL(url);
    this.logger.log(
      `Embedded PostgreSQL in ${this.server.dataDir}, on 127.0.0.1:${port} (started in ${Date.now() - started} ms)`,
    );
    return url;
  }

  /** Stops the server and waits for it (a cluster's primary, once every worker has exited). */
  async stop(): Promise<void> {
    await this.server?.stop({ wait: true });
  }

  /**
   * Nest may run this hook before the pools close: a smart shutdown lets the server
   * finish once the last connection has gone, even after this process has exited.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop({ wait: false });
  }
}
