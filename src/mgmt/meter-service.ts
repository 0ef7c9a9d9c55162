/** switchyard.v1.MeterService: rate limits that flows share (meters.ts). */
import { status as Status } from '@grpc/grpc-js';
import type { Meter, Meter__Output } from '../gen/switchyard/v1/Meter';
import type { MeterServiceHandlers } from '../gen/switchyard/v1/MeterService';
import type { MeterStats as WireMeterStats } from '../gen/switchyard/v1/MeterStats';
import type { MeterDesc, MeterStats } from './addon-types';
import { ApiError } from './errors';
import { unary } from './rpc';
import type { Switch } from './switch';
import { u64 } from './wire';

const UNITS: Record<string, string> = { METER_UNIT_KBPS: 'kbps', METER_UNIT_PPS: 'pps' };
const BANDS: Record<string, string> = { METER_BAND_DROP: 'drop', METER_BAND_DSCP_REMARK: 'dscp_remark' };

/** A Meter request as meters.ts checks it (burst 0: the default; dscp only for a remark band). */
function fromWire(m: Meter__Output): Record<string, unknown> {
  const unit = UNITS[String(m.unit)];
  if (!unit) throw new ApiError(Status.INVALID_ARGUMENT, `unit: unknown value ${String(m.unit)} (METER_UNIT_KBPS or METER_UNIT_PPS)`);
  if (m.bands.length) {
    if (Number(m.rate) || Number(m.burst) || m.dscp || m.band !== 'METER_BAND_DROP') {
      throw new ApiError(Status.INVALID_ARGUMENT, 'bands: give either bands or rate/burst/band/dscp, not both');
    }
    return {
      id: m.id,
      unit,
      bands: m.bands.map((b, i) => {
        const type = BANDS[String(b.type)];
        if (!type) throw new ApiError(Status.INVALID_ARGUMENT, `bands[${i}].type: unknown value ${String(b.type)} (METER_BAND_DROP or METER_BAND_DSCP_REMARK)`);
        const o: Record<string, unknown> = { type, rate: Number(b.rate) };
        if (Number(b.burst) !== 0) o.burst = Number(b.burst);
        if (type === 'dscp_remark') o.dscp = b.dscp;
        else if (b.dscp) throw new ApiError(Status.INVALID_ARGUMENT, `bands[${i}].dscp: only a METER_BAND_DSCP_REMARK band rewrites the DSCP`);
        return o;
      }),
    };
  }
  const band = BANDS[String(m.band)];
  if (!band) throw new ApiError(Status.INVALID_ARGUMENT, `band: unknown value ${String(m.band)} (METER_BAND_DROP or METER_BAND_DSCP_REMARK)`);
  const o: Record<string, unknown> = { id: m.id, unit, rate: Number(m.rate), band };
  if (Number(m.burst) !== 0) o.burst = Number(m.burst);
  if (band === 'dscp_remark') o.dscp = m.dscp;
  else if (m.dscp) throw new ApiError(Status.INVALID_ARGUMENT, 'dscp: only a METER_BAND_DSCP_REMARK band rewrites the DSCP');
  return o;
}

export function toWireMeter(d: MeterDesc): Meter {
  return {
    id: d.id,
    unit: d.unit === 'pps' ? 'METER_UNIT_PPS' : 'METER_UNIT_KBPS',
    rate: String(d.rate),
    burst: String(d.burst),
    band: d.band === 'dscp_remark' ? 'METER_BAND_DSCP_REMARK' : 'METER_BAND_DROP',
    dscp: d.dscp,
    bands: (d.bands ?? []).map((b) => ({ type: b.type === 'dscp_remark' ? 'METER_BAND_DSCP_REMARK' : 'METER_BAND_DROP', rate: String(b.rate), burst: String(b.burst), dscp: b.dscp })),
  };
}

function toWireStats(s: MeterStats): WireMeterStats {
  return {
    meter: toWireMeter(s),
    durationSec: Number(s.durationNs) / 1e9,
    passPackets: u64(s.passPackets),
    passBytes: u64(s.passBytes),
    bandPackets: u64(s.bandPackets),
    bandBytes: u64(s.bandBytes),
    bandStats: (s.bandStats ?? []).map((b) => ({ packets: u64(b.packets), bytes: u64(b.bytes) })),
  };
}

export function meterService(sw: Switch): MeterServiceHandlers {
  return {
    AddMeter: unary(async (req) => toWireMeter(await sw.setMeter('add', fromWire(req)))),
    ModifyMeter: unary(async (req) => toWireMeter(await sw.setMeter('modify', fromWire(req)))),
    DeleteMeter: unary(async (req) => {
      await sw.deleteMeter(req.id);
      return {};
    }),
    ListMeters: unary(async () => ({ meters: (await sw.meterStats()).map(toWireMeter) })),
    GetMeterStats: unary(async (req) => ({ stats: (await sw.meterStats(req.id || undefined)).map(toWireStats) })),
  };
}
