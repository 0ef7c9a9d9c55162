/**
 * Bad input is refused with a message that names the problem, and changes
 * nothing: the CLI prints one line "switchyard: ..." and exits 1; gRPC
 * answers INVALID_ARGUMENT, NOT_FOUND or ALREADY_EXISTS; the flow tables and
 * the port list are the same afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcStatus, statusName } from '../helpers/grpc';
import { IS_ROOT } from '../helpers/paths';
import { startSwitch, type FlowJson, type Switch } from '../helpers/switch';

/** What must not change: entries without their counters. */
function shape(flows: FlowJson[]) {
  return flows
    .map((f) => ({ table: f.table, priority: f.priority, cookie: f.cookie, match: f.match, actions: f.actions }))
    .sort((x, y) => x.table - y.table || y.priority - x.priority || x.match.localeCompare(y.match));
}

/** "table=0,priority=10,ip,actions=drop" -> a gRPC Flow. */
function grpcFlow(text: string): { match: string; actions: string } {
  const i = text.indexOf(',actions=');
  return { match: text.slice(0, i), actions: text.slice(i + ',actions='.length) };
}

describe.skipIf(!IS_ROOT)('bad input is refused, named, and changes nothing', () => {
  let sw: Switch;
  let flowsBefore: ReturnType<typeof shape>;
  let portsBefore: unknown;

  beforeAll(async () => {
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: 'net_null0,no-rx=1' },
        { name: 'p2', devargs: 'net_null1,no-rx=1' },
      ],
      flows: [
        'table=0,priority=100,in_port=p1,actions=output:p2',
        'table=0,priority=90,ip,actions=goto_table:2',
        'table=2,priority=10,actions=drop',
      ],
    });
    flowsBefore = shape(await sw.cliJson<FlowJson[]>(['flow', 'dump']));
    portsBefore = await sw.cliJson(['port', 'list']);
    expect(flowsBefore).toHaveLength(3);
  });

  afterAll(async () => {
    await sw?.stop();
  });

  /** The CLI fails with one line that names `what`. */
  async function cliRefuses(args: string[], what: string | RegExp) {
    const r = await sw.cli(args);
    expect(r.code, `switchyard ${args.join(' ')}: ${r.stdout}`).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchyard: /);
    expect(lines[0]).toMatch(what);
  }

  /** The gRPC call fails with `code` and a message that names `what`. */
  async function grpcRefuses(service: string, method: string, req: object, code: number, what: string | RegExp) {
    const r = await sw.api.code(service, method, req);
    expect(statusName(r.code), r.details).toBe(statusName(code));
    expect(r.details).toMatch(what);
  }

  const badFlows: [string, string, RegExp, number][] = [
    ['an unknown field', 'table=0,priority=10,frobnicate=1,actions=drop', /frobnicate/, GrpcStatus.INVALID_ARGUMENT],
    ['a bad mask', 'table=0,priority=10,ip,nw_src=10.0.0.0/33,actions=drop', /nw_src/, GrpcStatus.INVALID_ARGUMENT],
    ['a goto to a lower table', 'table=2,priority=20,actions=goto_table:1', /goto_table/, GrpcStatus.INVALID_ARGUMENT],
    // A port name nobody has is NOT_FOUND, naming it (src/mgmt/errors.ts).
    ['an unknown port in the match', 'table=0,priority=10,in_port=nosuch,actions=drop', /nosuch/, GrpcStatus.NOT_FOUND],
    ['an unknown output port', 'table=0,priority=10,ip,actions=output:nosuch', /nosuch/, GrpcStatus.NOT_FOUND],
  ];

  for (const [what, text, names, code] of badFlows) {
    it(`flow add with ${what}: ${statusName(code)}`, async () => {
      await cliRefuses(['flow', 'add', text], names);
      await grpcRefuses('FlowService', 'AddFlows', { flows: [grpcFlow(text)] }, code, names);
    });
  }

  it('a batch with one bad flow adds none of them', async () => {
    const good = grpcFlow('table=0,priority=50,ip,actions=drop');
    const bad = grpcFlow('table=0,priority=10,frobnicate=1,actions=drop');
    await grpcRefuses('FlowService', 'AddFlows', { flows: [good, bad] }, GrpcStatus.INVALID_ARGUMENT, /frobnicate/);
  });

  it('flow del with an unknown field deletes nothing', async () => {
    await cliRefuses(['flow', 'del', 'frobnicate=1'], /frobnicate/);
    await grpcRefuses('FlowService', 'DeleteFlows', { match: 'frobnicate=1' }, GrpcStatus.INVALID_ARGUMENT, /frobnicate/);
  });

  it('port del, port set and port stats of an unknown port: NOT_FOUND', async () => {
    await cliRefuses(['port', 'del', 'nosuch'], /nosuch/);
    await cliRefuses(['port', 'set', 'nosuch', '--mtu', '1400'], /nosuch/);
    await cliRefuses(['port', 'stats', 'nosuch'], /nosuch/);
    await grpcRefuses('PortService', 'DeletePort', { port: 'nosuch' }, GrpcStatus.NOT_FOUND, /nosuch/);
    await grpcRefuses('PortService', 'UpdatePort', { port: 'nosuch', mtu: 1400 }, GrpcStatus.NOT_FOUND, /nosuch/);
    await grpcRefuses('PortService', 'GetPortStats', { port: 'nosuch' }, GrpcStatus.NOT_FOUND, /nosuch/);
  });

  it('port add with a name already taken: ALREADY_EXISTS', async () => {
    await cliRefuses(['port', 'add', 'p1', 'net_null2,no-rx=1'], /p1/);
    await grpcRefuses('PortService', 'AddPort', { name: 'p1', devargs: 'net_null2,no-rx=1' }, GrpcStatus.ALREADY_EXISTS, /p1/);
  });

  it('port add with bad devargs: INVALID_ARGUMENT', async () => {
    await cliRefuses(['port', 'add', 'p3', 'net_nosuchpmd0'], /net_nosuchpmd0/);
    await grpcRefuses('PortService', 'AddPort', { name: 'p3', devargs: 'net_nosuchpmd0' }, GrpcStatus.INVALID_ARGUMENT, /net_nosuchpmd0/);
    await grpcRefuses('PortService', 'AddPort', { name: 'p3', devargs: '' }, GrpcStatus.INVALID_ARGUMENT, /devargs/);
  });

  it('port add with a bad name: INVALID_ARGUMENT', async () => {
    await grpcRefuses('PortService', 'AddPort', { name: '1abc', devargs: 'net_null3,no-rx=1' }, GrpcStatus.INVALID_ARGUMENT, /name/);
  });

  it('the flow tables and the ports are unchanged', async () => {
    expect(shape(await sw.cliJson<FlowJson[]>(['flow', 'dump']))).toEqual(flowsBefore);
    expect(await sw.cliJson(['port', 'list'])).toEqual(portsBefore);
  });
});
