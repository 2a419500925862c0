// A real redis-server on a free port for the CLI's scale-out tests (tools/ensure-redis.sh installs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './helpers';

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().includes('PONG'));
    });
    sock.write('PING\r\n');
  });
}

export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    const until = Date.now() + 5000;
    while (!exited && Date.now() < until) {
      if (await answers(port)) {
        return {
          url: `redis://127.0.0.1:${port}/0`,
          stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await gone;
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
  }
  throw new Error('redis-server did not start (install the Debian package redis-server: tools/ensure-redis.sh)');
}
