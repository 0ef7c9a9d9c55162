// SPDX-License-Identifier: BSD-3-Clause
//
// convert.cc — JavaScript values <-> flow.h / proto.h structs (convert.h).
#include "convert.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace sy {

namespace {

const uint64_t kU64Max = ~0ull;
const double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

std::string Describe(Napi::Value v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return v.As<Napi::Boolean>().Value() ? "true" : "false";
    case napi_number: {
      char buf[64];
      snprintf(buf, sizeof(buf), "%.17g", v.As<Napi::Number>().DoubleValue());
      return buf;
    }
    case napi_string: {
      std::string s = v.As<Napi::String>().Utf8Value();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "'" + s + "'";
    }
    case napi_bigint:
      return v.ToString().Utf8Value() + "n";
    case napi_object: return v.IsArray() ? "an array" : "an object";
    case napi_function: return "a function";
    default: return "a " + std::string(v.IsSymbol() ? "symbol" : "value");
  }
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& where, const std::string& what) {
  throw Napi::TypeError::New(env, where + ": " + what);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& where, const std::string& what) {
  throw Napi::RangeError::New(env, where + ": " + what);
}

bool IsPlainObject(Napi::Value v) {
  return v.IsObject() && !v.IsArray() && !v.IsFunction() && !v.IsBuffer();
}

// Strict unsigned parse of a decimal or 0x string; false on junk or overflow
// (*overflow says which).
bool ParseU64String(const std::string& s, uint64_t* out, bool* overflow) {
  size_t i = 0;
  unsigned base = 10;
  uint64_t v = 0;
  *overflow = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  if (i >= s.size()) return false;
  for (; i < s.size(); i++) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else return false;
    if (v > (kU64Max - d) / base) {
      *overflow = true;
      return false;
    }
    v = v * base + d;
  }
  *out = v;
  return true;
}

uint64_t BigIntToU64(Napi::Env env, const std::string& where, Napi::Value v, uint64_t max) {
  int sign = 0;
  size_t count = 2;
  uint64_t words[2] = {0, 0};
  v.As<Napi::BigInt>().ToWords(&sign, &count, words);
  bool zero = count == 0 || (count == 1 && words[0] == 0);
  if (!zero && sign) ThrowRange(env, where, Describe(v) + " is negative");
  if (count > 1 || words[0] > max)
    ThrowRange(env, where, Describe(v) + " is out of range 0.." + std::to_string(max));
  return zero ? 0 : words[0];
}

bool ParseMac(const std::string& s, uint8_t mac[6]) {
  unsigned int b[6];
  char tail;
  int n = sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                 &b[5], &tail);
  if (n != 6) return false;
  // sscanf's %x skips blanks and takes signs: check the text itself.
  for (char c : s)
    if (!isxdigit((unsigned char)c) && c != ':') return false;
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)b[i];
  return true;
}

bool MaskIsFull(const uint8_t* m, unsigned width) {
  for (unsigned i = 0; i < width; i++)
    if (m[i] != 0xff) return false;
  return true;
}

bool MaskIsZero(const uint8_t* m, unsigned width) {
  for (unsigned i = 0; i < width; i++)
    if (m[i] != 0) return false;
  return true;
}

const char* const kCommands[] = {nullptr, "add", "modify", "modify_strict", "delete",
                                 "delete_strict"};

std::string Join(const char* const* names, int from, int to) {
  std::string s;
  for (int i = from; i < to; i++) {
    if (!names[i]) continue;
    if (!s.empty()) s += ", ";
    s += names[i];
  }
  return s;
}

Napi::BigInt Big(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

std::string CString(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

}  // namespace

// --------------------------------------------------------------------------
// Numbers

uint64_t GetUint(Napi::Env env, const std::string& where, Napi::Value v, uint64_t max) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d))
      ThrowType(env, where, "expected an integer, got " + Describe(v));
    if (d < 0 || d > (double)max || d > kMaxSafe)
      ThrowRange(env, where, Describe(v) + " is out of range 0.." + std::to_string(max));
    return (uint64_t)d;
  }
  if (v.IsBigInt()) return BigIntToU64(env, where, v, max);
  ThrowType(env, where, "expected a number, got " + Describe(v));
}

