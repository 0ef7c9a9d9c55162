/**
 * switchyard-dp on its own for the fast-path benchmark: no daemon, the
 * flows go in through the addon (the DataplaneClient of dist/mgmt/addon.js)
 * in batches, and the counters come out of it.
 *
 *   switchyard-dp -l 0,1 --no-huge -m 2048 --no-pci --file-prefix bn-... --
 *     --socket DIR/dp.sock --pmd-sleep-max 0 --mbufs N --max-flows M
 *     --port p1=net_pcap0,rx_pcap=FILE,infinite_rx=1 --port p2=net_null0,no-rx=1
 *
 * The main lcore (0) serves the control socket; lcore 1 polls. net_pcap with
 * infinite_rx copies every packet of the file into an mbuf when the port
 * starts and replays them for ever, so --mbufs must exceed the file's
 * packet count. net_null's no-rx=1 keeps the sink from making packets of its
 * own (both here and in the testpmd baseline).
 *
 * stop() ends the process (SIGINT, SIGKILL after 10 s) and removes its
 * temporary directory and /var/run/dpdk/<prefix>, whatever happened.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddonDataplaneClient } from '../../src/mgmt/addon';
import type { DpInfo, FlowMod, PmdStats, PortStats } from '../../src/mgmt/addon-types';
import { forgetDir, spawnTracked, trackDir } from './cleanup';
import { sleep, waitUntil } from './measure';

export const REPO = path.resolve(__dirname, '../..');
export const DP_BINARY = path.join(REPO, 'build/dpdk-core/src/switchyard-dp');
const ADDON_JS = path.join(REPO, 'dist/mgmt/addon.js');

/** The built addon wrapper (dist/, from `npx tsc -p .`), typed from its source. */
function createDataplaneClient(): AddonDataplaneClient {
  const req = createRequire(__filename);
  return (req(ADDON_JS) as typeof import('../../src/mgmt/addon')).createDataplaneClient();
}

export interface DpOptions {
  /** --file-prefix, unique per process */
  prefix: string;
  ports: { name: string; devargs: string }[];
  mbufs: number;
  maxFlows: number;
  lcores?: string;
  memMb?: number;
  /** the client to connect (default: dist/mgmt/addon.js's) */
  createClient?: () => AddonDataplaneClient;
}

export interface Dp {
  pid: number;
  prefix: string;
  socket: string;
  client: AddonDataplaneClient;
  info: DpInfo;
  /** the EAL and data plane arguments it ran with */
  argv: string[];
  output(): string;
  /** VmRSS of the process, in KiB */
  rssKiB(): Promise<number>;
  stop(): Promise<void>;
}

export const EAL_MODE = ['--no-huge', '--no-pci'];

/** Starts switchyard-dp, waits for its control socket and connects the addon. */
export async function startDp(o: DpOptions): Promise<Dp> {
  // The addon first: if it cannot load, nothing has been started yet.
  const client = (o.createClient ?? createDataplaneClient)();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${o.prefix}-`));
  const socket = path.join(dir, 'dp.sock');
  const argv = [
    '-l', o.lcores ?? '0,1',
    '--no-huge', '-m', String(o.memMb ?? 2048), '--no-pci',
    '--file-prefix', o.prefix,
    '--',
    '--socket', socket,
    '--pmd-sleep-max', '0',
    '--mbufs', String(o.mbufs),
    '--max-flows', String(o.maxFlows),
    ...o.ports.flatMap((p) => ['--port', `${p.name}=${p.devargs}`]),
  ];
  const proc = spawnTracked(DP_BINARY, argv, 200_000);
  const runDpdk = `/var/run/dpdk/${o.prefix}`;
  trackDir(dir);
  trackDir(runDpdk);
  const { child, gone } = proc;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      client.close();
    } catch {
      /* never connected */
    }
    await proc.stop('SIGINT', 10_000);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(runDpdk, { recursive: true, force: true });
    forgetDir(dir);
    forgetDir(runDpdk);
  };
  try {
    await waitUntil(
      'switchyard-dp to serve',
      async () => {
        if (gone()) throw new Error(`switchyard-dp exited (${child.exitCode ?? child.signalCode})`);
        return /ready, control socket/.test(proc.output());
      },
      60_000,
      50,
    );
    const info = await client.connect(socket);
    client.unref();
    return {
      pid: child.pid!,
      prefix: o.prefix,
      socket,
      client,
      info,
      argv,
      output: proc.output,
      rssKiB: () => rssKiB(child.pid!),
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n$ ${DP_BINARY} ${argv.join(' ')}\n${proc.output().slice(-3000)}`);
  }
}

