/**
 * Network namespaces and veth pairs for the demo topology and the tests.
 *
 * A namespace joined to the host by a veth pair is the "host" the switch
 * serves: the switch attaches the host-side end (net_af_packet or, after a
 * move, net_tap) and the namespace-side end carries an address, so that
 * ping, iperf3 and tcpdump run inside it against real kernel networking.
 *
 * Everything here shells out to iproute2 (`ip`), `ethtool` and `sysctl` and
 * needs root. Names are unique per run (uniqueName: prefix + pid + counter,
 * at most 15 characters, the kernel's limit for interface names), and every
 * delete is idempotent: deleting what is already gone is not an error, so
 * cleanup can run twice, or after a crash.
 *
 * `Topology` records what it made and undoes all of it in cleanup(),
 * including processes it started inside the namespaces.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promises as fs } from 'node:fs';

export interface ExecResult {
  /** Exit status; -1 when killed by a signal or the timeout. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a program to completion. Never rejects for a non-zero exit: look at `code`. */
export function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 30_000,
        env: opts.env,
        cwd: opts.cwd,
        maxBuffer: 64 * 1024 * 1024,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
          if (typeof e.code === 'number') code = e.code;
          else if (e.code === 'ENOENT') {
            code = 127;
            stderr = `${cmd}: not found`;
          } else code = -1;
        }
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs a program and resolves with its stdout; rejects with its stderr on failure. */
export async function mustRun(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const msg = r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${msg}`);
  }
  return r.stdout;
}

/** `ip ARGS...`, rejecting on failure. */
export function ip(...args: string[]): Promise<string> {
  return mustRun('ip', args);
}

/** Runs argv inside a namespace (`ip netns exec NS ...`). Never rejects for a non-zero exit. */
export function nsExec(ns: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, ...argv], opts);
}

/** Runs argv inside a namespace, rejecting on a non-zero exit. */
export function nsMustRun(ns: string, argv: string[], opts: ExecOptions = {}): Promise<string> {
  return mustRun('ip', ['netns', 'exec', ns, ...argv], opts);
}

/** Starts a long-running program inside a namespace (tcpdump, iperf3 -s). */
export function spawnInNs(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

let counter = 0;

/**
 * A name unique to this process and call: prefix + pid (base 36) + counter.
 * Interface names are limited to 15 characters; keep prefixes short.
 */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${process.pid.toString(36)}${(counter++).toString(36)}`;
  if (name.length > 15) throw new Error(`name ${name} is longer than 15 characters`);
  return name;
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run('ip', ['-j', 'netns', 'list']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

export async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(name);
}

/** True if the interface exists (in the host, or in namespace ns). */
export async function linkExists(dev: string, ns?: string): Promise<boolean> {
  const argv = ['ip', 'link', 'show', 'dev', dev];
  const r = ns ? await nsExec(ns, argv) : await run(argv[0], argv.slice(1));
  return r.code === 0;
}

/** Writes a sysctl inside a namespace (or in the host when ns is undefined). */
export async function sysctl(ns: string | undefined, key: string, value: string | number): Promise<void> {
  if (ns === undefined) {
    await fs.writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, String(value));
  } else {
    await nsMustRun(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
  }
}

export interface NamespaceOptions {
  /** Turn IPv6 off inside (default true): no router solicitations, ND or MLD
   *  reports, so the only packets are the ones a test sends. */
  disableIpv6?: boolean;
}

/** Creates a namespace with lo up. Fails if it exists. */
export async function createNamespace(name: string, opts: NamespaceOptions = {}): Promise<void> {
  await ip('netns', 'add', name);
  try {
    await nsMustRun(name, ['ip', 'link', 'set', 'lo', 'up']);
    if (opts.disableIpv6 ?? true) {
      await sysctl(name, 'net.ipv6.conf.all.disable_ipv6', 1);
      await sysctl(name, 'net.ipv6.conf.default.disable_ipv6', 1);
    }
  } catch (e) {
    await deleteNamespace(name);
    throw e;
  }
}

/** Pids of the processes running in a namespace. */
export async function namespacePids(name: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', name]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Deletes a namespace (and with it the interfaces inside), first killing what
 * still runs in it (an iperf3 -D a user started in the demo). Idempotent.
 */
export async function deleteNamespace(name: string): Promise<void> {
  if (!(await namespaceExists(name))) return;
  for (const pid of await namespacePids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const r = await run('ip', ['netns', 'delete', name]);
  if (r.code !== 0 && (await namespaceExists(name))) {
    throw new Error(`ip netns delete ${name}: ${r.stderr.trim()}`);
  }
}

/** Deletes an interface (a veth takes its peer with it). Idempotent. */
export async function deleteLink(dev: string, ns?: string): Promise<void> {
  if (!(await linkExists(dev, ns))) return;
  const argv = ['ip', 'link', 'del', 'dev', dev];
  const r = ns ? await nsExec(ns, argv) : await run(argv[0], argv.slice(1));
  if (r.code !== 0 && (await linkExists(dev, ns))) {
    throw new Error(`ip link del ${dev}: ${r.stderr.trim()}`);
  }
}

/** The interface's MAC address. */
export async function linkMac(dev: string, ns?: string): Promise<string> {
  const argv = ['ip', '-j', 'link', 'show', 'dev', dev];
  const out = ns ? await nsMustRun(ns, argv) : await mustRun(argv[0], argv.slice(1));
  return (JSON.parse(out) as { address: string }[])[0].address;
}

export interface InterfaceConfig {
  /** Address with prefix length, "10.0.0.1/24". */
  address?: string;
  mtu?: number;
  /** Turn transmit checksum offload off (default true): over af_packet a
   *  partial checksum is never completed, and TCP stalls while ping works. */
  txOffloadOff?: boolean;
  /** Turn IPv6 off on this interface (default true). */
  disableIpv6?: boolean;
  /** Bring the interface up (default true). */
  up?: boolean;
}

/** Configures an interface inside a namespace: IPv6, MTU, offload, address, up. */
export async function configureInterface(ns: string, dev: string, cfg: InterfaceConfig = {}): Promise<void> {
  if (cfg.disableIpv6 ?? true) await sysctl(ns, `net.ipv6.conf.${dev}.disable_ipv6`, 1);
  if (cfg.mtu !== undefined) await nsMustRun(ns, ['ip', 'link', 'set', 'dev', dev, 'mtu', String(cfg.mtu)]);
  if (cfg.txOffloadOff ?? true) await nsMustRun(ns, ['ethtool', '-K', dev, 'tx', 'off']);
  if (cfg.address) await nsMustRun(ns, ['ip', 'addr', 'add', cfg.address, 'dev', dev]);
  if (cfg.up ?? true) await nsMustRun(ns, ['ip', 'link', 'set', 'dev', dev, 'up']);
}

/** Moves a host interface (a tap the switch made, say) into a namespace and configures it there. */
export async function moveToNamespace(dev: string, ns: string, cfg: InterfaceConfig = {}): Promise<void> {
  await ip('link', 'set', 'dev', dev, 'netns', ns);
  await configureInterface(ns, dev, cfg);
}

/** Adds a permanent ARP entry inside a namespace, so no ARP crosses the switch. */
export async function setStaticArp(ns: string, dev: string, addr: string, mac: string): Promise<void> {
  await nsMustRun(ns, ['ip', 'neigh', 'replace', addr, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
}

export interface VethOptions extends InterfaceConfig {
  /** Namespace of the inner end (must exist). */
  ns: string;
  /** Host-side name (the one the switch attaches). */
  hostIf: string;
  /** Name inside the namespace. */
  nsIf: string;
  /** MAC address of the inner end (default: random). */
  nsMac?: string;
  /** Bring the host end up (default true); its IPv6 is turned off with disableIpv6. */
  hostUp?: boolean;
}

export interface Veth {
  ns: string;
  hostIf: string;
  nsIf: string;
  /** "10.0.0.1/24" as given, or undefined. */
  address?: string;
  /** The address without its prefix length. */
  ip?: string;
  nsMac: string;
  hostMac: string;
}

/**
 * Creates a veth pair with one end in a namespace, configured there (address,
 * MTU on both ends, tx checksum offload off, IPv6 off, up). On failure nothing
 * is left behind.
 */
export async function createVeth(opts: VethOptions): Promise<Veth> {
  for (const n of [opts.hostIf, opts.nsIf]) {
    if (n.length > 15) throw new Error(`interface name ${n} is longer than 15 characters`);
  }
  const peer = ['peer', 'name', opts.nsIf];
  if (opts.nsMac) peer.push('address', opts.nsMac);
  peer.push('netns', opts.ns);
  await ip('link', 'add', 'name', opts.hostIf, 'type', 'veth', ...peer);
  try {
    if (opts.disableIpv6 ?? true) await sysctl(undefined, `net.ipv6.conf.${opts.hostIf}.disable_ipv6`, 1);
    if (opts.mtu !== undefined) await ip('link', 'set', 'dev', opts.hostIf, 'mtu', String(opts.mtu));
    await configureInterface(opts.ns, opts.nsIf, opts);
    if (opts.hostUp ?? true) await ip('link', 'set', 'dev', opts.hostIf, 'up');
    return {
      ns: opts.ns,
      hostIf: opts.hostIf,
      nsIf: opts.nsIf,
      address: opts.address,
      ip: opts.address?.split('/')[0],
      nsMac: await linkMac(opts.nsIf, opts.ns),
      hostMac: await linkMac(opts.hostIf),
    };
  } catch (e) {
    await deleteLink(opts.hostIf).catch(() => undefined);
    throw e;
  }
}

/** Sends SIGTERM, then SIGKILL after graceMs, and waits for the process to exit. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * What one test (or the demo) made: namespaces, host-side links and
 * processes. cleanup() removes all of it and may be called more than once.
 */
export class Topology {
  readonly namespaces: string[] = [];
  readonly links: string[] = [];
  readonly processes: ChildProcess[] = [];

  /** prefix: at most 5 characters, so that names stay within 15. */
  constructor(readonly prefix = 'sy') {}

  /** Creates a namespace (named uniquely unless a name is given). */
  async addNamespace(name = uniqueName(`${this.prefix}n`), opts: NamespaceOptions = {}): Promise<string> {
    await createNamespace(name, opts);
    this.namespaces.push(name);
    return name;
  }

  /**
   * Creates a namespace and a veth pair into it: the usual "host" on a switch
   * port. The inner end is called eth0 unless nsIf says otherwise.
   */
  async addHost(address: string, cfg: Partial<Omit<VethOptions, 'ns' | 'address'>> & NamespaceOptions = {}): Promise<Veth> {
    const ns = await this.addNamespace(undefined, cfg);
    return this.addVeth({ ns, nsIf: 'eth0', hostIf: uniqueName(`${this.prefix}v`), ...cfg, address });
  }

  async addVeth(opts: VethOptions): Promise<Veth> {
    this.links.push(opts.hostIf);
    return createVeth(opts);
  }

  /** Records a host interface made elsewhere (a tap) to delete on cleanup. */
  adoptLink(dev: string): void {
    this.links.push(dev);
  }

  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawnInNs(ns, argv, opts);
    this.processes.push(child);
    return child;
  }

  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const p of this.processes.splice(0)) await stopProcess(p).catch((e) => errors.push(e));
    for (const l of this.links.splice(0)) await deleteLink(l).catch((e) => errors.push(e));
    for (const n of this.namespaces.splice(0)) await deleteNamespace(n).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `cleanup: ${errors.map(String).join('; ')}`);
  }
}