uint64_t GetU64(Napi::Env env, const std::string& where, Napi::Value v) {
  if (v.IsBigInt()) return BigIntToU64(env, where, v, kU64Max);
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    uint64_t out;
    bool overflow;
    if (ParseU64String(s, &out, &overflow)) return out;
    if (overflow) ThrowRange(env, where, Describe(v) + " does not fit in 64 bits");
    ThrowType(env, where, "expected a bigint or a decimal or 0x string, got " + Describe(v));
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d))
      ThrowType(env, where, "expected an integer, got " + Describe(v));
    if (d < 0 || d > kMaxSafe)
      ThrowRange(env, where, Describe(v) + " is not a safe integer >= 0; pass a bigint");
    return (uint64_t)d;
  }
  ThrowType(env, where, "expected a bigint, got " + Describe(v));
}

uint64_t GetUintOpt(Napi::Env env, const std::string& where, Napi::Object o, const char* key,
                    uint64_t max, uint64_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  return GetUint(env, where + "." + key, v, max);
}

std::string GetString(Napi::Env env, const std::string& where, Napi::Value v) {
  if (!v.IsString()) ThrowType(env, where, "expected a string, got " + Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

// --------------------------------------------------------------------------
// Fields

void ParseField(Napi::Env env, const std::string& where, const sy_field_info& f, Napi::Value v,
                uint8_t out[16]) {
  memset(out, 0, 16);
  switch (f.kind) {
    case SY_KIND_U8:
    case SY_KIND_U16:
    case SY_KIND_U32: {
      uint64_t max = f.width >= 8 ? kU64Max : (1ull << (8 * f.width)) - 1;
      uint64_t x = GetUint(env, where, v, max);
      if (f.width == 1) {
        uint8_t y = (uint8_t)x;
        memcpy(out, &y, 1);
      } else if (f.width == 2) {
        uint16_t y = (uint16_t)x;
        memcpy(out, &y, 2);
      } else {
        uint32_t y = (uint32_t)x;
        memcpy(out, &y, 4);
      }
      return;
    }
    case SY_KIND_U64: {
      uint64_t x = GetU64(env, where, v);
      memcpy(out, &x, 8);
      return;
    }
    case SY_KIND_MAC: {
      std::string s = GetString(env, where, v);
      if (!ParseMac(s, out))
        ThrowType(env, where, Describe(v) + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
      return;
    }
    case SY_KIND_IPV4: {
      std::string s = GetString(env, where, v);
      struct in_addr a;
      if (inet_pton(AF_INET, s.c_str(), &a) != 1)
        ThrowType(env, where, Describe(v) + " is not an IPv4 address");
      uint32_t h = ntohl(a.s_addr);
      memcpy(out, &h, 4);
      return;
    }
    case SY_KIND_IPV6: {
      std::string s = GetString(env, where, v);
      if (inet_pton(AF_INET6, s.c_str(), out) != 1)
        ThrowType(env, where, Describe(v) + " is not an IPv6 address");
      return;
    }
  }
  ThrowType(env, where, "field of unknown kind");
}

Napi::Value FormatField(Napi::Env env, const sy_field_info& f, const uint8_t* p) {
  switch (f.kind) {
    case SY_KIND_U8:
    case SY_KIND_U16:
    case SY_KIND_U32: {
      uint32_t v = 0;
      if (f.width == 1) {
        v = p[0];
      } else if (f.width == 2) {
        uint16_t y;
        memcpy(&y, p, 2);
        v = y;
      } else {
        memcpy(&v, p, 4);
      }
      return Napi::Number::New(env, v);
    }
    case SY_KIND_U64: {
      uint64_t v;
      memcpy(&v, p, 8);
      return Big(env, v);
    }
    case SY_KIND_MAC:
      return Napi::String::New(env, MacToString(p));
    case SY_KIND_IPV4: {
      uint32_t h;
      memcpy(&h, p, 4);
      struct in_addr a;
      a.s_addr = htonl(h);
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &a, buf, sizeof(buf));
      return Napi::String::New(env, buf);
    }
    case SY_KIND_IPV6: {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, p, buf, sizeof(buf));
      return Napi::String::New(env, buf);
    }
  }
  return env.Undefined();
}

void MatchFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_flow_key* key,
                 sy_flow_key* mask) {
  memset(key, 0, sizeof(*key));
  memset(mask, 0, sizeof(*mask));
  if (v.IsUndefined() || v.IsNull()) return;
  if (!IsPlainObject(v))
    ThrowType(env, where, "expected an object of field: { value, mask? }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  Napi::Array names = o.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).ToString().Utf8Value();
    std::string at = where + "." + name;
    enum sy_field_id id = sy_field_by_name(name.c_str());
    if (id == SY_F_NONE) ThrowType(env, at, "unknown match field");
    const sy_field_info& f = sy_fields[id];
    Napi::Value mv = o.Get(name);
    if (!IsPlainObject(mv)) ThrowType(env, at, "expected { value, mask? }, got " + Describe(mv));
    Napi::Object m = mv.As<Napi::Object>();
    Napi::Value value = m.Get("value");
    if (value.IsUndefined()) ThrowType(env, at + ".value", "missing");
    uint8_t vb[16], mb[16];
    ParseField(env, at + ".value", f, value, vb);
    Napi::Value mk = m.Get("mask");
    if (mk.IsUndefined() || mk.IsNull())
      memset(mb, 0xff, sizeof(mb));
    else
      ParseField(env, at + ".mask", f, mk, mb);
    memcpy((uint8_t*)key + f.offset, vb, f.width);
    memcpy((uint8_t*)mask + f.offset, mb, f.width);
  }
  sy_flow_key_apply_mask(key, mask);
}

