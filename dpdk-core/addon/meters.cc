// meters.cc — meters between JavaScript and the wire (proto.h, "Meters").
//
//   meterMod('add' | 'modify' | 'delete', { id, unit: 'kbps' | 'pps', rate,
//            burst?, band?: 'drop' | 'dscp_remark', dscp?,
//            bands?: [{ type, rate, burst?, dscp? }] })   (bands: rate & co. ignored)
//            -> { id, unit, rate, burst, band, dscp, bands: [{ type, rate, burst, dscp }] }
//   meterStats(id?) -> [{ id, unit, rate, burst, band, dscp, bands, durationNs,
//            passPackets, passBytes, bandPackets, bandBytes,
//            bandStats: [{ packets, bytes }] (by band) }]
//
//   portQos(portId, qos?) -> { portId, rate, burst, queues: [{ queue, rate, burst }] }
//            sets a port's egress QoS ({ rate, burst?, queues? }; rate 0 and
//            no queues: none) or, without qos, reads it (kbit/s, kbit)
//
// A delete needs only { id }.  Counters are bigints, as everywhere.  The
// conversions are in convert.cc (MeterModFromJs, MeterStatsToJs).
#include <cstring>

#include "client.h"
#include "convert.h"

namespace sy {

Napi::Value Client::MeterMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sy_meter_desc d;
  sy_meter_bands bands;
  bool has_bands;
  uint32_t cmd = MeterModFromJs(env, info[0], info[1], &d, &bands, &has_bands);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_METER_MOD, 0, xid);
  sy_msg_put_u32(&b, SY_A_METER_CMD, cmd);
  sy_put_meter_desc(&b, &d);
  if (has_bands) sy_put_meter_bands(&b, &bands);
  return Request(env, &b, xid, SY_MSG_METER_MOD, cmd == SY_MC_DELETE ? Op::kVoid : Op::kMeterDesc);
}

Napi::Value Client::MeterStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = 0;
  if (!info[0].IsUndefined()) {
    id = (uint32_t)GetUint(env, "id", info[0], SY_METER_ID_MAX);
    if (id == 0) throw Napi::RangeError::New(env, "id: 0 is out of range 1.." + std::to_string(SY_METER_ID_MAX));
  }
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_METER_STATS, 0, xid);
  if (id) sy_msg_put_u32(&b, SY_A_METER_ID, id);
  return Request(env, &b, xid, SY_MSG_METER_STATS, Op::kMeterStats);
}

Napi::Value Client::PortQos(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsUndefined()) throw Napi::TypeError::New(env, "portId: missing");
  uint32_t id = (uint32_t)GetUint(env, "portId", info[0], SY_MAX_PORT_ID);
  sy_port_qos q;
  bool set = !info[1].IsUndefined();
  if (set) PortQosFromJs(env, info[1], &q);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_QOS, 0, xid);
  sy_msg_put_u32(&b, SY_A_PORT_ID, id);
  if (set) sy_put_port_qos(&b, &q);
  return Request(env, &b, xid, SY_MSG_PORT_QOS, Op::kPortQos);
}

}  // namespace sy
