// SPDX-License-Identifier: BSD-3-Clause
//
// addon.cc — the switchyard.node module: the control-protocol client and
// the tables the management plane reads from the C headers.
//
// Exports
//   Client                 the client class (client.h), wrapped by src/mgmt/addon.ts
//   fields                 FieldInfo[] from sy_fields[] (flow.h)
//   dropReasons            { name, help }[] from SY_DROPS (proto.h)
//   errorNames             error code names by code: "OK", "INVAL", ...
//   errors                 { name, text }[] (text from SY_ERRORS)
//   actionNames            action names by enum sy_action_type
//   constants              PROTO_VERSION, MSG_MAX, MAX_ACTIONS, FLOW_BATCH_MAX, ...
//   validateFlowMod(mod)   null, or why the data plane would refuse mod
//                          (sy_flow_mod_validate, the very check it runs)
//   encodeFlowMod(mods, xid?, { reference? })
//                          the FLOW_MOD message the client would send (Buffer);
//                          reference: property by property (convert.cc), not
//                          by the bulk path (bulk.h): the two must agree
//   decodeFlows(buf)       the FLOW attributes of a message, as flow-mods (+ stats)
//   checkMessage(buf)      null, or what sy_msg_parse() finds wrong with buf
// The last three are for tests and debugging.
#include <napi.h>

#include <memory>
#include <string>

#include "bulk.h"
#include "client.h"
#include "convert.h"

namespace sy {
namespace {

const char* KindName(int k) {
  switch (k) {
    case SY_KIND_U8: return "u8";
    case SY_KIND_U16: return "u16";
    case SY_KIND_U32: return "u32";
    case SY_KIND_U64: return "u64";
    case SY_KIND_MAC: return "mac";
    case SY_KIND_IPV4: return "ipv4";
    case SY_KIND_IPV6: return "ipv6";
  }
  return "unknown";
}

const char* PrereqName(int p) {
  switch (p) {
    case SY_PRE_NONE: return "none";
    case SY_PRE_VLAN: return "vlan";
    case SY_PRE_IP: return "ip";
    case SY_PRE_IPV4: return "ipv4";
    case SY_PRE_IPV6: return "ipv6";
    case SY_PRE_L4: return "l4";
    case SY_PRE_TCP: return "tcp";
    case SY_PRE_ICMP: return "icmp";
    case SY_PRE_NSH: return "nsh";
  }
  return "unknown";
}

Napi::Array Fields(Napi::Env env) {
  Napi::Array arr = Napi::Array::New(env, SY_F__MAX - 1);
  for (int id = 1; id < SY_F__MAX; id++) {
    const sy_field_info& f = sy_fields[id];
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", id);
    o.Set("name", f.name);
    o.Set("kind", KindName(f.kind));
    o.Set("width", f.width);
    o.Set("prereq", PrereqName(f.prereq));
    o.Set("settable", Napi::Boolean::New(env, f.settable != 0));
    arr.Set(id - 1, o);
  }
  return arr;
}

Napi::Array DropReasons(Napi::Env env) {
  struct Drop {
    const char* name;
    const char* help;
  };
  static const Drop drops[] = {
#define SY_X_DROP(ID, name, help) {name, help},
      SY_DROPS(SY_X_DROP)
#undef SY_X_DROP
  };
  Napi::Array arr = Napi::Array::New(env, SY_DROP__MAX);
  for (int i = 0; i < SY_DROP__MAX; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", i);
    o.Set("name", drops[i].name);
    o.Set("help", drops[i].help);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Array ErrorNames(Napi::Env env) {
  Napi::Array arr = Napi::Array::New(env, SY_E__MAX);
  for (int i = 0; i < SY_E__MAX; i++) arr.Set(i, sy_error_names[i]);
  return arr;
}

Napi::Array Errors(Napi::Env env) {
  static const char* const texts[] = {
#define SY_X_TEXT(ID, text) text,
      SY_ERRORS(SY_X_TEXT)
#undef SY_X_TEXT
  };
  Napi::Array arr = Napi::Array::New(env, SY_E__MAX);
  for (int i = 0; i < SY_E__MAX; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("code", i);
    o.Set("name", sy_error_names[i]);
    o.Set("text", texts[i]);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Array ActionNames(Napi::Env env) {
  Napi::Array arr = Napi::Array::New(env, SY_ACT__MAX);
  for (int i = 0; i < SY_ACT__MAX; i++) arr.Set(i, sy_action_names[i]);
  return arr;
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("PROTO_VERSION", SY_PROTO_VERSION);
  o.Set("MSG_MAX", SY_MSG_MAX);
  o.Set("NAME_MAX", SY_NAME_MAX);
  o.Set("DEVARGS_MAX", SY_DEVARGS_MAX);
  o.Set("MAX_ACTIONS", SY_MAX_ACTIONS);
  o.Set("MAX_TABLES", SY_MAX_TABLES);
  o.Set("MAX_PORTS", SY_MAX_PORTS);
  o.Set("FLOW_BATCH_MAX", SY_FLOW_BATCH_MAX);
  o.Set("TABLE_ALL", SY_TABLE_ALL);
  o.Set("PORT_IN_PORT", SY_PORT_IN_PORT);
  o.Set("PORT_FLOOD", SY_PORT_FLOOD);
  o.Set("PORT_ALL", SY_PORT_ALL);
  o.Set("PORT_CONTROLLER", SY_PORT_CONTROLLER);
  o.Set("PORT_LOCAL", SY_PORT_LOCAL);
  o.Set("PORT_ANY", SY_PORT_ANY);
  // Sizes of the fixed structs on the wire (for tests that speak raw bytes).
  o.Set("DP_INFO_SIZE", sizeof(sy_dp_info));
  o.Set("PORT_DESC_SIZE", sizeof(sy_port_desc));
  o.Set("PORT_STATS_SIZE", sizeof(sy_port_stats));
  o.Set("TABLE_DESC_SIZE", sizeof(sy_table_desc));
  o.Set("DP_STATS_SIZE", sizeof(sy_dp_stats));
  o.Set("PMD_STATS_SIZE", sizeof(sy_pmd_stats));
  o.Set("PORT_RXQ_MAX", SY_PORT_RXQ_MAX);
  o.Set("PMD_RXQ_MAX", SY_PMD_RXQ_MAX);
  o.Set("REPLY_PART_MAX", SY_REPLY_PART_MAX);
  o.Set("FLOW_HDR_SIZE", sizeof(sy_flow_hdr));
  o.Set("FLOW_KEY_SIZE", sizeof(sy_flow_key));
  o.Set("ACTION_SIZE", sizeof(sy_action));
  o.Set("TRACE_FRAME_MAX", SY_TRACE_FRAME_MAX);
  return o;
}

Napi::Value ValidateFlowMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  char err[SY_ERRMSG_MAX];
  FlowModFromJs(Ctx(env), "mod", info[0], fm.get(), false);
  if (sy_flow_mod_validate(fm.get(), err, sizeof(err)) < 0) return Napi::String::New(env, err);
  return env.Null();
}

Napi::Value EncodeFlowMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "mods: expected an array of flow-mods");
  Napi::Array mods = info[0].As<Napi::Array>();
  uint32_t xid = info[1].IsUndefined() ? 1 : (uint32_t)GetUint(env, "xid", info[1], 0xffffffffu);
  sy_msgbuf b = {};
  sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, xid);
  try {
    if (info[2].IsObject() && info[2].As<Napi::Object>().Get("reference").ToBoolean())
      PutFlowMods(Ctx(env), mods, mods.Length(), &b);
    else
      PutFlowModsBulk(Ctx(env), mods, mods.Length(), &b);
  } catch (...) {
    sy_msg_free(&b);
    throw;
  }
  if (sy_msg_finish(&b) < 0) {
    sy_msg_free(&b);
    throw Napi::RangeError::New(env, "mods: cannot encode (too large?)");
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, b.data, b.len);
  sy_msg_free(&b);
  return out;
}

// A message parsed from info[0], a Buffer.  The parser wants 8-byte aligned
// bytes and a Buffer's need not be: it parses an aligned copy, which m points
// into.  rc is sy_msg_parse's; err says why when it is -1.
struct ParsedBuffer {
  std::unique_ptr<uint64_t[]> copy;
  sy_msg m;
  char err[SY_CODEC_ERR_MAX];
  int rc;
};

std::unique_ptr<ParsedBuffer> ParseBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "buf: expected a Buffer");
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  std::unique_ptr<ParsedBuffer> p(new ParsedBuffer());
  p->copy.reset(new uint64_t[buf.Length() / 8 + 1]);
  memcpy(p->copy.get(), buf.Data(), buf.Length());
  p->rc = sy_msg_parse(p->copy.get(), buf.Length(), &p->m, p->err, sizeof(p->err));
  return p;
}

