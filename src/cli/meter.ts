/**
 * switchyard meter add | mod | del | list | stats: rate limits that flows
 * share with actions=meter:N,... (MeterService).
 *
 *   meter add ID (--kbps N | --pps N) [--burst N] [--remark-dscp N]
 *                 a token bucket of N kbit/s (frame bytes) or N packets/s;
 *                 burst in kbit or packets (default 100 ms of the rate);
 *                 packets over the rate are dropped (drop reason `meter`),
 *                 or with --remark-dscp get that DSCP and go on
 *   meter add ID [--unit kbps|pps] --band type=drop,rate=N[,burst=N]
 *                 --band type=dscp_remark,rate=N,dscp=N[,burst=N] ...
 *                 1..4 bands; the band of the highest rate a packet exceeds
 *                 handles it (remark at A, drop at B > A: a trTCM)
 *   meter mod ID ...  the same options, for an existing meter
 *   meter del ID      refused while flows use the meter
 *   meter list        the meters, as the data plane runs them
 *   meter stats [ID]  packets and bytes passed, and over the rate (per band)
 */
import { Command } from 'commander';
import type { Meter, Meter__Output } from '../gen/switchyard/v1/Meter';
import type { MeterBandConfig } from '../gen/switchyard/v1/MeterBandConfig';
import type { MeterStats__Output } from '../gen/switchyard/v1/MeterStats';
import type { Api } from './client';
import { CliError } from './client';
import { table } from './output';

export interface MeterCliContext {
  noun: (name: string, description: string, verbs: string) => Command;
  api: (cmd: Command) => Api;
  print: (cmd: Command, json: unknown, human: () => string) => void;
}

interface MeterOptions {
  kbps?: string;
  pps?: string;
  burst?: string;
  remarkDscp?: string;
  unit?: string;
  band?: string[];
}

function uint(flag: string, v: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw new CliError(`${flag} '${v}': expected ${min}..${max}`);
  return Number(v);
}

function meterId(v: string): number {
  return uint('meter id', v, 1, 65535);
}

/** One --band: type=drop|dscp_remark,rate=N[,burst=N][,dscp=N]. */
export function parseBand(text: string): MeterBandConfig {
  const flag = `--band '${text}'`;
  const kv = new Map<string, string>();
  for (const part of text.split(',')) {
    const m = /^([a-z_]+)=(.*)$/.exec(part.trim());
    if (!m) throw new CliError(`${flag}: '${part}' is not key=value (type=drop|dscp_remark,rate=N[,burst=N][,dscp=N])`);
    if (!['type', 'rate', 'burst', 'dscp'].includes(m[1])) throw new CliError(`${flag}: unknown key '${m[1]}' (type, rate, burst, dscp)`);
    if (kv.has(m[1])) throw new CliError(`${flag}: ${m[1]} given twice`);
    kv.set(m[1], m[2]);
  }
  const type = kv.get('type') ?? 'drop';
  if (type !== 'drop' && type !== 'dscp_remark') throw new CliError(`${flag}: type '${type}' is not one of drop, dscp_remark`);
  if (!kv.has('rate')) throw new CliError(`${flag}: rate=N is missing`);
  const b: MeterBandConfig = { type: type === 'drop' ? 'METER_BAND_DROP' : 'METER_BAND_DSCP_REMARK', rate: uint(`${flag}: rate`, kv.get('rate')!, 1, 100_000_000) };
  if (kv.has('burst')) b.burst = uint(`${flag}: burst`, kv.get('burst')!, 1, 1_000_000_000);
  if (type === 'dscp_remark') {
    if (!kv.has('dscp')) throw new CliError(`${flag}: a dscp_remark band needs dscp=N`);
    b.dscp = uint(`${flag}: dscp`, kv.get('dscp')!, 0, 63);
  } else if (kv.has('dscp')) throw new CliError(`${flag}: only a dscp_remark band takes dscp=N`);
  return b;
}

/** The Meter request of `meter add|mod ID ...`. */
export function meterRequest(id: number, o: MeterOptions): Meter {
  if (o.band?.length) {
    for (const [flag, v] of [['--kbps', o.kbps], ['--pps', o.pps], ['--burst', o.burst], ['--remark-dscp', o.remarkDscp]] as const) {
      if (v !== undefined) throw new CliError(`meter: ${flag} and --band exclude each other (give each band's rate in --band, the unit with --unit)`);
    }
    const unit = o.unit ?? 'kbps';
    if (unit !== 'kbps' && unit !== 'pps') throw new CliError(`--unit '${unit}': expected kbps or pps`);
    if (o.band.length > 4) throw new CliError(`meter: ${o.band.length} --band, at most 4`);
    return { id, unit: unit === 'pps' ? 'METER_UNIT_PPS' : 'METER_UNIT_KBPS', bands: o.band.map(parseBand) };
  }
  if (o.unit !== undefined) throw new CliError('meter: --unit goes with --band (else --kbps N or --pps N say the unit)');
  if ((o.kbps === undefined) === (o.pps === undefined)) throw new CliError('meter: give the rate as exactly one of --kbps N or --pps N (or bands with --band)');
  const pps = o.pps !== undefined;
  const req: Meter = {
    id,
    unit: pps ? 'METER_UNIT_PPS' : 'METER_UNIT_KBPS',
    rate: uint(pps ? '--pps' : '--kbps', (pps ? o.pps : o.kbps)!, 1, 100_000_000),
    burst: o.burst === undefined ? 0 : uint('--burst', o.burst, 1, 1_000_000_000),
    band: o.remarkDscp === undefined ? 'METER_BAND_DROP' : 'METER_BAND_DSCP_REMARK',
  };
  if (o.remarkDscp !== undefined) req.dscp = uint('--remark-dscp', o.remarkDscp, 0, 63);
  return req;
}