/** VmRSS of a process, in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  const s = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(s);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

export interface LoadResult {
  flows: number;
  batches: number;
  /** time spent in flowMod calls and the barrier (the switch's and the addon's work) */
  seconds: number;
  /** from the first flowMod sent to the barrier's reply, making the next batches included */
  wallSeconds: number;
}

/**
 * Adds the flows, batch by batch (each batch one flowMod, all or nothing),
 * then a barrier, and times it: `seconds` counts the flowMod calls and the
 * barrier only (encoding in the addon, the socket, the data plane's work);
 * `wallSeconds` runs from the first flowMod to the barrier's reply, so it
 * also holds the making of each next batch of JavaScript objects (done
 * lazily: a million flow-mods at once would not fit Node's heap well).
 */
export async function loadFlows(client: AddonDataplaneClient, batches: Iterable<FlowMod[]>): Promise<LoadResult> {
  let flows = 0;
  let n = 0;
  let inCalls = 0n;
  let first: bigint | undefined;
  for (const b of batches) {
    const t0 = process.hrtime.bigint();
    first ??= t0;
    const changed = await client.flowMod(b);
    inCalls += process.hrtime.bigint() - t0;
    if (changed !== b.length) throw new Error(`flowMod batch ${n}: ${changed} of ${b.length} entries changed (duplicates in the rule set?)`);
    flows += b.length;
    n++;
  }
  const t0 = process.hrtime.bigint();
  first ??= t0;
  await client.barrier();
  const end = process.hrtime.bigint();
  inCalls += end - t0;
  return { flows, batches: n, seconds: Number(inCalls) / 1e9, wallSeconds: Number(end - first) / 1e9 };
}

// ---------------------------------------------------------------------------
// Sampling

interface Snapshot {
  ns: bigint;
  ports: Map<number, PortStats>;
  pmd: PmdStats[] | null;
}

export interface SwitchWindow {
  seconds: number;
  /** packets per second received on the input port */
  rxPps: number;
  /** packets per second sent on the output port */
  txPps: number;
  /** packets per second dropped on purpose (the reasons in `intentional`) */
  intendedDropPps: number;
  /** packets per second dropped for any other reason */
  otherDropPps: number;
  /** the rate reported: txPps + intendedDropPps */
  pps: number;
  /** busy TSC cycles per packet on the forwarding lcores (PMD stats), or null */
  busyCyclesPerPacket: number | null;
  /** share of the forwarding lcores' cycles that were busy, or null */
  busyShare: number | null;
  /** cache hits / (hits + misses), or null */
  cacheHitRate: number | null;
  /** classifier subtables probed per classifier lookup, or null */
  probesPerLookup: number | null;
}

export interface SampleOptions {
  inPort: number;
  outPort: number;
  warmupS: number;
  windows: number;
  windowS: number;
  /** drop reasons that the scenario causes on purpose ("action_drop") */
  intentional: string[];
}

export interface SwitchSamples {
  windows: SwitchWindow[];
  /** why the PMD columns are n/a, or null when PMD stats were read */
  pmdUnavailable: string | null;
}

