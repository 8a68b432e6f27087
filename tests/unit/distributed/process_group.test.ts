// The c10d bindings on CPU Gloo over loopback, with two ranks in this one process: the native
// waits run off the JS thread, so rank 0 and rank 1 can await their halves of each collective
// side by side. Collectives give the right values, a missing peer or an unreachable store fails
// after the timeout with the rank, operation and address named, and the JS thread keeps running
// meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../../src/distributed/free_port.js';
import { allGatherJson, checkSameOnAllRanks } from '../../../src/distributed/gather_json.js';
import { availableBackends, ProcessGroup } from '../../../src/distributed/process_group.js';
import { openStore, parseDistUrl, type Store } from '../../../src/distributed/rendezvous.js';
import { dispose, tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const TIMEOUT_MS = 1500;
let stores: Store[] = [];
let groups: ProcessGroup[] = [];

/** Both ranks of a 2-process group on a fresh loopback port. */
async function pair(timeoutMs = 10_000): Promise<{ stores: Store[]; groups: ProcessGroup[] }> {
  const r = parseDistUrl(`tcp://127.0.0.1:${await findFreePort()}`);
  const s = await Promise.all([0, 1].map((rank) => openStore(r, { rank, worldSize: 2, timeoutMs })));
  const g = await Promise.all([0, 1].map((rank) => ProcessGroup.init(s[rank]!, { rank, worldSize: 2, backend: 'gloo', timeoutMs, hostname: '127.0.0.1' })));
  return { stores: s, groups: g };
}

before(async () => {
  ({ stores, groups } = await pair());
});
after(() => {
  for (const g of groups) g.destroy();
  for (const s of stores) s.close();
});

describe('c10d process group (Gloo, 2 ranks on loopback)', () => {
  // Wrong here: the addon was built without Gloo (libgloo-dev missing), so no run can be data-parallel.
  it('the addon has the gloo backend', () => {
    assert.ok(availableBackends().includes('gloo'), `backends: ${availableBackends().join(', ')}`);
  });

  // Wrong here: allreduce does not sum in place, broadcast does not copy the root's values, or
  // all-gather loses or reorders ranks.
  it('allreduce sums in place, broadcast copies the root, all-gather returns every rank by rank', async () => {
    const a = [tensor([1, 2, 3]), tensor([10, 20, 30])];
    await Promise.all(groups.map((g, r) => g.allreduceSum(a[r]!, 'test values')));
    for (const t of a) assert.deepEqual(t.toArray(), [11, 22, 33]);
    const b = [tensor(new Float64Array([0.25, -7])), tensor(new Float64Array([0, 0]))];
    await Promise.all(groups.map((g, r) => g.broadcast(b[r]!, 0, 'test values')));
    assert.deepEqual(b[1]!.toArray(), [0.25, -7]);
    const gathered = await Promise.all(groups.map((g, r) => g.allGather(tensor(new Int32Array([r, 100 + r])), 'test values')));
    for (const list of gathered) assert.deepEqual(list.map((t) => t.toArray()), [[0, 100], [1, 101]]);
    await Promise.all(groups.map((g) => g.barrier('test')));
    dispose([...a, ...b, ...gathered.flat()]);
  });

  // Wrong here: JSON values of different lengths are cut or padded wrongly, or a disagreement
  // between ranks passes unnoticed.
  it('gathers JSON of different sizes and names the ranks that disagree', async () => {
    const values = [{ rank: 0, text: 'é'.repeat(300) }, { rank: 1, list: [1, 2, 3] }];
    const got = await Promise.all(groups.map((g, r) => allGatherJson(g, values[r], 'test state')));
    for (const g of got) assert.deepEqual(g, values);
    const checks = await Promise.allSettled(groups.map((g, r) => checkSameOnAllRanks(g, r === 0 ? 'a' : 'b', 'the test value', 'a hint')));
    for (const c of checks) {
      assert.equal(c.status, 'rejected');
      isAhsError('AHS_ERR_DIST', /: the test value differs between processes: rank 0 has "a", rank 1 has "b"; a hint$/)((c as PromiseRejectedResult).reason);
    }
  });

  // Wrong here: a collective whose peer never comes blocks the JS thread or waits forever instead
  // of failing after the timeout with rank and operation named.
  it('a collective with no peer fails after the timeout, naming rank and operation, without blocking the JS thread', async () => {
    const { stores: s, groups: g } = await pair(TIMEOUT_MS);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 50);
    const t0 = performance.now();
    const t = tensor([1]);
    await assert.rejects(g[0]!.allreduceSum(t, 'gradient bucket 1/1 (4 B)'),
      isAhsError('AHS_ERR_DIST', /^rank 0 of 2: allreduce of gradient bucket 1\/1 \(4 B\) failed after \d+\.\d s: no answer from the other processes within 1\.5 s: .*\(Operation timed out!\)$/));
    clearInterval(timer);
    const waited = performance.now() - t0;
    assert.ok(waited >= TIMEOUT_MS * 0.9, `failed after ${waited} ms, before the timeout`);
    assert.ok(ticks >= 3, `the JS thread ran only ${ticks} timer ticks while waiting (blocked?)`);
    // The group is broken now: later calls fail at once with the same error.
    await assert.rejects(g[0]!.barrier('after'), isAhsError('AHS_ERR_DIST', /allreduce of gradient bucket/));
    for (const x of g) x.destroy();
    for (const x of s) x.close();
    t.dispose();
  });

  // Wrong here: a process that cannot reach the store hangs, or its error does not say where it
  // tried to connect.
  it('a store that cannot be reached fails after the timeout, naming the address', async () => {
    const port = await findFreePort(); // nothing listens there
    const t0 = performance.now();
    await assert.rejects(openStore(parseDistUrl(`tcp://127.0.0.1:${port}`), { rank: 1, worldSize: 2, timeoutMs: TIMEOUT_MS, timeoutKey: 'DIST.TIMEOUT' }),
      isAhsError('AHS_ERR_DIST', new RegExp(`^rank 1 of 2: the rendezvous store tcp://127\\.0\\.0\\.1:${port} failed after \\d+\\.\\d s: it could not be reached \\(waited at most 1\\.5 s \\(DIST\\.TIMEOUT\\)\\): check that rank 0`)));
    assert.ok(performance.now() - t0 < 30_000, "no hang"); // a bound, not a timing: the wait ends
  });

  // Wrong here: rank 0 waits forever for processes that never join.
  it('a group whose other ranks never join fails after the timeout on rank 0', async () => {
    const r = parseDistUrl(`tcp://127.0.0.1:${await findFreePort()}`);
    const store = await openStore(r, { rank: 0, worldSize: 2, timeoutMs: TIMEOUT_MS });
    await assert.rejects(ProcessGroup.init(store, { rank: 0, worldSize: 2, backend: 'gloo', timeoutMs: TIMEOUT_MS, hostname: '127.0.0.1' }),
      isAhsError('AHS_ERR_DIST', /^rank 0 of 2: joining the gloo group at tcp:\/\/127\.0\.0\.1:\d+ failed after \d+\.\d s: not all 2 processes joined within 1\.5 s/));
    store.close();
  });

  // Wrong here: the dist URL parser accepts what c10d cannot use, or refuses a valid address.
  it('parses tcp:// and file:// rendezvous and refuses anything else with the option named', () => {
    assert.deepEqual(parseDistUrl('tcp://10.0.0.5:29500'), { kind: 'tcp', host: '10.0.0.5', port: 29500 });
    assert.deepEqual(parseDistUrl('tcp://[::1]:29500'), { kind: 'tcp', host: '::1', port: 29500 });
    assert.deepEqual(parseDistUrl('file:///tmp/x'), { kind: 'file', path: '/tmp/x' });
    assert.throws(() => parseDistUrl('10.0.0.5:29500'), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--dist-url '10\.0\.0\.5:29500' is neither tcp:\/\/HOST:PORT/));
    assert.throws(() => parseDistUrl('tcp://h:70000'), isAhsError('AHS_ERR_INVALID_ARGUMENT', '--dist-url tcp://h:70000: the port must be from 1 to 65535'));
  });
});
