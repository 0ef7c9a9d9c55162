/**
 * The `switchyard start --demo` topology (src/cli/demo.ts), without the
 * switch: two namespaces with their addresses, af_packet devargs on the
 * host-side veths, forwarding flows, and a cleanup that leaves nothing.
 * A leftover from a crashed run is cleared by the next run.
 *
 * Skipped when a demo is running on this machine (its namespaces exist):
 * the test would tear it down.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoTopology } from '../../src/cli/demo';
import { createNamespace, linkExists, listNamespaces, nsExec } from '../../src/lib/netns';
import { IS_ROOT } from '../helpers/paths';

const demoRunning = IS_ROOT && (await listNamespaces()).some((n) => n.startsWith('sy-demo-'));

describe.skipIf(!IS_ROOT || demoRunning)('demo topology', () => {
  let cleanup: (() => Promise<void>) | undefined;

  afterAll(async () => {
    await cleanup?.();
  });

  it('clears a crashed run, then makes two namespaces on af_packet ports', async () => {
    await createNamespace('sy-demo-a'); // as a crashed run would leave it
    const demo = await createDemoTopology();
    cleanup = demo.cleanup;

    expect(demo.ports).toEqual([
      { name: 'a', devargs: 'net_af_packet0,iface=sy-demo-a-h,framecnt=4096' },
      { name: 'b', devargs: 'net_af_packet1,iface=sy-demo-b-h,framecnt=4096' },
    ]);
    expect(demo.flows).toEqual(['in_port=a,actions=output:b', 'in_port=b,actions=output:a']);
    expect(demo.nextSteps).toContain('sudo ip netns exec sy-demo-a ping -c 3 10.0.0.2');

    expect((await listNamespaces()).filter((n) => n.startsWith('sy-demo-')).sort()).toEqual(['sy-demo-a', 'sy-demo-b']);
    for (const [ns, addr] of [['sy-demo-a', '10.0.0.1/24'], ['sy-demo-b', '10.0.0.2/24']]) {
      const r = await nsExec(ns, ['ip', '-br', '-4', 'addr', 'show', 'dev', 'eth0']);
      expect(r.stdout).toContain(addr);
      expect(r.stdout).toMatch(/\bUP\b/);
    }
    expect(await linkExists('sy-demo-a-h')).toBe(true);
    expect(await linkExists('sy-demo-b-h')).toBe(true);
  });

  it('a second run replaces the first', async () => {
    const demo = await createDemoTopology();
    cleanup = demo.cleanup;
    expect((await listNamespaces()).filter((n) => n.startsWith('sy-demo-')).sort()).toEqual(['sy-demo-a', 'sy-demo-b']);
  });

  it('cleanup removes everything and may run twice', async () => {
    await cleanup!();
    await cleanup!();
    expect((await listNamespaces()).filter((n) => n.startsWith('sy-demo-'))).toEqual([]);
    expect(await linkExists('sy-demo-a-h')).toBe(false);
    expect(await linkExists('sy-demo-b-h')).toBe(false);
  });
});