/** Why PMD stats cannot be read from this data plane/addon, or null if they can. */
export async function pmdStatsUnavailable(client: AddonDataplaneClient): Promise<string | null> {
  if (typeof (client as { pmdStats?: unknown }).pmdStats !== 'function') return 'the addon has no pmdStats()';
  try {
    const s = await client.pmdStats();
    if (!Array.isArray(s) || !s.length) return 'the data plane reports no PMD';
    return null;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return `PMD_STATS: ${err.code ?? 'error'} (${err.message ?? String(e)})`;
  }
}

async function snapshot(client: AddonDataplaneClient, withPmd: boolean): Promise<Snapshot> {
  const [ports, pmd] = await Promise.all([client.portStats(), withPmd ? client.pmdStats() : Promise.resolve(null)]);
  return { ns: process.hrtime.bigint(), ports: new Map(ports.map((p) => [p.id, p])), pmd };
}

const sumDrops = (p: PortStats | undefined, names: string[], invert: boolean): bigint =>
  p ? Object.entries(p.drops).reduce((a, [k, v]) => (names.includes(k) !== invert ? a + v : a), 0n) : 0n;

function delta(a: Snapshot, b: Snapshot, o: SampleOptions): SwitchWindow {
  const s = Number(b.ns - a.ns) / 1e9;
  const rate = (x: bigint) => Number(x) / s;
  const pin = (m: Snapshot) => m.ports.get(o.inPort);
  const pout = (m: Snapshot) => m.ports.get(o.outPort);
  const allPorts = (m: Snapshot, invert: boolean) => [...m.ports.values()].reduce((acc, p) => acc + sumDrops(p, o.intentional, invert), 0n);
  const rx = (pin(b)?.rxPackets ?? 0n) - (pin(a)?.rxPackets ?? 0n);
  const tx = (pout(b)?.txPackets ?? 0n) - (pout(a)?.txPackets ?? 0n);
  const intended = allPorts(b, false) - allPorts(a, false);
  const other = allPorts(b, true) - allPorts(a, true);
  let busy: number | null = null;
  let busyShare: number | null = null;
  let hit: number | null = null;
  let probes: number | null = null;
  if (a.pmd && b.pmd) {
    const sum = (m: PmdStats[], k: 'packets' | 'busyCycles' | 'idleCycles' | 'cacheHits' | 'cacheMisses' | 'clsLookups' | 'clsProbes') => m.reduce((acc, p) => acc + BigInt(p[k]), 0n);
    const d = (k: Parameters<typeof sum>[1]) => Number(sum(b.pmd!, k) - sum(a.pmd!, k));
    const pk = d('packets');
    const bc = d('busyCycles');
    const ic = d('idleCycles');
    if (pk > 0) busy = bc / pk;
    if (bc + ic > 0) busyShare = bc / (bc + ic);
    const h = d('cacheHits');
    const m = d('cacheMisses');
    if (h + m > 0) hit = h / (h + m);
    const l = d('clsLookups');
    if (l > 0) probes = d('clsProbes') / l;
  }
  return {
    seconds: s,
    rxPps: rate(rx),
    txPps: rate(tx),
    intendedDropPps: rate(intended),
    otherDropPps: rate(other),
    pps: rate(tx + intended),
    busyCyclesPerPacket: busy,
    busyShare,
    cacheHitRate: hit,
    probesPerLookup: probes,
  };
}

/** After warmupS, `windows` consecutive windows of windowS seconds, from port (and PMD) counter deltas. */
export async function sampleSwitch(dp: Dp, o: SampleOptions): Promise<SwitchSamples> {
  const pmdUnavailable = await pmdStatsUnavailable(dp.client);
  await sleep(o.warmupS * 1000);
  const windows: SwitchWindow[] = [];
  let prev = await snapshot(dp.client, !pmdUnavailable);
  for (let i = 0; i < o.windows; i++) {
    await sleep(o.windowS * 1000);
    const cur = await snapshot(dp.client, !pmdUnavailable);
    windows.push(delta(prev, cur, o));
    prev = cur;
  }
  return { windows, pmdUnavailable };
}
