/**
 * The CLI in-process against the real gRPC server (in-memory data plane):
 * the --json shapes scripts rely on, human output, and failures as one line
 * "switchyard: <message>" with exit status 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program';
import { daemonArgs } from '../../src/cli/start';
import { silentLogger } from '../../src/mgmt/log';
import { RunningServer, startServer } from '../../src/mgmt/server';
import { emptyState } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { DROP_REASONS, FakeDataplane } from './fake-dataplane';

let server: RunningServer;
let sw: Switch;
let dp: FakeDataplane;
let addr: string;
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['node', 'switchyard', '--server', addr, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

async function json(...args: string[]): Promise<any> {
  const r = await cli('--json', ...args);
  expect(r.err, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return JSON.parse(r.out);
}

async function refused(args: string[], message: string | RegExp): Promise<void> {
  const r = await cli(...args);
  expect(r.code, args.join(' ')).toBe(1);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(`switchyard: ${message}`);
  else expect(lines[0]).toMatch(message);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
  sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
  server = await startServer({
    listen: '127.0.0.1:0',
    sw,
    system: {
      status: () => ({
        dataplane: 'DATAPLANE_STATE_CONNECTED',
        dataplanePid: 4242,
        daemonPid: 17,
        version: '0.1.0',
        dataplaneVersion: '0.1.0',
        dpdkVersion: 'DPDK 22.11.0',
        filePrefix: 'switchyard',
        uptimeSec: 12.5,
        socket: '/run/switchyard/dp.sock',
        stateFile: '/var/lib/switchyard/state.json',
        listen: addr,
        ports: 2,
        flows: 1,
        workers: 1,
      }),
      shutdown() {},
    },
    reasons: DROP_REASONS.map((name) => ({ name, help: `help ${name}` })),
    log: silentLogger,
  });
  addr = `127.0.0.1:${server.port}`;
  dp = new FakeDataplane();
  await dp.connect();
  await sw.attach(dp, dp.info);
});

afterAll(async () => {
  await server?.close(500);
  rmSync(dir, { recursive: true, force: true });
});

describe('switchyard CLI', () => {
  it('port add / list / set / stats in the documented JSON shapes', async () => {
    expect(await json('port', 'add', 'p1', 'net_af_packet0,iface=veth1')).toEqual({
      id: 1,
      name: 'p1',
      devargs: 'net_af_packet0,iface=veth1',
      driver: 'net_af_packet',
      mtu: 1500,
      adminUp: true,
      linkUp: true,
      mac: '02:00:00:00:00:01',
      nRxq: 1,
      nTxq: 1,
    });
    const r = await cli('port', 'add', 'p2', 'net_null1', '--id', '5', '--mtu', '9000', '--down');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+NAME\s+DRIVER\s+MTU\s+ADMIN\s+LINK/);
    expect(r.out).toMatch(/\n\s*5\s+p2\s+net_null\s+9000\s+down\s+down/);
    const list = await json('port', 'list');
    expect(list.map((p: any) => Object.keys(p))).toEqual([
      ['id', 'name', 'devargs', 'driver', 'mtu', 'adminUp', 'linkUp', 'mac', 'nRxq', 'nTxq'],
      ['id', 'name', 'devargs', 'driver', 'mtu', 'adminUp', 'linkUp', 'mac', 'nRxq', 'nTxq'],
    ]);
    expect(await json('port', 'set', 'p2', '--up', '--mtu', '1400')).toMatchObject({ id: 5, adminUp: true, mtu: 1400 });
    const stats = await json('port', 'stats');
    expect(stats[0]).toEqual({
      id: 1,
      name: 'p1',
      rxPackets: '3',
      rxBytes: '294',
      txPackets: '3',
      txBytes: '294',
      rxErrors: '0',
      txErrors: '0',
      rxMissed: '0',
      drops: { runt: '0', table_miss: '18446744073709551615', action_drop: '0', no_port: '0' },
    });
    expect(await json('port', 'stats', 'p2')).toHaveLength(1);
    expect((await cli('port', 'stats', '--clear')).out).toBe('cleared the counters of every port\n');
    expect((await cli('port', 'stats')).out).toMatch(/p1 drops: table_miss=18446744073709551615/);
  });

  it('flow add / dump / mod / del', async () => {
    expect(await json('flow', 'add', 'table=0,priority=100,ip,in_port=p1,nw_src=10.0.0.0/24,actions=drop')).toEqual({ changed: 1 });
    expect((await cli('flow', 'add', 'in_port=p2,actions=output:p1', 'table=1,priority=5,cookie=0x10,idle_timeout=7,arp,actions=flood')).out).toBe('2 flows added\n');
    const dump = await json('flow', 'dump');
    expect(dump[0]).toEqual({
      table: 0,
      priority: 100,
      cookie: '0x0',
      match: 'ip,in_port=p1,nw_src=10.0.0.0/24',
      actions: 'drop',
      idleTimeout: 0,
      hardTimeout: 0,
      packets: '5',
      bytes: '490',
      durationSec: 1.234,
    });
    expect(dump[2]).toMatchObject({ table: 1, priority: 5, cookie: '0x10', match: 'arp', actions: 'flood', idleTimeout: 7 });
    const text = await cli('flow', 'dump', '--table', '0');
    expect(text.out).toBe(
      'cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=100,ip,in_port=p1,nw_src=10.0.0.0/24 actions=drop\n' +
        'cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=32768,in_port=p2 actions=output:p1\n',
    );
    expect((await cli('flow', 'dump', '--export', '--table', '1')).out).toBe('table=1,priority=5,cookie=0x10,idle_timeout=7,arp,actions=flood\n');
    expect(await json('flow', 'dump', 'in_port=p2')).toHaveLength(1);
    expect(await json('flow', 'mod', 'in_port=p2,actions=drop')).toEqual({ changed: 1 });
    expect((await cli('flow', 'mod', '--strict', 'priority=100,ip,in_port=p1,nw_src=10.0.0.0/24,actions=output:p2')).out).toBe('1 flow modified\n');
    expect((await cli('flow', 'del', '--strict', 'table=0,priority=200,icmp')).out).toBe('0 flows deleted\n');
    expect(await json('flow', 'del', '--table', '1')).toEqual({ changed: 1 });
    expect(await json('flow', 'del')).toEqual({ changed: 2 });
    expect(await json('flow', 'dump')).toEqual([]);
  });

  it('flow add --file: one batch; errors name the file and line', async () => {
    const good = join(dir, 'good.flows');
    writeFileSync(good, '# forwarding\nin_port=p1,\\\n  actions=output:p2\n\nin_port=p2,actions=output:p1 # back\n');
    expect(await json('flow', 'add', '--file', good)).toEqual({ changed: 2 });
    const bad = join(dir, 'bad.flows');
    writeFileSync(bad, 'ip,actions=drop\n# comment\n\nip,nw_srcx=1,actions=drop\n');
    await refused(['flow', 'add', '--file', bad], `${bad}:4: unknown field 'nw_srcx' in 'ip,nw_srcx=1,actions=drop'`);
    const one = join(dir, 'one.flows');
    writeFileSync(one, '\n\ntable=3,actions=goto_table:1\n');
    await refused(['flow', 'add', '--file', one], `${one}:3: goto_table:1 must name a table after 3 in 'table=3,actions=goto_table:1'`);
    await refused(['flow', 'add', '--file', join(dir, 'none')], /^switchyard: cannot read .*none: ENOENT/);
    expect(await json('flow', 'del')).toEqual({ changed: 2 });
  });

  it('table list / set, stats, status', async () => {
    expect(await json('table', 'set', '2', '--name', 'acl', '--miss', 'continue')).toEqual({ id: 2, name: 'acl', miss: 'continue', flows: 0, maxFlows: 0, lookups: '10', matched: '8' });
    expect(await json('table', 'list')).toEqual([{ id: 2, name: 'acl', miss: 'continue', flows: 0, maxFlows: 0, lookups: '10', matched: '8' }]);
    expect(await json('stats')).toEqual({ rxPackets: '100', txPackets: '90', copies: '0', drops: { runt: '1', table_miss: '1', action_drop: '1', no_port: '1' } });
    expect((await cli('stats')).out).toMatch(/table_miss\s+1\s+help table_miss/);
    expect(await json('status')).toMatchObject({ dataplane: 'connected', pid: 4242, daemonPid: 17, version: '0.1.0' });
    expect((await cli('status')).out).toMatch(/^switchyardd\s+0\.1\.0, pid 17/);
  });

  it('failures: one line, exit status 1, the daemon message', async () => {
    await refused(['flow', 'add', 'in_port=1,nw_srcx=1,actions=drop'], "unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'");
    await refused(['flow', 'add', 'table=0,priority=10,in_port=nosuch,actions=drop'], "unknown port 'nosuch' in 'table=0,priority=10,in_port=nosuch'");
    await refused(['flow', 'add', 'ip'], "flow 'ip' has no actions: end it with actions=... (actions=drop to drop)");
    await refused(['flow', 'del', 'frobnicate=1'], "unknown field 'frobnicate' in 'frobnicate=1'");
    await refused(['port', 'add', 'p1', 'net_null7'], "port 'p1' already exists");
    await refused(['port', 'add', 'p9', 'bogus'], "cannot parse devargs 'bogus'");
    await refused(['port', 'del', 'nosuch'], "port 'nosuch' does not exist");
    await refused(['port', 'set', 'nosuch', '--mtu', '1400'], "port 'nosuch' does not exist");
    await refused(['port', 'stats', 'nosuch'], "port 'nosuch' does not exist");
    await refused(['port', 'set', 'p1'], 'port set: nothing to change (--mtu, --up, --down, --rxq, --vlan-mode, --nsh-tag, --no-nsh-tag, --egress-rate or --queue)');
    await refused(['port', 'add', 'p3', 'net_null3', '--mtu', 'big'], /^switchyard: option '--mtu <n>' argument 'big' is invalid\. expected an MTU 64\.\.65535$/);
    await refused(['table', 'set', '300', '--name', 'x'], /value '300' is invalid for argument 'id'\. expected a table 0\.\.254/);
    await refused(['table', 'set', '1', '--miss', 'explode'], /argument 'explode' is invalid/);
    await refused(['frobnicate'], /^switchyard: unknown command 'frobnicate'/);
    await refused(['port'], 'port: expected a command: add, set, del, list, stats');
    await refused(['port', 'frob'], "unknown command 'port frob' (port commands: add, set, del, list, stats)");
    await refused(['--bogus', 'status'], /^switchyard: unknown option '--bogus'/);
  });

  it('an unreachable daemon is said so, in one line', async () => {
    let err = '';
    const code = await run(['node', 'switchyard', '--server', '127.0.0.1:1', 'port', 'list'], { out: () => undefined, err: (s) => (err += s) });
    expect(code).toBe(1);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^switchyard: cannot reach switchyardd at 127\.0\.0\.1:1 \(is it running\? 'switchyard start' starts it\)/);
  });

  it('--help and --version exit 0', async () => {
    const h = await cli('--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: switchyard/);
    expect((await cli('flow', 'add', '--help')).out).toMatch(/--file <file>/);
    expect((await cli('--version')).out).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('start passes the daemon options through', () => {
    expect(
      daemonArgs(
        { port: ['a=net_null0'], flow: ['in_port=a,actions=drop'], state: 'st.json', runDir: '/tmp/r', lcores: '0-1', filePrefix: 'fp', pmdSleepMax: '0', launch: false },
        '127.0.0.1:6000',
      ),
    ).toEqual([
      '--listen', '127.0.0.1:6000',
      '--state', join(process.cwd(), 'st.json'),
      '--run-dir', '/tmp/r',
      '--lcores', '0-1',
      '--file-prefix', 'fp',
      '--pmd-sleep-max', '0',
      '--no-launch',
      '--port', 'a=net_null0',
      '--flow', 'in_port=a,actions=drop',
    ]);
  });
});
