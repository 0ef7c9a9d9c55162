/**
 * Open vSwitch with DPDK (Debian's openvswitch-switch-dpdk) on the same
 * traffic and flows, for a side-by-side column. Optional: detectOvsDpdk()
 * says whether it can run, and why not.
 *
 * Each run is private and leaves nothing behind: its own database
 * (ovsdb-tool create) in a temporary directory, ovsdb-server and
 * ovs-vswitchd with their sockets, pid files and logs there (OVS_RUNDIR,
 * OVS_DBDIR, OVS_LOGDIR point there), its own DPDK --file-prefix, no
 * hugepages. The two daemons run as children of this process rather than
 * with --detach: a detached daemon's parent becomes PID 1, which in some
 * containers never reaps it, so it would linger as a zombie.
 *
 * Configuration: dpdk-init=true, dpdk-extra="--no-huge -m 2048 --no-pci
 * --legacy-mem --file-prefix bn-..." (OVS 3.1 adds --in-memory unless it
 * sees --legacy-mem, and EAL refuses --in-memory with --no-huge, which
 * implies legacy memory anyway), dpdk-lcore-mask=0x1 (main thread on CPU 0),
 * pmd-cpu-mask=0x2 (one PMD thread on CPU 1, the switch's forwarding core);
 * a netdev bridge with two type=dpdk ports whose dpdk-devargs are the same
 * net_pcap / net_null devargs, ofport 1 and 2. The datapath keeps OVS's
 * defaults (EMC on with 1/100 insertion, SMC off, megaflow cache on). The
 * flows go in with `ovs-ofctl -O OpenFlow13 add-flows` (goto_table needs
 * OpenFlow 1.1+), after del-flows removes the default NORMAL flow, before
 * the ports are added (addPorts): with traffic flowing, OVS revalidates its
 * megaflows as the table grows and 100K rules take minutes to add.
 *
 * The rate comes from `ovs-ofctl dump-ports` deltas: rx of port 1 (every
 * packet the PMD took in; net_pcap never drops, so this is what OVS
 * handled) and tx of port 2; cycles per packet and cache hits from
 * `ovs-appctl dpif-netdev/pmd-stats-show`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forgetDir, track, trackDir } from './cleanup';
import { waitUntil } from './measure';
import { stopProcess } from '../../src/lib/netns';

const DPDK_VSWITCHD = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk';
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsDetect {
  /** the ovs-vswitchd binary built with DPDK, or null */
  vswitchd: string | null;
  /** "Open vSwitch 3.1.0, DPDK 22.11.11", or why it cannot run */
  text: string;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    } catch (e) {
      resolve({ code: 127, out: String(e) });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, out: out + String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}

/**
 * Whether Open vSwitch with DPDK is installed: `ovs-vswitchd --version`
 * names DPDK, or Debian's DPDK build is there (openvswitch-switch-dpdk
 * installs it beside the plain one; update-alternatives picks which one
 * `ovs-vswitchd` is). The tools (ovsdb-tool, ovsdb-server, ovs-vsctl,
 * ovs-ofctl, ovs-appctl) and the schema must be there too.
 */
export async function detectOvsDpdk(): Promise<OvsDetect> {
  let vswitchd: string | null = null;
  let version = '';
  for (const bin of ['ovs-vswitchd', DPDK_VSWITCHD]) {
    const r = await run(bin, ['--version'], undefined, 10_000);
    if (r.code === 0 && /DPDK/.test(r.out)) {
      vswitchd = bin;
      const ovsV = /\(Open vSwitch\) (\S+)/.exec(r.out)?.[1] ?? '?';
      const dpdkV = /DPDK (\S+)/.exec(r.out)?.[1] ?? '?';
      version = `Open vSwitch ${ovsV}, DPDK ${dpdkV} (${bin})`;
      break;
    }
  }
  if (!vswitchd) return { vswitchd: null, text: 'not installed (no ovs-vswitchd with DPDK support; Debian: apt-get install openvswitch-switch-dpdk)' };
  for (const tool of ['ovsdb-tool', 'ovsdb-server', 'ovs-vsctl', 'ovs-ofctl', 'ovs-appctl']) {
    const r = await run(tool, ['--version'], undefined, 10_000);
    if (r.code !== 0) return { vswitchd: null, text: `not usable: ${tool} is missing` };
  }
  try {
    await fs.access(SCHEMA);
  } catch {
    return { vswitchd: null, text: `not usable: ${SCHEMA} is missing` };
  }
  return { vswitchd, text: version };
}

