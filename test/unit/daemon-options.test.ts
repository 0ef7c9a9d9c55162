/**
 * switchyardd's options (flags and environment), the start-up
 * configuration (--port, --flow, --config) checked before anything starts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, parsePortOption } from '../../src/mgmt/config';
import { parseDaemonArgs, REPO_ROOT, splitArgs, startupConfig } from '../../src/mgmt/daemon';

const dir = mkdtempSync(join(tmpdir(), 'sy-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const argv = (...a: string[]) => ['node', 'switchyardd', ...a];

describe('switchyardd options', () => {
  it('defaults', () => {
    expect(parseDaemonArgs(argv(), {})).toEqual({
      listen: '127.0.0.1:50051',
      runDir: '/run/switchyard',
      state: '/var/lib/switchyard/state.json',
      dpBinary: join(REPO_ROOT, 'build/dpdk-core/src/switchyard-dp'),
      dpSocket: '/run/switchyard/dp.sock',
      launch: true,
      lcores: '0,1',
      filePrefix: 'switchyard',
      ealArgs: [],
      pmdSleepMax: 250,
      ports: [],
      flows: [],
      config: undefined,
      foreground: false,
      logLevel: 'info',
    });
  });

  it('flags', () => {
    const o = parseDaemonArgs(
      argv('--listen', '[::1]:6000', '--run-dir', '/tmp/r', '--no-launch', '--lcores', '0-1', '--file-prefix', 'x', '--eal-args', '--vdev "net_null0,no-rx=1" --log-level=8',
        '--pmd-sleep-max', '0', '--port', 'p1=net_tap0,iface=sy0', '--port', 'p2=net_null0', '--flow', 'in_port=p1,actions=output:p2', '--foreground', '--log-level', 'debug'),
      {},
    );
    expect(o).toMatchObject({
      listen: '[::1]:6000',
      runDir: '/tmp/r',
      dpSocket: '/tmp/r/dp.sock',
      launch: false,
      lcores: '0-1',
      filePrefix: 'x',
      ealArgs: ['--vdev', 'net_null0,no-rx=1', '--log-level=8'],
      pmdSleepMax: 0,
      ports: ['p1=net_tap0,iface=sy0', 'p2=net_null0'],
      flows: ['in_port=p1,actions=output:p2'],
      foreground: true,
      logLevel: 'debug',
    });
  });

  it('environment', () => {
    const env = { SWITCHYARD_LISTEN: '127.0.0.1:7', SWITCHYARD_RUN_DIR: '/tmp/e', SWITCHYARD_NO_LAUNCH: '1', SWITCHYARD_PMD_SLEEP_MAX: '10' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(parseDaemonArgs(argv(), env)).toMatchObject({ listen: '127.0.0.1:7', runDir: '/tmp/e', dpSocket: '/tmp/e/dp.sock', launch: false, pmdSleepMax: 10 });
      expect(parseDaemonArgs(argv(), { SWITCHYARD_NO_LAUNCH: '0' }).launch).toBe(true);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('bad values are one-line errors', () => {
    expect(() => parseDaemonArgs(argv('--frob'), {})).toThrow("unknown option '--frob'");
    expect(() => parseDaemonArgs(argv('--pmd-sleep-max', '-5'), {})).toThrow(/--pmd-sleep-max/);
    expect(() => parseDaemonArgs(argv('--lcores', 'all'), {})).toThrow(/--lcores 'all'/);
    expect(() => parseDaemonArgs(argv('--log-level', 'loud'), {})).toThrow(/loud/);
  });

  it('splitArgs', () => {
    expect(splitArgs(`  -a 'b c' "d \\"e\\"" f'g'  `)).toEqual(['-a', 'b c', 'd "e"', 'fg']);
    expect(splitArgs('')).toEqual([]);
  });
});

describe('start-up configuration', () => {
  it('--port NAME=DEVARGS splits at the first =', () => {
    expect(parsePortOption('p1=net_tap0,iface=sy0')).toEqual({ name: 'p1', devargs: 'net_tap0,iface=sy0' });
    expect(() => parsePortOption('p1')).toThrow(/expected NAME=DEVARGS/);
    expect(() => parsePortOption('=x')).toThrow(/expected NAME=DEVARGS/);
  });

  it('a YAML or JSON file of ports, tables and flows', () => {
    expect(parseConfig('ports:\n  - {name: a, devargs: "net_null0", id: 4, mtu: 9000}\ntables: [{id: 1, name: acl, miss: continue}]\nflows:\n  - in_port=a,actions=drop\n', 'c.yaml')).toEqual({
      ports: [{ name: 'a', devargs: 'net_null0', id: 4, mtu: 9000 }],
      tables: [{ id: 1, name: 'acl', miss: 'continue' }],
      flows: ['in_port=a,actions=drop'],
    });
    expect(parseConfig('{"ports": [{"name": "a", "devargs": "net_null0"}]}', 'c.json').ports).toEqual([{ name: 'a', devargs: 'net_null0' }]);
    expect(parseConfig('', 'empty.yaml')).toEqual({ ports: [], tables: [], flows: [] });
    expect(() => parseConfig('ports: [{name: a}]', 'c.yaml')).toThrow('c.yaml: ports[0].devargs: expected a string');
    expect(() => parseConfig('port: []', 'c.yaml')).toThrow(/port: unknown key/);
    expect(() => parseConfig('flows: [1]', 'c.yaml')).toThrow(/flows\[0\]/);
    expect(() => parseConfig('ports: [', 'c.yaml')).toThrow(/^c\.yaml: /);
  });

  it('is checked at start: port names and flow syntax, with names from the state or the new ports', () => {
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, 'ports: [{name: b, devargs: net_null1}]\nflows: ["in_port=b,actions=output:a"]\n');
    const o = parseDaemonArgs(argv('--config', cfg, '--port', 'c=net_null2', '--flow', 'in_port=c,actions=output:old'), {});
    expect(startupConfig(o, ['a', 'old'])).toEqual({
      ports: [
        { name: 'b', devargs: 'net_null1' },
        { name: 'c', devargs: 'net_null2' },
      ],
      tables: [],
      flows: ['in_port=b,actions=output:a', 'in_port=c,actions=output:old'],
    });
    expect(() => startupConfig(parseDaemonArgs(argv('--flow', 'in_port=zz,actions=drop'), {}), [])).toThrow("flow 'in_port=zz,actions=drop': unknown port 'zz'");
    expect(() => startupConfig(parseDaemonArgs(argv('--flow', 'ip,nw_srcx=1,actions=drop'), {}), [])).toThrow(/unknown field 'nw_srcx'/);
    expect(() => startupConfig(parseDaemonArgs(argv('--port', '9x=net_null0'), {}), [])).toThrow(/port name '9x' is not valid/);
  });
});