Napi::Object MatchToJs(Napi::Env env, const sy_flow_key& key, const sy_flow_key& mask) {
  Napi::Object o = Napi::Object::New(env);
  bool ip4 = mask.dl_type == 0xffff && key.dl_type == 0x0800;
  bool ip6 = mask.dl_type == 0xffff && key.dl_type == 0x86dd;
  bool icmp = mask.nw_proto == 0xff && ((ip4 && key.nw_proto == 1) || (ip6 && key.nw_proto == 58));
  for (int id = 1; id < SY_F__MAX; id++) {
    if (id == SY_F_ICMP_TYPE || id == SY_F_ICMP_CODE) continue;  // views of tp_src/tp_dst
    const sy_field_info& f = sy_fields[id];
    const uint8_t* k = (const uint8_t*)&key + f.offset;
    const uint8_t* m = (const uint8_t*)&mask + f.offset;
    if (MaskIsZero(m, f.width)) continue;
    const char* name = f.name;
    if (icmp && id == SY_F_TP_SRC) name = sy_fields[SY_F_ICMP_TYPE].name;
    if (icmp && id == SY_F_TP_DST) name = sy_fields[SY_F_ICMP_CODE].name;
    Napi::Object mv = Napi::Object::New(env);
    uint8_t masked[16];
    for (unsigned i = 0; i < f.width; i++) masked[i] = k[i] & m[i];
    mv.Set("value", FormatField(env, f, masked));
    if (!MaskIsFull(m, f.width)) mv.Set("mask", FormatField(env, f, m));
    o.Set(name, mv);
  }
  return o;
}

// --------------------------------------------------------------------------
// Actions

void ActionFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_action* a) {
  memset(a, 0, sizeof(*a));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected an action object, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  std::string type = GetString(env, where + ".type", o.Get("type"));
  int t = SY_ACT_NONE;
  for (int i = 1; i < SY_ACT__MAX; i++)
    if (type == sy_action_names[i]) t = i;
  if (t == SY_ACT_NONE)
    ThrowType(env, where + ".type",
              "unknown action '" + type + "' (one of " + Join(sy_action_names, 1, SY_ACT__MAX) + ")");
  a->type = (uint16_t)t;
  auto required = [&](const char* key, uint64_t max) -> uint64_t {
    Napi::Value x = o.Get(key);
    if (x.IsUndefined()) ThrowType(env, where + "." + key, "missing");
    return GetUint(env, where + "." + key, x, max);
  };
  switch (t) {
    case SY_ACT_OUTPUT:
      a->arg = (uint32_t)required("port", 0xffffffffu);
      break;
    case SY_ACT_SET_FIELD: {
      std::string fname = GetString(env, where + ".field", o.Get("field"));
      enum sy_field_id id = sy_field_by_name(fname.c_str());
      if (id == SY_F_NONE) ThrowType(env, where + ".field", "unknown field '" + fname + "'");
      const sy_field_info& f = sy_fields[id];
      a->field = (uint16_t)id;
      Napi::Value value = o.Get("value");
      if (value.IsUndefined()) ThrowType(env, where + ".value", "missing");
      ParseField(env, where + ".value", f, value, a->value.bytes);
      Napi::Value mk = o.Get("mask");
      if (!mk.IsUndefined() && !mk.IsNull()) {
        if (f.width > sizeof(a->mask))
          ThrowRange(env, where + ".mask", std::string(f.name) + " cannot be set with a mask");
        uint8_t mb[16];
        ParseField(env, where + ".mask", f, mk, mb);
        memcpy(&a->mask, mb, f.width);
      }
      break;
    }
    case SY_ACT_PUSH_VLAN:
      a->arg = (uint32_t)GetUintOpt(env, where, o, "tpid", 0xffff, 0x8100);
      break;
    case SY_ACT_GOTO_TABLE:
      a->arg = (uint32_t)required("table", 0xff);
      break;
    case SY_ACT_WRITE_METADATA: {
      Napi::Value value = o.Get("value");
      if (value.IsUndefined()) ThrowType(env, where + ".value", "missing");
      a->value.u64[0] = GetU64(env, where + ".value", value);
      Napi::Value mk = o.Get("mask");
      a->mask = mk.IsUndefined() ? kU64Max : GetU64(env, where + ".mask", mk);
      break;
    }
    case SY_ACT_CONTROLLER:
      a->arg = (uint32_t)GetUintOpt(env, where, o, "maxLen", 0xffffffffu, 0xffff);
      break;
    case SY_ACT_GROUP:
      a->arg = (uint32_t)required("group", 0xffffffffu);
      break;
    case SY_ACT_METER:
      a->arg = (uint32_t)required("meter", 0xffffffffu);
      break;
    case SY_ACT_SET_QUEUE:
      a->arg = (uint32_t)required("queue", 0xffffffffu);
      break;
    default:
      break;  // no arguments
  }
}

