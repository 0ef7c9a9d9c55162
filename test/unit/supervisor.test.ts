/**
 * The data-plane supervisor with stand-ins: a unix socket for "something
 * answers", a small script as switchyard-dp (launched detached with the EAL
 * and switchyard arguments, output in dp.log), an in-memory client. It
 * connects, replays, reconnects after a crash, reports why it cannot.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFlow } from '../../src/flowspec';
import { silentLogger } from '../../src/mgmt/log';
import { DesiredState, emptyState } from '../../src/mgmt/state';
import { dataplaneArgs, isAlive, socketAnswers, Supervisor, SupervisorOptions } from '../../src/mgmt/supervisor';
import { Switch } from '../../src/mgmt/switch';
import { FakeDataplane } from './fake-dataplane';

let dir: string;
let servers: Server[] = [];
let sups: Supervisor[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-sup-'));
});
afterEach(async () => {
  for (const s of sups) await s.stopDataplane(2000).catch(() => undefined);
  for (const s of servers) s.close();
  servers = [];
  sups = [];
  rmSync(dir, { recursive: true, force: true });
});

function listen(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.on('error', () => undefined));
    s.listen(path, () => resolve(s));
    servers.push(s);
  });
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function state(): DesiredState {
  const s = emptyState();
  s.ports.push({ name: 'p1', devargs: 'net_null0', id: 3, adminUp: true });
  s.flows.push(parseFlow('in_port=3,actions=drop'));
  return s;
}

function supervise(o: Partial<SupervisorOptions>, sw: Switch, clients: FakeDataplane[]): Supervisor {
  // eslint-disable-next-line prefer-const
  let sup: Supervisor;
  sup = new Supervisor(
    {
      socketPath: join(dir, 'dp.sock'),
      runDir: dir,
      launch: false,
      dpBinary: join(dir, 'nope'),
      lcores: '0,1',
      filePrefix: 'sy-unit',
      ealArgs: [],
      pmdSleepMax: 250,
      createClient: () => {
        const c = new FakeDataplane();
        if (sup.childPid) c.info = { ...c.info, pid: sup.childPid }; // what HELLO says: the launched process
        clients.push(c);
        return c;
      },
      log: silentLogger,
      ...o,
    },
    sw,
  );
  sups.push(sup);
  return sup;
}

describe('data-plane supervisor', () => {
  it('the launch command line', () => {
    expect(dataplaneArgs({ lcores: '0,1', filePrefix: 'switchyard', ealArgs: ['--vdev', 'net_null9'], socketPath: '/run/switchyard/dp.sock', pmdSleepMax: 250 })).toEqual([
      '-l', '0,1', '--no-huge', '-m', '1024', '--no-pci', '--single-file-segments', '--file-prefix', 'switchyard', '--vdev', 'net_null9',
      '--', '--socket', '/run/switchyard/dp.sock', '--pmd-sleep-max', '250',
    ]);
  });

  it('--no-launch and nothing on the socket: disconnected, saying why', async () => {
    const sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
    const sup = supervise({}, sw, []);
    sup.start();
    await until('an error', () => sw.lastError !== '');
    expect(sw.dpState).toBe('disconnected');
    expect(sw.lastError).toMatch(/no data plane answers on .*dp\.sock \(--no-launch/);
    await sup.stop();
    expect(sw.dpState).toBe('stopped');
  });

  it('connects to what answers, replays, and after a crash reconnects and replays again', async () => {
    await listen(join(dir, 'dp.sock'));
    const sw = new Switch(state(), { save: async () => undefined }, silentLogger);
    const clients: FakeDataplane[] = [];
    const sup = supervise({}, sw, clients);
    const ready: number[] = [];
    sw.on('ready', () => ready.push(Date.now()));
    sup.start();
    await until('connected', () => sw.connected);
    expect(clients[0].ports.map((p) => [p.id, p.name])).toEqual([[3, 'p1']]);
    clients[0].crash();
    expect(sw.connected).toBe(false);
    await until('reconnected', () => sw.connected && clients.length === 2);
    expect(clients[1].ports.map((p) => [p.id, p.name])).toEqual([[3, 'p1']]);
    expect(clients[1].flows).toHaveLength(1);
    expect(ready).toHaveLength(2);
    await sup.stop();
  });

  it('launches switchyard-dp detached, with its output in dp.log, and stops it', async () => {
    const bin = join(dir, 'fake-dp');
    writeFileSync(
      bin,
      `#!${process.execPath}
const args = process.argv.slice(2);
require('fs').writeFileSync(${JSON.stringify(join(dir, 'args.json'))}, JSON.stringify(args));
console.log('fake dp up');
const sock = args[args.indexOf('--socket') + 1];
require('net').createServer((c) => c.on('error', () => {})).listen(sock);
process.on('SIGTERM', () => { console.log('fake dp stopping'); process.exit(0); });
`,
    );
    chmodSync(bin, 0o755);
    const sw = new Switch(state(), { save: async () => undefined }, silentLogger);
    const clients: FakeDataplane[] = [];
    const sup = supervise({ launch: true, dpBinary: bin, ealArgs: ['--log-level', '8'] }, sw, clients);
    sup.start();
    await until('connected', () => sw.connected, 10000);
    expect(sup.launched).toBe(true);
    const args = JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8'));
    expect(args).toEqual([
      '-l', '0,1', '--no-huge', '-m', '1024', '--no-pci', '--single-file-segments', '--file-prefix', 'sy-unit', '--log-level', '8',
      '--', '--socket', join(dir, 'dp.sock'), '--pmd-sleep-max', '250',
    ]);
    const pid = sup.childPid!;
    // its own session (setsid): it outlives the daemon
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    expect(Number(stat[3])).toBe(pid);
    expect(await socketAnswers(join(dir, 'dp.sock'))).toBe(true);
    expect(await sup.stopDataplane(5000)).toBe(true);
    await until('gone', () => !isAlive(pid));
    const log = readFileSync(join(dir, 'dp.log'), 'utf8');
    expect(log).toMatch(/switchyardd launches: .*fake-dp -l 0,1 --no-huge/);
    expect(log).toContain('fake dp up');
  });

  it('a switchyard-dp that dies before its socket: the error carries the tail of dp.log', async () => {
    const bin = join(dir, 'bad-dp');
    writeFileSync(bin, `#!/bin/sh\necho "EAL: Cannot allocate memory for the flow table"\nexit 3\n`);
    chmodSync(bin, 0o755);
    const sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
    const sup = supervise({ launch: true, dpBinary: bin }, sw, []);
    sup.start();
    await until('an error', () => sw.lastError !== '', 10000);
    expect(sw.lastError).toMatch(/switchyard-dp exited with status 3 before opening .*dp\.sock; last lines of .*dp\.log:\n[\s\S]*EAL: Cannot allocate memory/);
    await sup.stop();
  });

  it('a missing switchyard-dp is named', async () => {
    const sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
    const sup = supervise({ launch: true, dpBinary: join(dir, 'missing-dp') }, sw, []);
    sup.start();
    await until('an error', () => sw.lastError !== '');
    expect(sw.lastError).toMatch(/switchyard-dp not found at .*missing-dp/);
    await sup.stop();
    expect(existsSync(join(dir, 'dp.log'))).toBe(false);
  });
});
