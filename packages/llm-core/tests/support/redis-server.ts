// A real redis-server for tests (Debian package redis-server; tools/ensure-redis.sh installs it): on a free
// port, no persistence, stopped (and restartable on the same port) by the test that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGTERM, then SIGKILL); its data is gone (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  readonly running: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let data = '';
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('PONG')) {
        sock.destroy();
        resolve(true);
      }
    });
    sock.write('PING\r\n');
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  let port = 0;
  const launch = async (p: number): Promise<boolean> => {
    const c = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    let exited = false;
    c.once('exit', () => (exited = true));
    c.once('error', () => (exited = true));
    const until = Date.now() + 5000;
    while (!exited && Date.now() < until) {
      if (await answers(p)) {
        child = c;
        return true;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill('SIGKILL');
    return false;
  };
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    await launch(port);
  }
  if (!child) throw new Error('redis-server did not start (is the Debian package redis-server installed? tools/ensure-redis.sh installs it)');
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
    async start() {
      if (server.running) return;
      if (!(await launch(port))) throw new Error(`redis-server did not start again on port ${port}`);
    },
  };
  return server;
}