Napi::Object ActionToJs(Napi::Env env, const sy_action& a) {
  Napi::Object o = Napi::Object::New(env);
  if (a.type == SY_ACT_NONE || a.type >= SY_ACT__MAX) {
    o.Set("type", "action_" + std::to_string(a.type));
    o.Set("arg", a.arg);
    return o;
  }
  o.Set("type", sy_action_names[a.type]);
  switch (a.type) {
    case SY_ACT_OUTPUT: o.Set("port", a.arg); break;
    case SY_ACT_SET_FIELD:
      if (a.field > SY_F_NONE && a.field < SY_F__MAX) {
        const sy_field_info& f = sy_fields[a.field];
        o.Set("field", f.name);
        o.Set("value", FormatField(env, f, a.value.bytes));
        if (a.mask && f.width <= sizeof(a.mask)) {
          uint8_t mb[16] = {0};
          memcpy(mb, &a.mask, f.width);
          o.Set("mask", FormatField(env, f, mb));
        }
      } else {
        o.Set("field", "field_" + std::to_string(a.field));
      }
      break;
    case SY_ACT_PUSH_VLAN: o.Set("tpid", a.arg); break;
    case SY_ACT_GOTO_TABLE: o.Set("table", a.arg); break;
    case SY_ACT_WRITE_METADATA:
      o.Set("value", Big(env, a.value.u64[0]));
      o.Set("mask", Big(env, a.mask));
      break;
    case SY_ACT_CONTROLLER: o.Set("maxLen", a.arg); break;
    case SY_ACT_GROUP: o.Set("group", a.arg); break;
    case SY_ACT_METER: o.Set("meter", a.arg); break;
    case SY_ACT_SET_QUEUE: o.Set("queue", a.arg); break;
    default: break;
  }
  return o;
}

// --------------------------------------------------------------------------
// Flows

void FlowModFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_flow_mod* fm,
                   bool filter) {
  memset(fm, 0, sizeof(*fm));
  if (filter && (v.IsUndefined() || v.IsNull())) {
    fm->hdr.command = SY_FC_DELETE;
    fm->hdr.table_id = SY_TABLE_ALL;
    fm->hdr.out_port = SY_PORT_ANY;
    return;
  }
  if (!IsPlainObject(v)) ThrowType(env, where, "expected a flow object, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();

  int cmd = SY_FC_DELETE;  // filters: non-strict, as a delete
  if (!filter) {
    std::string c = GetString(env, where + ".command", o.Get("command"));
    cmd = 0;
    for (int i = SY_FC_ADD; i <= SY_FC_DELETE_STRICT; i++)
      if (c == kCommands[i]) cmd = i;
    if (!cmd)
      ThrowType(env, where + ".command",
                "unknown command '" + c + "' (one of " + Join(kCommands, 1, 6) + ")");
  }
  bool del = cmd == SY_FC_DELETE || cmd == SY_FC_DELETE_STRICT;
  fm->hdr.command = (uint8_t)cmd;
  fm->hdr.table_id = (uint8_t)GetUintOpt(env, where, o, "table", 0xff, del ? SY_TABLE_ALL : 0);
  fm->hdr.priority = (uint16_t)GetUintOpt(env, where, o, "priority", 0xffff, 0x8000);
  fm->hdr.idle_timeout = (uint16_t)GetUintOpt(env, where, o, "idleTimeout", 0xffff, 0);
  fm->hdr.hard_timeout = (uint16_t)GetUintOpt(env, where, o, "hardTimeout", 0xffff, 0);
  fm->hdr.flags = (uint16_t)GetUintOpt(env, where, o, "flags", 0xffff, 0);
  fm->hdr.out_port = (uint32_t)GetUintOpt(env, where, o, "outPort", 0xffffffffu, SY_PORT_ANY);
  Napi::Value cookie = o.Get("cookie");
  if (!cookie.IsUndefined()) fm->hdr.cookie = GetU64(env, where + ".cookie", cookie);
  Napi::Value cmask = o.Get("cookieMask");
  if (!cmask.IsUndefined()) fm->hdr.cookie_mask = GetU64(env, where + ".cookieMask", cmask);

  MatchFromJs(env, where + ".match", o.Get("match"), &fm->key, &fm->mask);

  Napi::Value acts = o.Get("actions");
  if (acts.IsUndefined() || acts.IsNull()) return;
  if (!acts.IsArray()) ThrowType(env, where + ".actions", "expected an array, got " + Describe(acts));
  Napi::Array arr = acts.As<Napi::Array>();
  if (arr.Length() > SY_MAX_ACTIONS)
    ThrowRange(env, where + ".actions",
               std::to_string(arr.Length()) + " actions, at most " + std::to_string(SY_MAX_ACTIONS));
  for (uint32_t i = 0; i < arr.Length(); i++)
    ActionFromJs(env, where + ".actions[" + std::to_string(i) + "]", arr.Get(i), &fm->actions[i]);
  fm->n_actions = (uint16_t)arr.Length();
}

static void FlowCommonToJs(Napi::Env env, Napi::Object o, const sy_flow_mod& fm) {
  o.Set("table", fm.hdr.table_id);
  o.Set("priority", fm.hdr.priority);
  o.Set("cookie", Big(env, fm.hdr.cookie));
  o.Set("idleTimeout", fm.hdr.idle_timeout);
  o.Set("hardTimeout", fm.hdr.hard_timeout);
  o.Set("flags", fm.hdr.flags);
  o.Set("match", MatchToJs(env, fm.key, fm.mask));
  unsigned n = fm.n_actions > SY_MAX_ACTIONS ? SY_MAX_ACTIONS : fm.n_actions;
  Napi::Array acts = Napi::Array::New(env, n);
  for (unsigned i = 0; i < n; i++) acts.Set(i, ActionToJs(env, fm.actions[i]));
  o.Set("actions", acts);
}

Napi::Object FlowModToJs(Napi::Env env, const sy_flow_mod& fm) {
  Napi::Object o = Napi::Object::New(env);
  if (fm.hdr.command >= SY_FC_ADD && fm.hdr.command <= SY_FC_DELETE_STRICT)
    o.Set("command", kCommands[fm.hdr.command]);
  else
    o.Set("command", std::to_string(fm.hdr.command));
  FlowCommonToJs(env, o, fm);
  o.Set("cookieMask", Big(env, fm.hdr.cookie_mask));
  o.Set("outPort", fm.hdr.out_port);
  return o;
}

Napi::Object FlowEntryToJs(Napi::Env env, const sy_flow_mod& fm, const sy_flow_stats& st) {
  Napi::Object o = Napi::Object::New(env);
  FlowCommonToJs(env, o, fm);
  Napi::Object s = Napi::Object::New(env);
  s.Set("packets", Big(env, st.packets));
  s.Set("bytes", Big(env, st.bytes));
  s.Set("durationNs", Big(env, st.duration_ns));
  s.Set("idleNs", Big(env, st.idle_ns));
  o.Set("stats", s);
  return o;
}

// --------------------------------------------------------------------------
// Ports, tables, counters

std::string MacToString(const uint8_t mac[6]) {
  char buf[18];
  snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
           mac[4], mac[5]);
  return buf;
}

