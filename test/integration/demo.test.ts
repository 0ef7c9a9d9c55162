/**
 * `switchyard start --demo`, what `npm start` runs: a working switch on
 * virtual devices. Ping crosses it from sy-demo-a to sy-demo-b, the CLI
 * shows the ports and flows, and Ctrl-C (SIGINT to the process group, as a
 * terminal sends it) stops everything and removes the namespaces.
 *
 * Skipped when a demo is already running on this machine (its namespaces
 * exist): the demo's names are fixed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDemoTopology } from '../../src/cli/demo';
import { linkExists, listNamespaces, run } from '../../src/lib/netns';
import { CLI_JS, IS_ROOT } from '../helpers/paths';
import { freePort, pidsWithArg, sleep, waitUntil } from '../helpers/switch';
import { ping } from '../helpers/traffic';

const demoRunning = IS_ROOT && (await listNamespaces()).some((n) => n.startsWith('sy-demo-'));

describe.skipIf(!IS_ROOT || demoRunning)('switchyard start --demo (npm start)', () => {
  const filePrefix = `sy-test-${process.pid}-demo`;
  let server: string;
  let child: ChildProcess;
  let out = '';
  let exitCode: number | null | undefined;

  const cli = (args: string[]) => run(process.execPath, [CLI_JS, '--server', server, ...args]);

  beforeAll(async () => {
    server = `127.0.0.1:${await freePort()}`;
    child = spawn(
      process.execPath,
      [CLI_JS, 'start', '--demo', '--listen', server, '--file-prefix', filePrefix, '--lcores', '0,1', '--pmd-sleep-max', '100'],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }, // its own process group, as a terminal's job
    );
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    child.on('exit', (code) => (exitCode = code));
    await waitUntil('the demo to come up', async () => {
      if (exitCode !== undefined) throw new Error(`start --demo exited ${exitCode}:\n${out}`);
      return out.includes('Ctrl-C');
    }, 45_000, 200);
  });

  afterAll(async () => {
    if (exitCode === undefined) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of await pidsWithArg((a) => a === filePrefix || a.endsWith(`=${filePrefix}`))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await removeDemoTopology(); // whatever is left of it
  });

  it('prints the next steps', () => {
    expect(out).toContain('sudo ip netns exec sy-demo-a ping -c 3 10.0.0.2');
    expect(out).toContain('npx switchyard port stats');
    expect(out).toContain('npx switchyard flow dump');
  });

  it('ping crosses the switch between the two namespaces', async () => {
    const r = await ping('sy-demo-a', '10.0.0.2', { count: 3 });
    expect(r).toMatchObject({ transmitted: 3, received: 3 });
  });

  it('the CLI shows ports a and b and the two forwarding flows', async () => {
    const ports = JSON.parse((await cli(['--json', 'port', 'list'])).stdout) as { name: string; driver: string; linkUp: boolean }[];
    expect(ports.map((p) => [p.name, p.driver, p.linkUp])).toEqual([
      ['a', 'net_af_packet', true],
      ['b', 'net_af_packet', true],
    ]);
    const flows = JSON.parse((await cli(['--json', 'flow', 'dump'])).stdout) as { match: string; actions: string; packets: string }[];
    expect(flows.map((f) => [f.match, f.actions])).toEqual([
      ['in_port=a', 'output:b'],
      ['in_port=b', 'output:a'],
    ]);
    // At least the 3 requests and 3 replies (ARP, and IPv6 which the demo leaves on, add more).
    for (const f of flows) expect(Number(f.packets)).toBeGreaterThanOrEqual(3);
  });

  it('Ctrl-C stops the switch and removes the namespaces, the veths and DPDK\'s runtime directory', async () => {
    process.kill(-child.pid!, 'SIGINT');
    await waitUntil('the demo to exit', async () => exitCode !== undefined, 30_000, 100);
    expect(exitCode, out).toBe(0);
    await sleep(200);
    expect((await listNamespaces()).filter((n) => n.startsWith('sy-demo-'))).toEqual([]);
    expect(await linkExists('sy-demo-a-h')).toBe(false);
    expect(await linkExists('sy-demo-b-h')).toBe(false);
    expect(await pidsWithArg((a) => a === filePrefix || a.endsWith(`=${filePrefix}`))).toEqual([]);
    expect(existsSync(`/var/run/dpdk/${filePrefix}`)).toBe(false);
  });
});
