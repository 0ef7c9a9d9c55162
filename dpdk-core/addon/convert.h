// SPDX-License-Identifier: BSD-3-Clause
//
// convert.h — JavaScript values <-> the fixed structs of flow.h and proto.h.
//
// The forms are those of src/mgmt/addon-types.ts: match values by field
// kind (u8/u16/u32 numbers, u64 bigint or decimal/0x string, MAC, IPv4 and
// IPv6 strings), 64-bit counters as bigint.  Every "from JS" function throws
// a Napi::TypeError (wrong type, unknown name, malformed string) or
// Napi::RangeError (out of range) whose message starts with the path of the
// offending value ("mods[2].match.nw_src: ..."), before anything is sent.
//
// Field names, kinds and widths come from sy_fields[] (flow.c): nothing
// here knows a field by name except the tp_src/icmp_type aliasing on output.
//
// Speed
//   Batches and dumps go through bulk.h, which falls back on the flow
//   conversions here for anything unusual and for every error message:
//   these are the reference.  They still keep to raw napi_values with
//   property keys made once per environment (internalized strings: no
//   string is created or hashed per property), keep no std::string on the
//   success path (Path builds the "mods[2].match.nw_src" text only when it
//   throws), and find field and action names in small hash tables.  Callers
//   open a handle scope per flow so that a batch does not pile up handles.
#ifndef SWITCHYARD_ADDON_CONVERT_H
#define SWITCHYARD_ADDON_CONVERT_H

#include <napi.h>

#include <cstring>
#include <string>

#include <switchyard/codec.h>

namespace sy {

// Stores x as a host-order integer of width 1, 2 or 4 bytes at out (a key
// or set_field value of a u8/u16/u32 field).
inline void StoreUint(uint8_t* out, unsigned width, uint64_t x) {
  if (width == 1) {
    uint8_t y = (uint8_t)x;
    memcpy(out, &y, 1);
  } else if (width == 2) {
    uint16_t y = (uint16_t)x;
    memcpy(out, &y, 2);
  } else {
    uint32_t y = (uint32_t)x;
    memcpy(out, &y, 4);
  }
}

// The reverse: a u8, u16 or u32 field of `width` bytes in host order.
inline uint32_t LoadUint(const uint8_t* p, unsigned width) {
  if (width == 1) return p[0];
  if (width == 2) {
    uint16_t y;
    memcpy(&y, p, 2);
    return y;
  }
  uint32_t y;
  memcpy(&y, p, 4);
  return y;
}

// Paths ---------------------------------------------------------------------

// Where a value sits in the arguments, for error messages: a root ("mods",
// "req.name"), then keys (".match") and indexes ("[2]").  A Path refers to
// its parent and to the strings it was made from, so it lives on the stack
// of the call that made it; str() is called only to throw.
class Path {
 public:
  Path(const char* root) : parent_(nullptr), key_(root), index_(0) {}  // NOLINT: implicit
  Path(const std::string& root) : parent_(nullptr), key_(root.c_str()), index_(0) {}  // NOLINT
  Path(const Path& parent, const char* key) : parent_(&parent), key_(key), index_(0) {}
  Path(const Path& parent, uint32_t index) : parent_(&parent), key_(nullptr), index_(index) {}
  std::string str() const;

