/**
 * The data plane built with AddressSanitizer and UndefinedBehaviorSanitizer
 * (build-asan/, `meson setup build-asan -Db_sanitize=address,undefined
 * -Db_lundef=false`; scripts/test.sh builds it) forwards pings, drops random
 * frames, refuses garbage on its control socket and takes flow and port churn,
 * then stops: its log (RUN_DIR/dp.log) holds no sanitizer report, leaks
 * (LeakSanitizer at exit) included.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { ICMP_FORWARD, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT, REPO } from '../helpers/paths';
import { pidsWithArg, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, writePcap } from '../helpers/traffic';

const ASAN_DP = path.join(REPO, 'build-asan/dpdk-core/src/switchyard-dp');
const REPORT = /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;

/** Random frames: lengths 0..200, one in four an IPv4/IPv6/VLAN header with random bytes after. */
function randomFrames(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const f = randomBytes(Math.floor(Math.random() * 200));
    if (f.length >= 14 && i % 4 === 0) f.writeUInt16BE([0x0800, 0x86dd, 0x8100, 0x88a8][i % 16 >> 2], 12);
    if (f.length >= 34 && i % 8 === 0) f[14] = 0x45;
    out.push(f);
  }
  return out;
}

/** Writes bytes on a fresh control-socket connection and waits until the server closes it or 300 ms pass. */
function garbage(sock: string, b: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(sock);
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(b));
    setTimeout(done, 300);
  });
}

describe.skipIf(!IS_ROOT)('the data plane under AddressSanitizer and UBSan', () => {
  const topo = new Topology('sya');
  let sw: Switch;
  let a: Veth;
  let b: Veth;

  beforeAll(async () => {
    if (!existsSync(ASAN_DP)) throw new Error(`${ASAN_DP} is missing: scripts/test.sh builds it (meson setup build-asan ...)`);
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      dpBinary: ASAN_DP,
      env: {
        ...process.env,
        ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1',
        UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
      },
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: ICMP_FORWARD,
      startTimeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('forwards, drops, refuses and churns, and stops with no sanitizer report', async () => {
    const r = await ping(a.ns, b.ip!, { count: 5, intervalS: 0.2 });
    expect(r.received).toBe(5);

    // Random frames from a pcap port, dropped or forwarded, never read out of bounds.
    const file = path.join(sw.runDir, 'random.pcap');
    await writePcap(file, randomFrames(2000));
    expect((await sw.cli(['flow', 'add', 'table=0,priority=1,actions=output:p2'])).code).toBe(0);
    expect((await sw.cli(['port', 'add', 'rnd', `net_pcap0,rx_pcap=${file}`])).code).toBe(0);
    await waitUntil('the random frames to be read', async () => (await portStats(sw, 'rnd')).rxPackets === '2000', 20_000);

    // Garbage on the control socket: random bytes, and a valid header claiming a huge length.
    for (let i = 0; i < 30; i++) await garbage(sw.dpSocket, randomBytes(1 + Math.floor(Math.random() * 512)));
    const huge = Buffer.alloc(16);
    huge.writeUInt8(1, 0);
    huge.writeUInt16LE(2, 2);
    huge.writeUInt32LE(0xfffffff0, 4);
    await garbage(sw.dpSocket, huge);

    // Flow and port churn.
    for (let round = 0; round < 3; round++) {
      const flows = Array.from({ length: 300 }, (_, i) => ({ tableId: 3, priority: 10 + round, match: `udp,tp_dst=${1000 + i}`, actions: 'drop' }));
      expect((await sw.api.call('FlowService', 'AddFlows', { flows })).changed).toBe(300);
      expect((await sw.cli(['port', 'add', `r${round}`, `net_ring${round}`])).code).toBe(0);
      expect((await sw.api.call('FlowService', 'DeleteFlows', { tableId: 3 })).changed).toBe(300);
      expect((await sw.cli(['port', 'del', `r${round}`])).code).toBe(0);
    }
    expect((await sw.cli(['port', 'del', 'rnd'])).code).toBe(0);
    const again = await ping(a.ns, b.ip!, { count: 3, intervalS: 0.2 });
    expect(again.received).toBe(3);

    // Stop daemon and data plane, then read what the sanitizers said at exit.
    expect((await sw.cli(['stop'])).code).toBe(0);
    await waitUntil('the data plane to exit', async () => (await pidsWithArg((x) => x === sw.filePrefix)).length === 0, 30_000);
    await sleep(200);
    const log = await fs.readFile(path.join(sw.runDir, 'dp.log'), 'utf8');
    const m = REPORT.exec(log);
    expect(m ? log.slice(Math.max(0, m.index - 200), m.index + 3000) : '', 'dp.log has a sanitizer report').toBe('');
    expect(log).toMatch(/ready, control socket/);
  }, 180_000);
});