function unitText(m: Meter__Output): string {
  return m.unit === 'METER_UNIT_PPS' ? 'pps' : 'kbps';
}

const bandWord = (t: string) => (t === 'METER_BAND_DSCP_REMARK' ? 'dscp_remark' : 'drop');

function bandText(m: Meter__Output): string {
  if (m.bands.length > 1) return m.bands.map((b) => `${bandWord(String(b.type))}${b.type === 'METER_BAND_DSCP_REMARK' ? `:${b.dscp}` : ''}@${b.rate}/${b.burst}`).join(' ');
  return m.band === 'METER_BAND_DSCP_REMARK' ? `dscp_remark:${m.dscp}` : 'drop';
}

export function meterJson(m: Meter__Output) {
  return {
    id: m.id,
    unit: unitText(m),
    rate: Number(m.rate),
    burst: Number(m.burst),
    band: m.band === 'METER_BAND_DSCP_REMARK' ? 'dscp_remark' : 'drop',
    dscp: m.dscp,
    bands: m.bands.map((b) => ({ type: bandWord(String(b.type)), rate: Number(b.rate), burst: Number(b.burst), dscp: b.dscp })),
  };
}

export function meterStatsJson(s: MeterStats__Output) {
  return {
    ...meterJson(s.meter!),
    durationSec: s.durationSec,
    passPackets: s.passPackets,
    passBytes: s.passBytes,
    bandPackets: s.bandPackets,
    bandBytes: s.bandBytes,
    bandStats: s.bandStats.map((b) => ({ packets: b.packets, bytes: b.bytes })),
  };
}

function metersTable(ms: Meter__Output[]): string {
  if (ms.length === 0) return 'no meters\n';
  return table(
    ['ID', 'RATE', 'UNIT', 'BURST', 'BAND'],
    ms.map((m) => (m.bands.length > 1 ? [m.id, '-', unitText(m), '-', bandText(m)] : [m.id, m.rate, unitText(m), m.burst, bandText(m)])),
  );
}

function meterStatsTable(ss: MeterStats__Output[]): string {
  if (ss.length === 0) return 'no meters\n';
  const t = table(
    ['ID', 'RATE', 'BAND', 'PASS_PKTS', 'PASS_BYTES', 'BAND_PKTS', 'BAND_BYTES'],
    ss.map((s) => [s.meter!.id, s.meter!.bands.length > 1 ? `- ${unitText(s.meter!)}` : `${s.meter!.rate} ${unitText(s.meter!)}`, s.meter!.bands.length > 1 ? `${s.meter!.bands.length} bands` : bandText(s.meter!), s.passPackets, s.passBytes, s.bandPackets, s.bandBytes]),
  );
  // per band, for meters with several
  const lines = ss
    .filter((s) => s.meter!.bands.length > 1)
    .flatMap((s) =>
      s.meter!.bands.map((b, i) => `meter ${s.meter!.id} band ${i} ${bandWord(String(b.type))}${b.type === 'METER_BAND_DSCP_REMARK' ? `:${b.dscp}` : ''} rate ${b.rate} burst ${b.burst}: ${s.bandStats[i]?.packets ?? 0} packets, ${s.bandStats[i]?.bytes ?? 0} bytes\n`),
    );
  return t + lines.join('');
}

export function addMeterCommands({ noun, api, print }: MeterCliContext): void {
  const meter = noun('meter', 'rate limits for flows (actions=meter:N,...)', 'add, mod, del, list, stats');
  for (const [verb, modify] of [['add', false], ['mod', true]] as const) {
    meter
      .command(verb)
      .description(modify ? "change a meter's rate, burst or band" : 'add a meter: a token bucket with one band (drop, or DSCP remark)')
      .argument('<id>', 'meter id 1..65535')
      .option('--kbps <n>', 'rate in kbit/s of frame bytes')
      .option('--pps <n>', 'rate in packets per second')
      .option('--burst <n>', 'bucket depth in kbit (--kbps) or packets (--pps); default 100 ms of the rate')
      .option('--remark-dscp <n>', 'rewrite the DSCP of packets over the rate to N (0..63) instead of dropping them')
      .option('--band <spec>', 'a band instead: type=drop|dscp_remark,rate=N[,burst=N][,dscp=N] (repeat, 1..4)', (v: string, p: string[]) => [...p, v], [] as string[])
      .option('--unit <unit>', 'with --band: kbps (default) or pps')
      .action(async (id: string, o: MeterOptions, cmd: Command) => {
        const m = await api(cmd).addMeter(meterRequest(meterId(id), o), modify);
        print(cmd, meterJson(m), () => metersTable([m]));
      });
  }
  meter
    .command('del')
    .description('delete a meter (refused while flows use it)')
    .argument('<id>', 'meter id')
    .action(async (id: string, _o, cmd: Command) => {
      await api(cmd).deleteMeter(meterId(id));
      print(cmd, { deleted: Number(id) }, () => `meter ${id} deleted\n`);
    });
  meter
    .command('list')
    .alias('ls')
    .description('the meters as the data plane runs them (burst resolved)')
    .action(async (_o, cmd: Command) => {
      const { meters } = await api(cmd).listMeters();
      print(cmd, meters.map(meterJson), () => metersTable(meters));
    });
  meter
    .command('stats')
    .description('packets and bytes that passed, and that went over the rate (dropped or remarked)')
    .argument('[id]', 'one meter (default: all)')
    .action(async (id: string | undefined, _o, cmd: Command) => {
      const { stats } = await api(cmd).meterStats(id === undefined ? 0 : meterId(id));
      print(cmd, stats.map(meterStatsJson), () => meterStatsTable(stats));
    });
}