Napi::Object PortDescToJs(Napi::Env env, const sy_port_desc& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", d.id);
  o.Set("dpdkPort", d.dpdk_port);
  o.Set("name", CString(d.name, sizeof(d.name)));
  o.Set("driver", CString(d.driver, sizeof(d.driver)));
  o.Set("devargs", CString(d.devargs, sizeof(d.devargs)));
  o.Set("mtu", d.mtu);
  o.Set("adminUp", Napi::Boolean::New(env, d.admin_up != 0));
  o.Set("linkUp", Napi::Boolean::New(env, d.link_up != 0));
  o.Set("linkSpeed", d.link_speed);
  o.Set("mac", MacToString(d.mac));
  o.Set("nRxq", d.n_rxq);
  o.Set("nTxq", d.n_txq);
  return o;
}

static Napi::Object Drops(Napi::Env env, const uint64_t* drops) {
  Napi::Object o = Napi::Object::New(env);
  for (int i = 0; i < SY_DROP__MAX; i++) o.Set(sy_drop_names[i], Big(env, drops[i]));
  return o;
}

Napi::Object PortStatsToJs(Napi::Env env, const sy_port_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", s.id);
  o.Set("rxPackets", Big(env, s.rx_packets));
  o.Set("rxBytes", Big(env, s.rx_bytes));
  o.Set("txPackets", Big(env, s.tx_packets));
  o.Set("txBytes", Big(env, s.tx_bytes));
  o.Set("rxErrors", Big(env, s.rx_errors));
  o.Set("txErrors", Big(env, s.tx_errors));
  o.Set("rxMissed", Big(env, s.rx_missed));
  o.Set("drops", Drops(env, s.drops));
  return o;
}