export interface OvsOptions {
  vswitchd: string;
  prefix: string;
  /** the two ports' devargs: ofport 1 (input) and 2 (output) */
  devargs: [string, string];
  memMb?: number;
}

export interface OvsPortCounters {
  ns: bigint;
  rx1: number;
  tx2: number;
}

export interface OvsPmdStats {
  packets: number;
  cyclesPerPacket: number | null;
  /** the "simple match" cache of OVS 3.0+ (single-flow ports) */
  simpleHits: number;
  emcHits: number;
  smcHits: number;
  megaflowHits: number;
  upcalls: number;
  /** (simple match + emc + smc hits) / packets */
  exactHitRate: number | null;
  /** (simple match + emc + smc + megaflow hits) / packets */
  cacheHitRate: number | null;
}

export interface Ovs {
  dir: string;
  /** adds the two DPDK ports (ofport 1 and 2) and waits until they are up: traffic starts */
  addPorts(): Promise<void>;
  /** ovs-ofctl add-flows of these lines (after del-flows), then waits for it; seconds taken */
  addFlows(lines: Iterable<string>): Promise<number>;
  ports(): Promise<OvsPortCounters>;
  pmdStatsClear(): Promise<void>;
  pmdStats(): Promise<OvsPmdStats>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Brings up a private ovsdb-server and ovs-vswitchd with a netdev bridge br0 (no ports yet: addPorts). */
export async function startOvs(o: OvsOptions): Promise<Ovs> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${o.prefix}-`));
  const runDpdk = `/var/run/dpdk/${o.prefix}`;
  trackDir(dir);
  trackDir(runDpdk);
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
  const db = `unix:${path.join(dir, 'db.sock')}`;
  const children: ChildProcess[] = [];
  const daemon = (bin: string, args: string[], name: string) => {
    const log = createWriteStream(path.join(dir, `${name}.out`));
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    track(c);
    c.stdout!.pipe(log);
    c.stderr!.pipe(log);
    children.push(c);
    return c;
  };
  const vsctl = async (...args: string[]) => {
    const r = await run('ovs-vsctl', [`--db=${db}`, '--timeout=60', ...args], env, 70_000);
    if (r.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.out.trim()}`);
    return r.out;
  };
  const ofctl = async (...args: string[]) => {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], env);
    if (r.code !== 0) throw new Error(`ovs-ofctl ${args.join(' ')}: ${r.out.trim().slice(0, 2000)}`);
    return r.out;
  };
  const appctl = async (...args: string[]) => {
    const r = await run('ovs-appctl', ['-t', path.join(dir, 'ovs-vswitchd.ctl'), ...args], env, 30_000);
    if (r.code !== 0) throw new Error(`ovs-appctl ${args.join(' ')}: ${r.out.trim()}`);
    return r.out;
  };
  const readLog = async () => (await fs.readFile(path.join(dir, 'ovs-vswitchd.log'), 'utf8').catch(() => '')) + (await fs.readFile(path.join(dir, 'ovs-vswitchd.out'), 'utf8').catch(() => ''));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await run('ovs-appctl', ['-t', path.join(dir, 'ovs-vswitchd.ctl'), 'exit', '--cleanup'], env, 15_000).catch(() => undefined);
    await run('ovs-appctl', ['-t', path.join(dir, 'ovsdb-server.ctl'), 'exit'], env, 10_000).catch(() => undefined);
    for (const c of children) await stopProcess(c, 'SIGTERM', 5000);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(runDpdk, { recursive: true, force: true });
    forgetDir(dir);
    forgetDir(runDpdk);
  };

  try {
    const create = await run('ovsdb-tool', ['create', path.join(dir, 'conf.db'), SCHEMA], env);
    if (create.code !== 0) throw new Error(`ovsdb-tool create: ${create.out}`);
    daemon('ovsdb-server', [path.join(dir, 'conf.db'), `--remote=punix:${path.join(dir, 'db.sock')}`, `--pidfile=${path.join(dir, 'ovsdb-server.pid')}`, `--unixctl=${path.join(dir, 'ovsdb-server.ctl')}`, `--log-file=${path.join(dir, 'ovsdb-server.log')}`, '-vconsole:off'], 'ovsdb-server');
    await waitUntil('ovsdb-server to listen', async () => (await fs.readdir(dir)).includes('db.sock'), 20_000, 50);
    await run('ovs-vsctl', [`--db=${db}`, '--no-wait', 'init'], env);
    await vsctl(
      '--no-wait',
      'set',
      'Open_vSwitch',
      '.',
      'other_config:dpdk-init=true',
      `other_config:dpdk-extra="--no-huge -m ${o.memMb ?? 2048} --no-pci --legacy-mem --file-prefix ${o.prefix}"`,
      'other_config:dpdk-lcore-mask=0x1',
      'other_config:pmd-cpu-mask=0x2',
    );
    daemon(o.vswitchd, [db, `--pidfile=${path.join(dir, 'ovs-vswitchd.pid')}`, `--unixctl=${path.join(dir, 'ovs-vswitchd.ctl')}`, `--log-file=${path.join(dir, 'ovs-vswitchd.log')}`, '-vconsole:off'], 'ovs-vswitchd');
    await waitUntil(
      'ovs-vswitchd to initialise DPDK',
      async () => {
        const v = children[1];
        if (v.exitCode !== null || v.signalCode !== null) throw new Error('ovs-vswitchd exited');
        return /true/.test(await vsctl('get', 'Open_vSwitch', '.', 'dpdk_initialized'));
      },
      60_000,
      200,
    );
    await vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
  } catch (e) {
    const log = await readLog();
    await stop();
    throw new Error(`${(e as Error).message}\n${log.slice(-3000)}`);
  }

  return {
    dir,
    async addFlows(lines) {
      const file = path.join(dir, 'flows.txt');
      const w = createWriteStream(file);
      for (const l of lines) if (!w.write(`${l}\n`)) await new Promise<void>((r) => w.once('drain', () => r()));
      await new Promise<void>((r, j) => w.end((err?: Error | null) => (err ? j(err) : r())));
      const t0 = process.hrtime.bigint();
      await ofctl('del-flows', 'br0');
      await ofctl('add-flows', 'br0', file);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    },
    async addPorts() {
      try {
        for (const [i, d] of o.devargs.entries()) {
          await vsctl('add-port', 'br0', `p${i + 1}`, '--', 'set', 'Interface', `p${i + 1}`, 'type=dpdk', `options:dpdk-devargs="${d}"`, `ofport_request=${i + 1}`);
        }
        await waitUntil(
          'the OVS ports to come up',
          async () => {
            for (const p of ['p1', 'p2']) {
              const err = (await vsctl('get', 'Interface', p, 'error')).trim();
              if (err && err !== '[]') throw new Error(`port ${p}: ${err}`);
              if ((await vsctl('get', 'Interface', p, 'ofport')).trim() !== String(p === 'p1' ? 1 : 2)) return false;
            }
            return true;
          },
          60_000,
          200,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${(await readLog()).slice(-3000)}`);
      }
    },
    async ports() {
      const out = await ofctl('dump-ports', 'br0');
      const ns = process.hrtime.bigint();
      const rx1 = /port\s+1: rx pkts=(\d+)/.exec(out);
      const tx2 = /port\s+2: rx pkts=\d+[^\n]*\n\s*tx pkts=(\d+)/.exec(out);
      if (!rx1 || !tx2) throw new Error(`ovs-ofctl dump-ports: unexpected output:\n${out}`);
      return { ns, rx1: Number(rx1[1]), tx2: Number(tx2[1]) };
    },
    async pmdStatsClear() {
      await appctl('dpif-netdev/pmd-stats-clear');
    },
    async pmdStats() {
      const out = await appctl('dpif-netdev/pmd-stats-show');
      const pmd = out.split(/\n(?=\S)/).find((b) => /^pmd thread/.test(b)) ?? '';
      const num = (re: RegExp) => Number(re.exec(pmd)?.[1] ?? 0);
      const packets = num(/packets received: (\d+)/);
      const simpleHits = num(/simple match hits: (\d+)/);
      const emcHits = num(/emc hits: (\d+)/);
      const smcHits = num(/smc hits: (\d+)/);
      const megaflowHits = num(/megaflow hits: (\d+)/);
      const upcalls = num(/miss with success upcall: (\d+)/) + num(/miss with failed upcall: (\d+)/);
      const cpp = /avg cycles per packet: ([\d.]+)/.exec(pmd);
      return {
        packets,
        cyclesPerPacket: cpp ? Number(cpp[1]) : null,
        simpleHits,
        emcHits,
        smcHits,
        megaflowHits,
        upcalls,
        exactHitRate: packets ? (simpleHits + emcHits + smcHits) / packets : null,
        cacheHitRate: packets ? (simpleHits + emcHits + smcHits + megaflowHits) / packets : null,
      };
    },
    log: readLog,
    stop,
  };
}
