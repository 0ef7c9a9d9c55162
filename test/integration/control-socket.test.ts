/**
 * Garbage and truncated messages on the data plane's control socket get an
 * error reply or a closed connection, while the data plane keeps forwarding
 * and the daemon stays connected.
 *
 * Messages follow dpdk-core/include/switchyard/proto.h: a 16-byte header
 * (version u8, flags u8, type u16, length u32, xid u32, reserved u32, host
 * byte order) and 8-byte-aligned attributes (type u16, flags u16, length u32).
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { ICMP_FORWARD, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, startSwitch, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

const MSG_ERROR = 1;
const MSG_HELLO = 2;
const A_ERR_CODE = 1;
const A_VERSION = 4;
const E_UNSUPP = 6;
const E_PROTO = 7;

function header(type: number, length: number, xid: number, version = 1, flags = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt8(version, 0);
  h.writeUInt8(flags, 1);
  h.writeUInt16LE(type, 2);
  h.writeUInt32LE(length, 4);
  h.writeUInt32LE(xid, 8);
  return h;
}

function attr(type: number, payload: Buffer, lengthOverride?: number): Buffer {
  const len = 8 + payload.length;
  const a = Buffer.alloc((len + 7) & ~7);
  a.writeUInt16LE(type, 0);
  a.writeUInt32LE(lengthOverride ?? len, 4);
  payload.copy(a, 8);
  return a;
}

function message(type: number, xid: number, attrs: Buffer[] = []): Buffer {
  const body = Buffer.concat(attrs);
  return Buffer.concat([header(type, 16 + body.length, xid), body]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

interface Reply {
  type: number;
  flags: number;
  xid: number;
  attrs: Map<number, Buffer>;
}

/** A connection that collects whole messages and notices when the server closes. */
class Conn {
  private buf = Buffer.alloc(0);
  readonly replies: Reply[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 16) {
        const len = this.buf.readUInt32LE(4);
        if (len < 16 || this.buf.length < len) break;
        const attrs = new Map<number, Buffer>();
        for (let off = 16; off + 8 <= len; ) {
          const t = this.buf.readUInt16LE(off);
          const l = this.buf.readUInt32LE(off + 4);
          if (l < 8) break;
          attrs.set(t, this.buf.subarray(off + 8, off + l));
          off += (l + 7) & ~7;
        }
        this.replies.push({ type: this.buf.readUInt16LE(2), flags: this.buf.readUInt8(1), xid: this.buf.readUInt32LE(8), attrs });
        this.buf = this.buf.subarray(len);
      }
      this.wake();
    });
    sock.on('error', () => undefined); // ECONNRESET counts as closed
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(path: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until pred holds; false on timeout. */
  async until(pred: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) return false;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return true;
  }

  write(b: Buffer) {
    this.sock.write(b);
  }

  async hello(): Promise<void> {
    this.write(message(MSG_HELLO, 1, [attr(A_VERSION, u32(1))]));
    expect(await this.until(() => this.replies.some((r) => r.xid === 1) || this.closed)).toBe(true);
    const r = this.replies.find((x) => x.xid === 1);
    expect(r?.type, 'HELLO answered with HELLO').toBe(MSG_HELLO);
  }

  /** Waits for the ERROR answering xid, or the end of the connection. */
  async errorOrClose(xid: number): Promise<'closed' | number> {
    const ok = await this.until(() => this.closed || this.replies.some((r) => r.xid === xid));
    expect(ok, 'neither an error reply nor a closed connection within 5 s').toBe(true);
    const r = this.replies.find((x) => x.xid === xid);
    if (!r) return 'closed';
    expect(r.type, 'the answer is an ERROR').toBe(MSG_ERROR);
    return r.attrs.get(A_ERR_CODE)!.readUInt32LE(0);
  }

  /**
   * For streams that cannot be resynchronised: the server closes the
   * connection, after at most a PROTO error answering xid.
   */
  async closes(xid: number): Promise<void> {
    expect(await this.until(() => this.closed), 'the connection is still open after 5 s').toBe(true);
    for (const r of this.replies.filter((x) => x.xid === xid)) {
      expect(r.type).toBe(MSG_ERROR);
      expect(r.attrs.get(A_ERR_CODE)!.readUInt32LE(0)).toBe(E_PROTO);
    }
  }

  destroy() {
    this.sock.destroy();
  }
}