const char* TableMissName(uint32_t miss) {
  switch (miss) {
    case SY_MISS_DROP: return "drop";
    case SY_MISS_CONTINUE: return "continue";
    case SY_MISS_CONTROLLER: return "controller";
  }
  return "unknown";
}

Napi::Object TableDescToJs(Napi::Env env, const sy_table_desc& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", d.id);
  o.Set("name", CString(d.name, sizeof(d.name)));
  o.Set("miss", TableMissName(d.miss));
  o.Set("nFlows", d.n_flows);
  o.Set("maxFlows", d.max_flows);
  o.Set("lookups", Big(env, d.lookups));
  o.Set("matched", Big(env, d.matched));
  return o;
}

void TableModFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_table_desc* d) {
  memset(d, 0, sizeof(*d));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected { id, name?, miss?, maxFlows? }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value id = o.Get("id");
  if (id.IsUndefined()) ThrowType(env, where + ".id", "missing");
  d->id = (uint32_t)GetUint(env, where + ".id", id, SY_MAX_TABLES - 1);
  Napi::Value name = o.Get("name");
  if (!name.IsUndefined()) {
    std::string s = GetString(env, where + ".name", name);
    if (s.size() >= sizeof(d->name))
      ThrowRange(env, where + ".name",
                 "'" + s + "' is longer than " + std::to_string(sizeof(d->name) - 1) + " bytes");
    if (s.find('\0') != std::string::npos) ThrowType(env, where + ".name", "contains a NUL");
    memcpy(d->name, s.data(), s.size());
  }
  Napi::Value miss = o.Get("miss");
  d->miss = SY_MISS_DROP;
  if (!miss.IsUndefined()) {
    std::string s = GetString(env, where + ".miss", miss);
    if (s == "drop") d->miss = SY_MISS_DROP;
    else if (s == "continue") d->miss = SY_MISS_CONTINUE;
    else if (s == "controller") d->miss = SY_MISS_CONTROLLER;
    else ThrowType(env, where + ".miss", "'" + s + "' is not one of drop, continue, controller");
  }
  d->max_flows = (uint32_t)GetUintOpt(env, where, o, "maxFlows", 0xffffffffu, 0);
}

Napi::Object DpStatsToJs(Napi::Env env, const sy_dp_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("drops", Drops(env, s.drops));
  o.Set("rxPackets", Big(env, s.rx_packets));
  o.Set("txPackets", Big(env, s.tx_packets));
  o.Set("nPorts", s.n_ports);
  o.Set("nFlows", s.n_flows);
  o.Set("copies", Big(env, s.copies));
  return o;
}

Napi::Object DpInfoToJs(Napi::Env env, const sy_dp_info& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", i.pid);
  o.Set("nWorkers", i.n_workers);
  o.Set("startNs", Big(env, i.start_ns));
  o.Set("tscHz", Big(env, i.tsc_hz));
  o.Set("maxPorts", i.max_ports);
  o.Set("maxTables", i.max_tables);
  o.Set("version", CString(i.version, sizeof(i.version)));
  o.Set("dpdkVersion", CString(i.dpdk_version, sizeof(i.dpdk_version)));
  o.Set("filePrefix", CString(i.file_prefix, sizeof(i.file_prefix)));
  return o;
}

const char* ErrorName(int code) {
  if (code > SY_E_OK && code < SY_E__MAX) return sy_error_names[code];
  return "INTERNAL";
}

}  // namespace sy
