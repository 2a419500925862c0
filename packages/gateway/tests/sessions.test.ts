import type { ChatMessage } from '@sage/common';
import { boundWindow, SessionStore } from '../src/sessions/session-store';
import { resolveConversation } from '../src/rag/conversation';
import { removeTemps, tempDir } from './helpers';

afterAll(removeTemps);

const u = (content: string): ChatMessage => ({ role: 'user', content });
const a = (content: string): ChatMessage => ({ role: 'assistant', content });

describe('session window', () => {
  test('cuts whole turns from the front', () => {
    const msgs = [u('1'), a('1'), u('2'), a('2'), u('3'), a('3')];
    expect(boundWindow(msgs, 4)).toEqual({ kept: [u('2'), a('2'), u('3'), a('3')], cut: 2 });
    expect(boundWindow(msgs, 3)).toEqual({ kept: [u('3'), a('3')], cut: 4 });
    expect(boundWindow(msgs, 10)).toEqual({ kept: msgs, cut: 0 });
  });
});

describe('SessionStore', () => {
  test('persists history per session, keeps the system prompt while the window slides, lists and deletes', async () => {
    const dir = tempDir();
    const store = new SessionStore(dir, 4);
    await store.append('alpha', [u('q1'), a('r1')], 'be brief');
    await store.append('alpha', [u('q2'), a('r2')]);
    const s = await store.append('alpha', [u('q3'), a('r3')]);
    expect(s.messages).toEqual([u('q2'), a('r2'), u('q3'), a('r3')]);
    expect(s.system).toBe('be brief');
    expect(s.trimmed).toBe(2);
    await store.append('beta', [u('x'), a('y')]);

    const reopened = new SessionStore(dir, 4); // as after a restart
    expect((await reopened.get('alpha'))?.messages).toEqual(s.messages);
    expect((await reopened.list()).map((x) => x.id).sort()).toEqual(['alpha', 'beta']);
    expect(await reopened.delete('alpha')).toBe(true);
    expect(await reopened.delete('alpha')).toBe(false);
    expect(await reopened.get('alpha')).toBeUndefined();
  });

  test('rejects ids that could escape the directory', async () => {
    const store = new SessionStore(tempDir());
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(200)]) {
      await expect(store.get(bad)).rejects.toMatchObject({ status: 400, code: 'invalid_session_id' });
    }
  });

  test('turns of one session run one at a time', async () => {
    const store = new SessionStore(tempDir());
    const order: string[] = [];
    const turn = (name: string, ms: number) =>
      store.withLock('s', async () => {
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`end ${name}`);
      });
    await Promise.all([turn('a', 30), turn('b', 1)]);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });
});

describe('resolveConversation', () => {
  const history = [u('q1'), a('r1')];

  test('a request with only the new turn is appended to the history', () => {
    const c = resolveConversation([u('q2')], history, 'sys');
    expect(c).toEqual({ system: 'sys', turns: [u('q1'), a('r1'), u('q2')], added: [u('q2')] });
  });

  test('a request that repeats the stored history (even a window cut at the front) adds only what follows', () => {
    const c = resolveConversation([{ role: 'system', content: 'new sys' }, u('q0'), a('r0'), u('q1'), a('r1'), u('q2')], history, 'sys');
    expect(c.added).toEqual([u('q2')]);
    expect(c.turns).toEqual([u('q1'), a('r1'), u('q2')]);
    expect(c.system).toBe('new sys');
  });
});
