// mirrors.cc — mirrors between JavaScript and the wire (proto.h, "Mirrors").
//
//   mirrorMod('set' | 'delete', { id, name, outPort, src?: [ids], dst?: [ids] })
//   mirrorStats() -> [{ id, name, outPort, src, dst, packets, bytes, noMbuf }]
//
// A delete needs only { id }.  Counters are bigints, as everywhere.
#include <cstring>
#include <string>

#include "client.h"
#include "convert.h"

namespace sy {

namespace {

void MirrorPorts(Napi::Env env, Napi::Object o, const char* key, uint32_t* out, uint16_t* n) {
  Napi::Value v = o.Get(key);
  *n = 0;
  if (v.IsUndefined() || v.IsNull()) return;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string("mirror.") + key + ": expected an array of port ids");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > SY_MIRROR_PORTS)
    throw Napi::RangeError::New(env, std::string("mirror.") + key + ": " + std::to_string(a.Length()) +
                                         " ports, at most " + std::to_string(SY_MIRROR_PORTS));
  for (uint32_t i = 0; i < a.Length(); i++)
    out[i] = (uint32_t)GetUint(env, (std::string("mirror.") + key + "[" + std::to_string(i) + "]").c_str(),
                               a.Get(i), SY_MAX_PORT_ID);
  *n = (uint16_t)a.Length();
}

Napi::Array PortsToJs(Napi::Env env, const uint32_t* p, uint16_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (uint16_t i = 0; i < n && i < SY_MIRROR_PORTS; i++) a.Set(i, Napi::Number::New(env, p[i]));
  return a;
}

}  // namespace

int GetMirrorStats(const sy_attr* a, sy_mirror_stats* s, char* err, size_t errlen) {
  if (sy_attr_get_fixed(a, s, sizeof(*s), err, errlen) < 0) return -1;
  s->desc.name[SY_NAME_MAX - 1] = '\0';
  return 0;
}

Napi::Object MirrorStatsToJs(Napi::Env env, const sy_mirror_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", s.desc.id);
  o.Set("name", s.desc.name);
  o.Set("outPort", s.desc.out_port);
  o.Set("src", PortsToJs(env, s.desc.src, s.desc.n_src));
  o.Set("dst", PortsToJs(env, s.desc.dst, s.desc.n_dst));
  o.Set("packets", Napi::BigInt::New(env, s.packets));
  o.Set("bytes", Napi::BigInt::New(env, s.bytes));
  o.Set("noMbuf", Napi::BigInt::New(env, s.no_mbuf));
  return o;
}

Napi::Value Client::MirrorMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "command: expected 'set' or 'delete'");
  std::string c = info[0].As<Napi::String>();
  uint32_t cmd;
  if (c == "set") cmd = SY_MIR_SET;
  else if (c == "delete") cmd = SY_MIR_DELETE;
  else throw Napi::TypeError::New(env, "command: '" + c + "' is not one of set, delete");
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "mirror: expected an object");
  Napi::Object o = info[1].As<Napi::Object>();
  sy_mirror_desc d;
  memset(&d, 0, sizeof(d));
  d.id = (uint32_t)GetUint(env, "mirror.id", o.Get("id"), SY_MIRROR_MAX - 1);
  if (cmd == SY_MIR_SET) {
    Napi::Value name = o.Get("name");
    if (!name.IsString()) throw Napi::TypeError::New(env, "mirror.name: expected a string");
    std::string n = name.As<Napi::String>();
    if (n.empty() || n.size() >= SY_NAME_MAX || n.find('\0') != std::string::npos)
      throw Napi::RangeError::New(env, "mirror.name: '" + n + "' must be 1.." + std::to_string(SY_NAME_MAX - 1) + " bytes");
    memcpy(d.name, n.data(), n.size());
    d.out_port = (uint32_t)GetUint(env, "mirror.outPort", o.Get("outPort"), SY_MAX_PORT_ID);
    MirrorPorts(env, o, "src", d.src, &d.n_src);
    MirrorPorts(env, o, "dst", d.dst, &d.n_dst);
  }
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_MIRROR_MOD, 0, xid);
  sy_msg_put_u32(&b, SY_A_MIRROR_CMD, cmd);
  sy_msg_put(&b, SY_A_MIRROR_DESC, &d, sizeof(d));
  return Request(env, &b, xid, SY_MSG_MIRROR_MOD, Op::kVoid);
}

Napi::Value Client::MirrorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_MIRROR_STATS, 0, xid);
  return Request(env, &b, xid, SY_MSG_MIRROR_STATS, Op::kMirrorStats);
}

}  // namespace sy