Napi::Value DecodeFlows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<ParsedBuffer> p = ParseBuffer(info);
  if (p->rc < 0) throw Napi::Error::New(env, p->err);
  sy_msg& m = p->m;
  char err[SY_CODEC_ERR_MAX];
  Napi::Array arr = Napi::Array::New(env);
  sy_attr_iter it;
  const sy_attr* a;
  uint32_t i = 0;
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  Ctx c(env);
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    if (a->type != SY_A_FLOW) continue;
    Scope scope(env);
    sy_flow_stats st;
    bool has;
    if (sy_get_flow(a, fm.get(), &st, &has, err, sizeof(err)) < 0)
      throw Napi::Error::New(env, err);
    napi_set_element(env, arr, i++, FlowModToJs(c, *fm, has ? &st : nullptr));
  }
  return arr;
}

Napi::Value CheckMessage(const Napi::CallbackInfo& info) {
  std::unique_ptr<ParsedBuffer> p = ParseBuffer(info);
  if (p->rc < 0) return Napi::String::New(info.Env(), p->err);
  return info.Env().Null();
}

}  // namespace

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  InitStrings(env);
  exports.Set("Client", Client::Init(env));
  exports.Set("fields", Fields(env));
  exports.Set("dropReasons", DropReasons(env));
  exports.Set("errorNames", ErrorNames(env));
  exports.Set("errors", Errors(env));
  exports.Set("actionNames", ActionNames(env));
  exports.Set("constants", Constants(env));
  exports.Set("validateFlowMod", Napi::Function::New<ValidateFlowMod>(env, "validateFlowMod"));
  exports.Set("encodeFlowMod", Napi::Function::New<EncodeFlowMod>(env, "encodeFlowMod"));
  exports.Set("decodeFlows", Napi::Function::New<DecodeFlows>(env, "decodeFlows"));
  exports.Set("checkMessage", Napi::Function::New<CheckMessage>(env, "checkMessage"));
  return exports;
}

}  // namespace sy

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return sy::InitModule(env, exports); }

NODE_API_MODULE(switchyard, Init)