describe.skipIf(!IS_ROOT)('garbage on the control socket: an error or a closed connection, forwarding goes on', () => {
  const topo = new Topology('sys');
  let sw: Switch;
  let a: Veth;
  let b: Veth;
  let dpPid: number;
  const conns: Conn[] = [];

  const open = async () => {
    const c = await Conn.open(sw.dpSocket);
    conns.push(c);
    return c;
  };

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: ICMP_FORWARD,
    });
    dpPid = (await sw.api.call('SystemService', 'GetStatus')).dataplanePid;
    expect(dpPid).toBeGreaterThan(0);
    expect(await ping(a.ns, '10.0.0.2', { count: 3 })).toMatchObject({ transmitted: 3, received: 3 });
  });

  afterAll(async () => {
    for (const c of conns) c.destroy();
    await sw?.stop();
    await topo.cleanup();
  });

  it('a bad version closes the connection', async () => {
    const c = await open();
    c.write(Buffer.alloc(64, 0xde));
    await c.closes(0xdededede);
  });

  it('a length under the header size closes the connection', async () => {
    const c = await open();
    c.write(header(MSG_HELLO, 8, 5));
    await c.closes(5);
  });

  it('a length over the maximum closes the connection', async () => {
    const c = await open();
    c.write(header(MSG_HELLO, 0xfffffff8, 6));
    await c.closes(6);
  });

  it('a message cut short by the end of the stream closes the connection', async () => {
    const c = await open();
    c.write(message(MSG_HELLO, 7, [attr(A_VERSION, u32(1))]).subarray(0, 20));
    c.sock.end();
    await c.closes(7);
  });

  it('an attribute running past its message is answered with a PROTO error', async () => {
    const c = await open();
    await c.hello();
    c.write(message(MSG_HELLO, 8, [attr(A_VERSION, u32(1), 100)]));
    expect(await c.errorOrClose(8)).toBe(E_PROTO);
  });

  it('a length that is not a multiple of 8 is refused', async () => {
    const c = await open();
    await c.hello();
    c.write(Buffer.concat([header(MSG_HELLO, 20, 9), Buffer.alloc(4)]));
    const r = await c.errorOrClose(9);
    expect(r === 'closed' || r === E_PROTO, `got ${r}`).toBe(true);
  });

  it('an unknown message type is answered with an error', async () => {
    const c = await open();
    await c.hello();
    c.write(message(999, 10));
    const r = await c.errorOrClose(10);
    expect([E_UNSUPP, E_PROTO]).toContain(r);
  });

  it('a megabyte of random bytes closes the connection', async () => {
    const c = await open();
    const junk = randomBytes(1 << 20);
    junk[0] = 0xff; // not version 1
    c.write(junk);
    await c.closes(junk.readUInt32LE(8));
  });

  it('well-framed messages with random attributes each get an error or a close', async () => {
    for (let i = 0; i < 50; i++) {
      const c = await open();
      await c.hello();
      const body = randomBytes(8 * (1 + (i % 16)));
      const type = [10, 11, 12, 14, 20, 21, 31][i % 7]; // requests that carry attributes
      c.write(Buffer.concat([header(type, 16 + body.length, 100 + i), body]));
      // A random body may even be valid; all that matters is an answer or a close.
      await c.until(() => c.closed || c.replies.some((r) => r.xid === 100 + i));
      expect(c.closed || c.replies.some((r) => r.xid === 100 + i)).toBe(true);
      c.destroy();
    }
  });

  it('the data plane is the same process, still connected, and still forwards', async () => {
    const st = await sw.api.call('SystemService', 'GetStatus');
    expect(st).toMatchObject({ dataplane: 'DATAPLANE_STATE_CONNECTED', dataplanePid: dpPid });
    expect(await ping(a.ns, '10.0.0.2', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p1').packets).toBe('8');
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p2').packets).toBe('8');
  });
});
