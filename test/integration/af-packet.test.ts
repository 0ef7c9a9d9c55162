/**
 * An af_packet port receives its own interface's frames and nothing else.
 *
 * net_af_packet opens each socket for every protocol and only then binds it
 * to its interface; frames of the whole network namespace that arrive in
 * between (here: a flood ping on loopback) wait in the socket's ring. The
 * switch discards that backlog when it attaches the port, before any lcore
 * polls it. Without that, they entered the switch as if received on the new
 * port: a data-plane restart counted the loopback gRPC traffic as table
 * misses, and a flow matching them would have sent the host's loopback
 * traffic out of another port.
 *
 * Host a is silent (no IPv6, static ARP, nothing running), and every frame
 * its port receives goes to b's port: b's capture must stay empty while
 * p1 is attached again and again under a loopback flood.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess, Topology, type Veth } from '../../src/lib/netns';
import { afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { portStats, sleep, startSwitch, type Switch } from '../helpers/switch';
import { removeCapture, startCapture, type Capture } from '../helpers/traffic';

describe.skipIf(!IS_ROOT)('an af_packet port takes only its own interface\'s frames', () => {
  const topo = new Topology('syaf');
  let sw: Switch;
  let a: Veth;
  let b: Veth;
  let cap: Capture | undefined;

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [{ name: 'p2', devargs: afPacket(1, b) }],
      flows: ['table=0,priority=0,actions=output:p2'],
    });
  });

  afterAll(async () => {
    if (cap) await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
  });

  it('attached under a loopback flood, a silent host\'s port receives nothing', async () => {
    cap = await startCapture(b.ns, b.nsIf);
    const flood = spawn('ping', ['-f', '-q', '127.0.0.1'], { stdio: 'ignore' });
    const rx: number[] = [];
    try {
      await sleep(200);
      for (let i = 0; i < 6; i++) {
        const add = await sw.cli(['port', 'add', 'p1', afPacket(0, a)]);
        expect(add.code, add.stderr).toBe(0);
        await sleep(150);
        rx.push(Number((await portStats(sw, 'p1')).rxPackets));
        const del = await sw.cli(['port', 'del', 'p1']);
        expect(del.code, del.stderr).toBe(0);
      }
    } finally {
      await stopProcess(flood, 'SIGINT');
    }
    await cap.stop();
    const frames = await cap.fields(['eth.src', 'eth.dst', '_ws.col.Protocol']);
    expect(rx).toEqual([0, 0, 0, 0, 0, 0]);
    expect(frames).toEqual([]);
    expect(Number((await portStats(sw, 'p2')).txPackets)).toBe(0);
  });
});
