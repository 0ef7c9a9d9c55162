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
#ifndef SWITCHYARD_ADDON_CONVERT_H
#define SWITCHYARD_ADDON_CONVERT_H

#include <napi.h>

#include <string>

#include <switchyard/codec.h>

namespace sy {

// Numbers ------------------------------------------------------------------

// An integer 0..max from a number (integral) or a bigint.
uint64_t GetUint(Napi::Env env, const std::string& where, Napi::Value v, uint64_t max);
// A 64-bit unsigned value: bigint, decimal or 0x string, or a safe integer.
uint64_t GetU64(Napi::Env env, const std::string& where, Napi::Value v);
// Optional property: def when undefined.
uint64_t GetUintOpt(Napi::Env env, const std::string& where, Napi::Object o, const char* key,
                    uint64_t max, uint64_t def);
std::string GetString(Napi::Env env, const std::string& where, Napi::Value v);

// Fields -------------------------------------------------------------------

// Parses a value of field f into out (laid out as in the key, width bytes).
void ParseField(Napi::Env env, const std::string& where, const sy_field_info& f, Napi::Value v,
                uint8_t out[16]);
Napi::Value FormatField(Napi::Env env, const sy_field_info& f, const uint8_t* p);

// Match: { nw_src: { value, mask? }, ... } -> key (masked) and mask.
void MatchFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_flow_key* key,
                 sy_flow_key* mask);
Napi::Object MatchToJs(Napi::Env env, const sy_flow_key& key, const sy_flow_key& mask);

// Actions ------------------------------------------------------------------

void ActionFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_action* a);
Napi::Object ActionToJs(Napi::Env env, const sy_action& a);

// Flows --------------------------------------------------------------------

// A FlowMod (filter: a Partial<FlowMod> for dumps, command ignored).
void FlowModFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_flow_mod* fm,
                   bool filter);
Napi::Object FlowModToJs(Napi::Env env, const sy_flow_mod& fm);  // with command, cookieMask, outPort
Napi::Object FlowEntryToJs(Napi::Env env, const sy_flow_mod& fm, const sy_flow_stats& st);

// Ports, tables, counters --------------------------------------------------

std::string MacToString(const uint8_t mac[6]);
Napi::Object PortDescToJs(Napi::Env env, const sy_port_desc& d);
Napi::Object PortStatsToJs(Napi::Env env, const sy_port_stats& s);
Napi::Object TableDescToJs(Napi::Env env, const sy_table_desc& d);
Napi::Object DpStatsToJs(Napi::Env env, const sy_dp_stats& s);
Napi::Object DpInfoToJs(Napi::Env env, const sy_dp_info& i);
// { id, name?, miss?, maxFlows? } -> struct (absent: "", drop, 0)
void TableModFromJs(Napi::Env env, const std::string& where, Napi::Value v, sy_table_desc* d);

const char* TableMissName(uint32_t miss);
const char* ErrorName(int code);

}  // namespace sy

#endif  // SWITCHYARD_ADDON_CONVERT_H