 private:
  const Path* parent_;
  const char* key_;  // nullptr: an index
  uint32_t index_;
};

// Keys and constant strings ---------------------------------------------------

// Property names of the flow objects.  X(name)
#define SY_JS_KEYS(X)                                                                      \
  X(command) X(table) X(priority) X(cookie) X(cookieMask) X(idleTimeout) X(hardTimeout)    \
  X(flags) X(outPort) X(match) X(actions) X(stats) X(value) X(mask) X(type) X(port)        \
  X(field) X(tpid) X(maxLen) X(group) X(meter) X(mirror) X(queue) X(arg) X(packets) X(bytes)         \
  X(durationNs) X(idleNs)                                                                  \
  X(spi) X(si) X(ttl) X(mdType) X(c1) X(c2) X(c3) X(c4)

enum JsKey {
#define SY_X_ENUM(name) K_##name,
  SY_JS_KEYS(SY_X_ENUM)
#undef SY_X_ENUM
  K__MAX
};

// Makes the keys of this environment (called once, from the module's init).
void InitStrings(Napi::Env env);

// The keys and constant strings of env, as napi_values of the current
// handle scope: one per call that converts many objects.
struct Ctx {
  explicit Ctx(Napi::Env env);
  napi_env env;
  napi_value key[K__MAX];
  napi_value field[SY_F__MAX];     // field names (match keys, set_field values)
  napi_value action[SY_ACT__MAX];  // action type names
  napi_value cmd[6];               // flow-mod command names by enum sy_flow_cmd
  napi_value pack;                 // bulk.cc's JS helpers
  napi_value build;
};

// One handle scope (a flow of a batch): the handles made in it go when it ends.
class Scope {
 public:
  explicit Scope(napi_env env) : env_(env) { napi_open_handle_scope(env, &scope_); }
  ~Scope() { napi_close_handle_scope(env_, scope_); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  napi_env env_;
  napi_handle_scope scope_;
};

// Numbers ------------------------------------------------------------------

// An integer 0..max from a number (integral) or a bigint.
uint64_t GetUint(Napi::Env env, const Path& where, Napi::Value v, uint64_t max);
// A 64-bit unsigned value: bigint, decimal or 0x string, or a safe integer.
uint64_t GetU64(Napi::Env env, const Path& where, Napi::Value v);
// Optional property: def when undefined.
uint64_t GetUintOpt(Napi::Env env, const Path& where, Napi::Object o, const char* key,
                    uint64_t max, uint64_t def);
std::string GetString(Napi::Env env, const Path& where, Napi::Value v);

// Fields -------------------------------------------------------------------

// Parses a value of field f into out (laid out as in the key, width bytes).
void ParseField(napi_env env, const Path& where, const sy_field_info& f, napi_value v,
                uint8_t out[16]);
napi_value FormatField(napi_env env, const sy_field_info& f, const uint8_t* p);

// Match: { nw_src: { value, mask? }, ... } -> key (masked) and mask.
void MatchFromJs(const Ctx& c, const Path& where, napi_value v, sy_flow_key* key,
                 sy_flow_key* mask);
napi_value MatchToJs(const Ctx& c, const sy_flow_key& key, const sy_flow_key& mask);

// Actions ------------------------------------------------------------------

void ActionFromJs(const Ctx& c, const Path& where, napi_value v, sy_action* a);
napi_value ActionToJs(const Ctx& c, const sy_action& a);

// Flows --------------------------------------------------------------------

// A FlowMod (filter: a Partial<FlowMod> for dumps, command ignored).
void FlowModFromJs(const Ctx& c, const Path& where, napi_value v, sy_flow_mod* fm,
                   bool filter);
// With command, cookieMask, outPort; and stats when st is not null.
napi_value FlowModToJs(const Ctx& c, const sy_flow_mod& fm, const sy_flow_stats* st = nullptr);
// A dumped entry: table, priority, cookie, timeouts, flags, match, actions, stats.
napi_value FlowEntryToJs(const Ctx& c, const sy_flow_mod& fm, const sy_flow_stats& st);
// Appends a FLOW nest to b for each of the n flow-mods of the array mods
// (errors name "mods[i]..."), one handle scope per flow-mod.
void PutFlowMods(const Ctx& c, napi_value mods, uint32_t n, sy_msgbuf* b);

// Ports, tables, counters --------------------------------------------------

std::string MacToString(const uint8_t mac[6]);
Napi::Object PortDescToJs(Napi::Env env, const sy_port_desc& d);
// A bond port's PORT_BOND, as PortDesc.bond; the names index enum
// sy_bond_mode and enum sy_bond_xmit_policy.
extern const char* const kBondModes[4];
extern const char* const kBondXmitPolicies[3];
Napi::Object PortBondToJs(Napi::Env env, const sy_port_bond& b);
// A port's edge settings (PORT_VLAN, PORT_NSH_TAG), as PortDesc.vlan and
// PortDesc.nshTag: {mode, tag, trunks (VIDs; [] = all), native} and
// {spi, si, ttl, mdtype, context[4]}.  kVlanModes indexes enum sy_vlan_mode.
extern const char* const kVlanModes[3];
Napi::Object PortVlanToJs(Napi::Env env, const sy_port_vlan& v);
Napi::Object PortNshTagToJs(Napi::Env env, const sy_port_nsh_tag& t);
Napi::Object PortStatsToJs(Napi::Env env, const sy_port_stats& s);
Napi::Object TableDescToJs(Napi::Env env, const sy_table_desc& d);
Napi::Object DpStatsToJs(Napi::Env env, const sy_dp_stats& s);
Napi::Object DpInfoToJs(Napi::Env env, const sy_dp_info& i);
// cpu UINT32_MAX -> null; rxqs: the first n_rxq (at most SY_PMD_RXQ_MAX) entries.
Napi::Object PmdStatsToJs(Napi::Env env, const sy_pmd_stats& s);
// { cookie, flows, packets, bytes } (CookieStats)
Napi::Object CookieStatsToJs(Napi::Env env, const sy_cookie_stats& s);
// A TRACE reply (proto.h, "Packet trace") as a TraceResult: { packet, steps:
// [{ table, entry, miss?, actions: [{ action, changes: [{ field, before,
// after }] }] }], outputs: [{ port, frame }], drop }.  drop is the last drop
// reason when no copy would be sent, else null.  Throws Napi::Error (no
// code) when the reply does not decode.
napi_value TraceToJs(const Ctx& c, const sy_msg& m);
// meters.cc: { id, unit, rate, burst, band, dscp } and that plus counters
Napi::Object MeterDescToJs(Napi::Env env, const sy_meter_desc& d);
Napi::Object MeterStatsToJs(Napi::Env env, const sy_meter_stats& s);
// mirrors.cc
int GetMirrorStats(const sy_attr* a, sy_mirror_stats* s, char* err, size_t errlen);
Napi::Object MirrorStatsToJs(Napi::Env env, const sy_mirror_stats& s);
// ('add' | 'modify' | 'delete', { id, unit?, rate, burst?, band?, dscp? }) -> SY_MC_*, *d
void PortQosFromJs(Napi::Env env, Napi::Value v, sy_port_qos* q);
Napi::Object PortQosToJs(Napi::Env env, const sy_port_qos& q);
uint32_t MeterModFromJs(Napi::Env env, Napi::Value cmd, Napi::Value v, sy_meter_desc* d, sy_meter_bands* bands,
                        bool* has_bands);
Napi::Array MeterBandsToJs(Napi::Env env, const sy_meter_bands& b);
Napi::Array MeterBandStatsToJs(Napi::Env env, const sy_meter_band_stats& s);
// { id, name?, miss?, maxFlows? } -> struct (absent: "", drop, 0)
// Groups: groupMod's argument (a message's GROUP_HDR and buckets), GROUP_STATS.
void GroupModFromJs(const Ctx& c, const Path& where, Napi::Value v, sy_group_mod* gm);
Napi::Object GroupStatsToJs(Napi::Env env, const sy_group_stats& s);
void TableModFromJs(Napi::Env env, const Path& where, Napi::Value v, sy_table_desc* d);

const char* TableMissName(uint32_t miss);
const char* ErrorName(int code);

// Names and text, for bulk.cc ----------------------------------------------

extern const char* const kKeyNames[K__MAX];
extern const char* const kCommands[6];  // by enum sy_flow_cmd; [0] is null
int FieldIdByName(const char* s, size_t len);   // SY_F_*, or -1
int ActionIdByName(const char* s, size_t len);  // SY_ACT_*, or -1
// Six groups of one or two hex digits, separated by ':'.
bool ParseMac(const char* s, size_t len, uint8_t mac[6]);
// Strict decimal or 0x; false on junk or overflow (*overflow says which).
bool ParseU64String(const std::string& s, uint64_t* out, bool* overflow);
bool MaskIsFull(const uint8_t* m, unsigned width);
bool MaskIsZero(const uint8_t* m, unsigned width);

// Calls fn(name, field, value, mask) for each field a match constrains, in
// field-table order: `name` is the field id the match calls it by (an ICMP
// match's tp_src/tp_dst are icmp_type/icmp_code), `value` the key's bytes
// under the mask. MatchToJs and the bulk dump encoder both walk a match this
// way, so the two say the same.
template <class Fn>
void ForEachMatchField(const sy_flow_key& key, const sy_flow_key& mask, Fn&& fn) {
  bool ip4 = mask.dl_type == 0xffff && key.dl_type == 0x0800;
  bool ip6 = mask.dl_type == 0xffff && key.dl_type == 0x86dd;
  bool icmp = mask.nw_proto == 0xff && ((ip4 && key.nw_proto == 1) || (ip6 && key.nw_proto == 58));
  for (int id = 1; id < SY_F__MAX; id++) {
    if (id == SY_F_ICMP_TYPE || id == SY_F_ICMP_CODE) continue;  // views of tp_src/tp_dst
    const sy_field_info& f = sy_fields[id];
    const uint8_t* k = (const uint8_t*)&key + f.offset;
    const uint8_t* m = (const uint8_t*)&mask + f.offset;
    if (MaskIsZero(m, f.width)) continue;
    int name = id;
    if (icmp && id == SY_F_TP_SRC) name = SY_F_ICMP_TYPE;
    if (icmp && id == SY_F_TP_DST) name = SY_F_ICMP_CODE;
    uint8_t masked[16];
    for (unsigned i = 0; i < f.width; i++) masked[i] = k[i] & m[i];
    fn(name, f, (const uint8_t*)masked, m);
  }
}
// The text of an address field (MAC, IPv4, IPv6) into buf (64 bytes): its length.
size_t FormatAddress(const sy_field_info& f, const uint8_t* p, char* buf);

}  // namespace sy

#endif  // SWITCHYARD_ADDON_CONVERT_H
