/**
 * Every RPC of the API, tried with missing fields, out-of-range numbers,
 * unknown enum values, huge batches and oversized messages, from a plain
 * grpc-js client against a real daemon and data plane: each answers a
 * proper status with a message naming the field, and nothing is half
 * applied (ports, tables and flows are the same afterwards).
 *
 * The switch runs with a small switch-wide flow limit (switchyardd
 * --max-flows 3000) so that the resource limits show too: beyond the
 * switch's or a table's limit a change is refused with RESOURCE_EXHAUSTED,
 * from gRPC and from the CLI, and nothing of the batch is applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcStatus, statusName } from '../helpers/grpc';
import { IS_ROOT } from '../helpers/paths';
import { startSwitch, type Switch } from '../helpers/switch';

const MAX_FLOWS = 3000;

interface Case {
  what: string;
  service: string;
  method: string;
  req: object;
  code: keyof typeof GrpcStatus;
  /** What the message must contain (the field, or the value). */
  names: RegExp;
}

const U64_MAX = '18446744073709551615';

const CASES: Case[] = [
  // PortService
  { what: 'AddPort without a name', service: 'PortService', method: 'AddPort', req: { devargs: 'net_null9' }, code: 'INVALID_ARGUMENT', names: /name/ },
  { what: 'AddPort without devargs', service: 'PortService', method: 'AddPort', req: { name: 'p9' }, code: 'INVALID_ARGUMENT', names: /devargs/ },
  { what: 'AddPort with id 0', service: 'PortService', method: 'AddPort', req: { name: 'p9', devargs: 'net_null9', id: 0 }, code: 'INVALID_ARGUMENT', names: /\bid\b/ },
  { what: 'AddPort with id 2^32-1', service: 'PortService', method: 'AddPort', req: { name: 'p9', devargs: 'net_null9', id: 0xffffffff }, code: 'INVALID_ARGUMENT', names: /\bid\b/ },
  { what: 'AddPort with MTU 0', service: 'PortService', method: 'AddPort', req: { name: 'p9', devargs: 'net_null9', mtu: 0 }, code: 'INVALID_ARGUMENT', names: /mtu/i },
  { what: 'AddPort with MTU 2^32-1', service: 'PortService', method: 'AddPort', req: { name: 'p9', devargs: 'net_null9', mtu: 0xffffffff }, code: 'INVALID_ARGUMENT', names: /mtu/i },
  { what: 'AddPort with a 10 kB name', service: 'PortService', method: 'AddPort', req: { name: 'p'.repeat(10000), devargs: 'net_null9' }, code: 'INVALID_ARGUMENT', names: /name/ },
  { what: 'AddPort with 100 kB devargs', service: 'PortService', method: 'AddPort', req: { name: 'p9', devargs: `net_null9,${'x'.repeat(100000)}` }, code: 'INVALID_ARGUMENT', names: /devargs/ },
  { what: 'AddPort of an existing name', service: 'PortService', method: 'AddPort', req: { name: 'p1', devargs: 'net_null9' }, code: 'ALREADY_EXISTS', names: /p1/ },
  { what: 'DeletePort without a port', service: 'PortService', method: 'DeletePort', req: {}, code: 'INVALID_ARGUMENT', names: /port/ },
  { what: 'DeletePort of an unknown port', service: 'PortService', method: 'DeletePort', req: { port: 'nosuch' }, code: 'NOT_FOUND', names: /nosuch/ },
  { what: 'DeletePort of port 4294967295', service: 'PortService', method: 'DeletePort', req: { port: '4294967295' }, code: 'NOT_FOUND', names: /4294967295/ },
  { what: 'UpdatePort without a port', service: 'PortService', method: 'UpdatePort', req: { mtu: 1500 }, code: 'INVALID_ARGUMENT', names: /port/ },
  { what: 'UpdatePort with MTU 2^32-1', service: 'PortService', method: 'UpdatePort', req: { port: 'p1', mtu: 0xffffffff }, code: 'INVALID_ARGUMENT', names: /mtu/i },
  { what: 'GetPortStats of an unknown port', service: 'PortService', method: 'GetPortStats', req: { port: 'nosuch' }, code: 'NOT_FOUND', names: /nosuch/ },
  { what: 'ClearPortStats of an unknown port', service: 'PortService', method: 'ClearPortStats', req: { port: '99999999999999999999' }, code: 'NOT_FOUND', names: /99999999999999999999/ },

  // FlowService
  { what: 'AddFlows with bad actions', service: 'FlowService', method: 'AddFlows', req: { flows: [{ match: 'ip', actions: 'output:' }] }, code: 'INVALID_ARGUMENT', names: /output/ },
  { what: 'AddFlows to table 255', service: 'FlowService', method: 'AddFlows', req: { flows: [{ tableId: 255, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /table/ },
  { what: 'AddFlows to table 2^32-1', service: 'FlowService', method: 'AddFlows', req: { flows: [{ tableId: 0xffffffff, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /table/ },
  { what: 'AddFlows at priority 65536', service: 'FlowService', method: 'AddFlows', req: { flows: [{ priority: 65536, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /priority/ },
  { what: 'AddFlows with idle_timeout 2^32-1', service: 'FlowService', method: 'AddFlows', req: { flows: [{ idleTimeout: 0xffffffff, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /idle_timeout/ },
  { what: 'AddFlows with hard_timeout 65536', service: 'FlowService', method: 'AddFlows', req: { flows: [{ hardTimeout: 65536, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /hard_timeout/ },
  { what: 'DeleteFlows with a cookie but no mask (it would select every cookie)', service: 'FlowService', method: 'DeleteFlows', req: { cookie: '5' }, code: 'INVALID_ARGUMENT', names: /cookie_mask/ },
  { what: 'AddFlows with unknown flag bits', service: 'FlowService', method: 'AddFlows', req: { flows: [{ flags: 0x80000000, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /flags/ },
  { what: 'AddFlows matching an unknown port', service: 'FlowService', method: 'AddFlows', req: { flows: [{ match: 'in_port=nosuch', actions: 'drop' }] }, code: 'NOT_FOUND', names: /nosuch/ },
  { what: 'AddFlows with a 65-bit metadata', service: 'FlowService', method: 'AddFlows', req: { flows: [{ match: 'metadata=0x1ffffffffffffffff', actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /metadata/ },
  { what: 'AddFlows: the third of three is bad, none is added', service: 'FlowService', method: 'AddFlows', req: { flows: [{ tableId: 5, priority: 1, actions: 'drop' }, { tableId: 5, priority: 2, actions: 'drop' }, { tableId: 5, priority: 3, match: 'nw_src=1.2.3.4', actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /flow #3|nw_src/ },
  { what: 'AddFlows with a 64-bit cookie and a 100 kB match', service: 'FlowService', method: 'AddFlows', req: { flows: [{ cookie: U64_MAX, match: `ip,nw_src=${'1'.repeat(100000)}`, actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /nw_src/ },
  { what: 'AddFlows with cookie 2^64-1 and a 2^64 cookie in the match', service: 'FlowService', method: 'AddFlows', req: { flows: [{ cookie: U64_MAX, match: 'cookie=18446744073709551616', actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /cookie/ },
  { what: 'ModifyFlows with a bad match', service: 'FlowService', method: 'ModifyFlows', req: { flows: [{ match: 'dl_vlan=5000', actions: 'drop' }] }, code: 'INVALID_ARGUMENT', names: /dl_vlan/ },
  { what: 'ModifyFlows in table 300', service: 'FlowService', method: 'ModifyFlows', req: { flows: [{ tableId: 300, actions: 'drop' }], strict: true }, code: 'INVALID_ARGUMENT', names: /table/ },
  { what: 'DeleteFlows in table 300', service: 'FlowService', method: 'DeleteFlows', req: { tableId: 300 }, code: 'INVALID_ARGUMENT', names: /table/ },
  { what: 'DeleteFlows --strict at priority 70000', service: 'FlowService', method: 'DeleteFlows', req: { strict: true, priority: 70000 }, code: 'INVALID_ARGUMENT', names: /priority/ },
  { what: 'DeleteFlows out of an unknown port', service: 'FlowService', method: 'DeleteFlows', req: { outPort: 'nosuch' }, code: 'NOT_FOUND', names: /nosuch/ },
  { what: 'DeleteFlows with a bad match', service: 'FlowService', method: 'DeleteFlows', req: { match: 'nw_src=300.0.0.1' }, code: 'INVALID_ARGUMENT', names: /nw_src/ },
  { what: 'ApplyFlows with a bad line after good ones', service: 'FlowService', method: 'ApplyFlows', req: { lines: ['add table=6,actions=drop', 'add table=6,priority=5,actions=drop', 'frobnicate table=6,actions=drop'] }, code: 'INVALID_ARGUMENT', names: /line 3|frobnicate/ },
  { what: 'DumpFlows of table 300', service: 'FlowService', method: 'DumpFlows', req: { tableId: 300 }, code: 'INVALID_ARGUMENT', names: /table/ },
  { what: 'DumpFlows with a bad match', service: 'FlowService', method: 'DumpFlows', req: { match: 'tp_dst=99999' }, code: 'INVALID_ARGUMENT', names: /tp_dst/ },

  // TableService
  { what: 'UpdateTable 255', service: 'TableService', method: 'UpdateTable', req: { id: 255, name: 'x' }, code: 'INVALID_ARGUMENT', names: /\bid\b|table/ },
  { what: 'UpdateTable 2^32-1', service: 'TableService', method: 'UpdateTable', req: { id: 0xffffffff, name: 'x' }, code: 'INVALID_ARGUMENT', names: /\bid\b|table/ },
  { what: 'UpdateTable with an unknown miss value', service: 'TableService', method: 'UpdateTable', req: { id: 1, miss: 99 }, code: 'INVALID_ARGUMENT', names: /miss/ },
  { what: 'UpdateTable with a 1 kB name', service: 'TableService', method: 'UpdateTable', req: { id: 1, name: 'n'.repeat(1000) }, code: 'INVALID_ARGUMENT', names: /name/ },
  { what: 'UpdateTable with max_flows below its flows', service: 'TableService', method: 'UpdateTable', req: { id: 0, maxFlows: 1 }, code: 'INVALID_ARGUMENT', names: /max_flows/ },

  // MeterService
  { what: 'AddMeter with rate 0', service: 'MeterService', method: 'AddMeter', req: { id: 1, rate: 0 }, code: 'INVALID_ARGUMENT', names: /rate/ },
  { what: 'AddMeter with id 0', service: 'MeterService', method: 'AddMeter', req: { id: 0, rate: 10 }, code: 'INVALID_ARGUMENT', names: /\bid\b/ },
  { what: 'AddMeter with id 2^32-1', service: 'MeterService', method: 'AddMeter', req: { id: 0xffffffff, rate: 10 }, code: 'INVALID_ARGUMENT', names: /\bid\b/ },
  { what: 'AddMeter with rate 2^64-1', service: 'MeterService', method: 'AddMeter', req: { id: 1, rate: '18446744073709551615' }, code: 'INVALID_ARGUMENT', names: /rate/ },
  { what: 'AddMeter with an unknown unit', service: 'MeterService', method: 'AddMeter', req: { id: 1, rate: 10, unit: 7 }, code: 'INVALID_ARGUMENT', names: /unit/ },
  { what: 'AddMeter with DSCP 64', service: 'MeterService', method: 'AddMeter', req: { id: 1, rate: 10, band: 'METER_BAND_DSCP_REMARK', dscp: 64 }, code: 'INVALID_ARGUMENT', names: /dscp/ },
  { what: 'AddMeter with a DSCP on a drop band', service: 'MeterService', method: 'AddMeter', req: { id: 1, rate: 10, dscp: 5 }, code: 'INVALID_ARGUMENT', names: /dscp/ },
  { what: 'ModifyMeter of a missing meter', service: 'MeterService', method: 'ModifyMeter', req: { id: 9, rate: 10 }, code: 'NOT_FOUND', names: /meter 9/ },
  { what: 'DeleteMeter of a missing meter', service: 'MeterService', method: 'DeleteMeter', req: { id: 9 }, code: 'NOT_FOUND', names: /meter 9/ },
  { what: 'GetMeterStats of a missing meter', service: 'MeterService', method: 'GetMeterStats', req: { id: 9 }, code: 'NOT_FOUND', names: /meter 9/ },
  { what: 'AddFlows naming a missing meter', service: 'FlowService', method: 'AddFlows', req: { flows: [{ match: 'table=0,priority=5', actions: 'meter:9,output:p1' }] }, code: 'NOT_FOUND', names: /meter:9/ },
];

describe.skipIf(!IS_ROOT)('every RPC refuses bad input with a status naming the field, and changes nothing', () => {
  let sw: Switch;
  let before: string;

  /** Ports, tables and flows (without counters), as one string. */
  async function snapshot(): Promise<string> {
    const ports = (await sw.api.call('PortService', 'ListPorts', {})).ports.map((p: any) => ({ id: p.id, name: p.name, devargs: p.devargs, mtu: p.mtu, up: p.adminUp }));
    const tables = (await sw.api.call('TableService', 'ListTables', {})).tables.map((t: any) => ({ id: t.id, name: t.name, miss: t.miss, flows: t.flows, max: t.maxFlows }));
    const flows = (await sw.api.call('FlowService', 'DumpFlows', {})).flows.map((f: any) => `${f.tableId}/${f.priority}/${f.cookie}/${f.match}/${f.actions}`).sort();
    const meters = (await sw.api.call('MeterService', 'ListMeters', {})).meters;
    return JSON.stringify({ ports, tables, flows, meters });
  }

  const FLOWS = ['table=0,priority=100,in_port=p1,actions=output:p2', 'table=0,priority=90,ip,actions=goto_table:2', 'table=2,priority=10,actions=drop'];

  /** Back to the configuration of beforeAll after a case that changed something (and so failed). */
  async function restore(): Promise<void> {
    for (const p of (await sw.api.call('PortService', 'ListPorts', {})).ports) {
      if (p.name !== 'p1' && p.name !== 'p2') await sw.api.call('PortService', 'DeletePort', { port: p.name });
    }
    await sw.api.call('FlowService', 'DeleteFlows', {});
    await sw.api.call('FlowService', 'ApplyFlows', { lines: FLOWS.map((f) => `add ${f}`) });
    for (const t of (await sw.api.call('TableService', 'ListTables', {})).tables) {
      await sw.api.call('TableService', 'UpdateTable', { id: t.id, name: '', miss: 'TABLE_MISS_DROP', maxFlows: 0 });
    }
    await sw.api.call('TableService', 'UpdateTable', { id: 2, name: 'acl', maxFlows: 100 });
  }

  beforeAll(async () => {
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: 'net_null0,no-rx=1' },
        { name: 'p2', devargs: 'net_null1,no-rx=1' },
      ],
      flows: FLOWS,
      daemonArgs: ['--max-flows', String(MAX_FLOWS)],
    });
    await sw.api.call('TableService', 'UpdateTable', { id: 2, name: 'acl', maxFlows: 100 });
    before = await snapshot();
  });

  afterAll(async () => {
    await sw?.stop();
  });

  for (const c of CASES) {
    it(`${c.what}: ${c.code}`, async () => {
      const r = await sw.api.code(c.service, c.method, c.req);
      const after = await snapshot();
      if (after !== before) await restore();
      expect(statusName(r.code), r.details).toBe(c.code);
      expect(r.details.length).toBeLessThanOrEqual(1024);
      expect(r.details.slice(0, 300)).toMatch(c.names);
      expect(after).toBe(before);
    });
  }

  it('a batch of 200,000 flows (about 1.6 MB) is refused, naming the batch, and nothing is added', async () => {
    const flows = Array.from({ length: 200_000 }, () => ({ actions: 'drop' }));
    const r = await sw.api.code('FlowService', 'AddFlows', { flows });
    expect(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']).toContain(statusName(r.code));
    expect(r.details).toMatch(/flows/);
    expect(await snapshot()).toBe(before);
  }, 120_000);

  it('an 8 MB flow line passes the transport and is refused by the parser, naming the action', async () => {
    const r = await sw.api.code('FlowService', 'ApplyFlows', { lines: [`add actions=drop,${'x'.repeat(8 * 1024 * 1024)}`] });
    expect(statusName(r.code), r.details).toBe('INVALID_ARGUMENT');
    expect(r.details.length).toBeLessThanOrEqual(1024);
    expect(r.details).toMatch(/unknown action 'xxx/);
    expect(await snapshot()).toBe(before);
  });

  it('a message over the server\'s 256 MB receive limit is RESOURCE_EXHAUSTED, and the daemon serves on', async () => {
    const r = await sw.api.code('FlowService', 'ApplyFlows', { lines: [`add actions=drop,${'x'.repeat(257 * 1024 * 1024)}`] }, 60_000);
    expect(statusName(r.code), r.details).toBe('RESOURCE_EXHAUSTED');
    expect(r.details).toMatch(/larger than max|message/i);
    expect(await snapshot()).toBe(before);
  }, 120_000);

  it(`beyond the switch-wide limit (--max-flows ${MAX_FLOWS}) a batch is RESOURCE_EXHAUSTED and nothing of it is added`, async () => {
    const n = MAX_FLOWS; // with the 3 present, one batch of MAX_FLOWS overflows
    const flows = Array.from({ length: n }, (_, i) => ({ tableId: 7, priority: 1, match: `udp,tp_dst=${i}`, actions: 'drop' }));
    const r = await sw.api.code('FlowService', 'AddFlows', { flows });
    expect(statusName(r.code), r.details).toBe('RESOURCE_EXHAUSTED');
    expect(r.details).toMatch(new RegExp(`maximum of ${MAX_FLOWS} flows`));
    expect(await snapshot()).toBe(before);
    // Up to the limit is fine.
    const ok = await sw.api.call('FlowService', 'AddFlows', { flows: flows.slice(0, MAX_FLOWS - 3) });
    expect(ok.changed).toBe(MAX_FLOWS - 3);
    const cli = await sw.cli(['flow', 'add', 'table=7,priority=2,actions=drop']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`^switchyard: .*maximum of ${MAX_FLOWS} flows`));
    expect((await sw.api.call('FlowService', 'DeleteFlows', { tableId: 7 })).changed).toBe(MAX_FLOWS - 3);
    expect(await snapshot()).toBe(before);
  }, 60_000);

  it('beyond a table\'s limit (table set --max-flows) the change is RESOURCE_EXHAUSTED, from gRPC and the CLI', async () => {
    const set = await sw.cli(['--json', 'table', 'set', '4', '--max-flows', '10']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ id: 4, maxFlows: 10 });
    const flows = Array.from({ length: 11 }, (_, i) => ({ tableId: 4, priority: i, actions: 'drop' }));
    const r = await sw.api.code('FlowService', 'AddFlows', { flows });
    expect(statusName(r.code), r.details).toBe('RESOURCE_EXHAUSTED');
    expect(r.details).toMatch(/table 4 is full \(max_flows 10\)/);
    expect((await sw.api.call('FlowService', 'AddFlows', { flows: flows.slice(0, 10) })).changed).toBe(10);
    const cli = await sw.cli(['flow', 'add', 'table=4,priority=99,actions=drop']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^switchyard: .*table 4 is full \(max_flows 10\)/);
    // The limit survives a restart of the data plane: the daemon replays it.
    const tables = (await sw.api.call('TableService', 'ListTables', {})).tables;
    expect(tables.find((t: any) => t.id === 4)).toMatchObject({ flows: 10, maxFlows: 10 });
    await sw.api.call('FlowService', 'DeleteFlows', { tableId: 4 });
    await sw.api.call('TableService', 'UpdateTable', { id: 4, maxFlows: 0 });
    expect(await snapshot()).toBe(before);
  }, 60_000);
});
