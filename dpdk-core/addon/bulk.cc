// SPDX-License-Identifier: BSD-3-Clause
//
// bulk.cc — FLOW_MOD batches and FLOW_DUMP parts in bulk (bulk.h).
#include "bulk.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace sy {

namespace {

// Tags of packed values; the same numbers as T_* in kBulkJs.
enum Tag : uint8_t {
  T_UNDEF = 0,
  T_NUM = 1,
  T_BIG = 2,
  T_STR = 3,
  T_NULL = 4,
  T_OTHER = 5,  // anything else: the flow-mod goes the reference way
  T_OBJ = 6,    // a plain object (num: its property count, for a match)
  T_ARR = 7,    // an array (num: its length)
};

// Shapes of dumped actions; the same numbers as in build().
enum Shape : uint32_t {
  S_TYPE = 0,       // { type }
  S_ARG = 1,        // { type, <key>: number }
  S_SET_FIELD = 2,  // { type, field, value, mask? }
  S_METADATA = 3,   // { type, value: bigint, mask: bigint }
  S_UNKNOWN = 4,    // { type: "action_N", arg }
  S_NSH = 6,        // { type, spi, si, ttl, mdType, c1, c2, c3, c4 }
  S_BAD_FIELD = 5,  // { type, field: "field_N" }
};

// The JavaScript half, private to the addon.  It is called with the field
// names (by enum sy_field_id), the action names (by enum sy_action_type),
// the property keys (by enum JsKey) and, by action type, the keys of the
// properties its conversion reads (ActionKeys), and returns [pack, build].
const char kBulkJs[] = R"JS(
(function (fieldNames, actionNames, keyNames, actionKeyIds) {
  'use strict';
  const T_UNDEF = 0, T_NUM = 1, T_BIG = 2, T_STR = 3, T_NULL = 4, T_OTHER = 5, T_OBJ = 6, T_ARR = 7;
  const U64_MAX = 0xffffffffffffffffn;
  const isArray = Array.isArray, isView = ArrayBuffer.isView, keysOf = Object.keys;
  const plain = (o) => typeof o === 'object' && o !== null && !isArray(o) && !isView(o);
  // action type -> the property names its conversion reads (ActionKeys in C++)
  const actionKeys = new Map();
  for (let t = 1; t < actionNames.length; t++) actionKeys.set(actionNames[t], actionKeyIds[t].map((k) => keyNames[k]));

  // The values a flow-mod's conversion reads, in order, as tagged slots:
  // tags[k] says what slot k holds; nums[k] is the number, the index of the
  // string (strs) or of the bigint (bigs), or a count (T_OBJ, T_ARR).
  class Packer {
    constructor(cap) {
      this.cap = cap; this.k = 0;
      this.tags = new Uint8Array(cap); this.nums = new Float64Array(cap);
      this.bigs = new BigUint64Array(256); this.nb = 0; this.strs = [];
    }
    grow() {
      const cap = this.cap * 2;
      const t = new Uint8Array(cap); t.set(this.tags); this.tags = t;
      const u = new Float64Array(cap); u.set(this.nums); this.nums = u;
      this.cap = cap;
    }
    big(v) {
      if (this.nb === this.bigs.length) { const b = new BigUint64Array(this.nb * 2); b.set(this.bigs); this.bigs = b; }
      this.bigs[this.nb] = v;
      return this.nb++;
    }
    put(v) {
      const k = this.k;
      if (k === this.cap) this.grow();
      this.k = k + 1;
      switch (typeof v) {
        case 'number': this.tags[k] = T_NUM; this.nums[k] = v; return;
        case 'undefined': this.tags[k] = T_UNDEF; return;
        case 'string': // (one with a NUL in it shows as a NUL too many: C++ checks)
          this.tags[k] = T_STR; this.nums[k] = this.strs.length; this.strs.push(v); return;
        case 'bigint':
          if (v < 0n || v > U64_MAX) { this.tags[k] = T_OTHER; return; }
          this.tags[k] = T_BIG; this.nums[k] = this.big(v); return;
        default: this.tags[k] = v === null ? T_NULL : T_OTHER;
      }
    }
    mark(t, count) {
      const k = this.k;
      if (k === this.cap) this.grow();
      this.k = k + 1; this.tags[k] = t; this.nums[k] = count;
    }
  }

  // mods[from .. from + n - 1] -> [tags, nums, bigs, starts, strings joined
  // by NUL, string count]: flow-mod from + i is slots starts[i] ..
  // starts[i + 1] - 1.  An action's slots are the properties actionKeys
  // names for its type.  The arrays are reused by the next call.
  let p = null, starts = null;
  function pack(mods, from, n) {
    if (p === null || p.cap < 64 + n * 32) p = new Packer(64 + n * 32);
    if (starts === null || starts.length < n + 1) starts = new Uint32Array(n + 1);
    p.k = 0; p.nb = 0; p.strs = [];
    for (let i = 0; i < n; i++) {
      starts[i] = p.k;
      const m = mods[from + i];
      if (!plain(m)) { p.mark(T_OTHER, 0); continue; }
      p.mark(T_OBJ, 0);
      p.put(m.command); p.put(m.table); p.put(m.priority); p.put(m.idleTimeout); p.put(m.hardTimeout);
      p.put(m.flags); p.put(m.outPort); p.put(m.cookie); p.put(m.cookieMask);
      const match = m.match;
      if (match === undefined || match === null) p.put(match);
      else if (!plain(match)) p.mark(T_OTHER, 0);
      else {
        const names = keysOf(match);
        p.mark(T_OBJ, names.length);
        for (let j = 0; j < names.length; j++) {
          const f = match[names[j]];
          p.put(names[j]);
          if (plain(f)) { p.put(f.value); p.put(f.mask); } else { p.mark(T_OTHER, 0); p.mark(T_OTHER, 0); }
        }
      }
      const acts = m.actions;
      if (acts === undefined || acts === null) p.put(acts);
      else if (!isArray(acts)) p.mark(T_OTHER, 0);
      else {
        const na = acts.length;
        p.mark(T_ARR, na);
        for (let j = 0; j < na && j <= 32; j++) {
          const a = acts[j];
          const type = plain(a) ? a.type : undefined;
          const keys = typeof type === 'string' ? actionKeys.get(type) : undefined;
          if (keys === undefined) { p.mark(T_OTHER, 0); continue; }
          p.mark(T_OBJ, 0);
          p.put(type);
          for (let q = 0; q < keys.length; q++) p.put(a[keys[q]]);
        }
      }
    }
    starts[n] = p.k;
    return [p.tags, p.nums, p.bigs, starts, p.strs.join('\0'), p.strs.length];
  }

  // Dump entries from flat arrays (see AppendFlowEntries), into out[start...].
  function build(ops, bigs, strsJoined, nStrs, count, out, start) {
    const strs = nStrs ? strsJoined.split('\0') : [];
    let o = 0, b = 0, s = 0;
    const val = (kind) => (kind === 0 ? ops[o++] : kind === 1 ? bigs[b++] : strs[s++]);
    for (let i = 0; i < count; i++) {
      const table = ops[o++], priority = ops[o++], idleTimeout = ops[o++], hardTimeout = ops[o++], flags = ops[o++];
      const cookie = bigs[b++];
      const match = {};
      for (let nf = ops[o++]; nf > 0; nf--) {
        const name = fieldNames[ops[o++]], km = ops[o++], kind = km & 3;
        const value = val(kind);
        if (km & 4) { const mask = val(kind); match[name] = { value, mask }; }
        else match[name] = { value };
      }
      const actions = [];
      for (let na = ops[o++]; na > 0; na--) {
        switch (ops[o++]) {
          case 0: actions.push({ type: actionNames[ops[o++]] }); break;
          case 1: {
            const a = { type: actionNames[ops[o++]] };
            const key = keyNames[ops[o++]];
            a[key] = ops[o++];
            actions.push(a);
            break;
          }
          case 2: {
            const type = actionNames[ops[o++]], field = fieldNames[ops[o++]], km = ops[o++], kind = km & 3;
            const value = val(kind);
            if (km & 4) { const mask = val(kind); actions.push({ type, field, value, mask }); }
            else actions.push({ type, field, value });
            break;
          }
          case 3: { const type = actionNames[ops[o++]]; const value = bigs[b++]; actions.push({ type, value, mask: bigs[b++] }); break; }
          case 4: { const type = 'action_' + ops[o++]; actions.push({ type, arg: ops[o++] }); break; }
          case 6: {
            const type = actionNames[ops[o++]];
            actions.push({ type, spi: ops[o++], si: ops[o++], ttl: ops[o++], mdType: ops[o++],
                           c1: ops[o++], c2: ops[o++], c3: ops[o++], c4: ops[o++] });
            break;
          }
          default: { const type = actionNames[ops[o++]]; actions.push({ type, field: 'field_' + ops[o++] }); break; }
        }
      }
      const packets = bigs[b++], bytes = bigs[b++], durationNs = bigs[b++], idleNs = bigs[b++];
      out[start + i] = { table, priority, cookie, idleTimeout, hardTimeout, flags, match, actions,
                         stats: { packets, bytes, durationNs, idleNs } };
    }
  }

  return [pack, build];
})
)JS";

const double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

[[noreturn]] void ThrowPending(napi_env env) { throw Napi::Error::New(env); }

#define SY_NAPI(env, call)                    \
  do {                                        \
    if ((call) != napi_ok) ThrowPending(env); \
  } while (0)

// ---------------------------------------------------------------------------
// FLOW_MOD: packed values -> struct sy_flow_mod

struct Val {
  uint8_t tag;
  double num;
  uint64_t big;
  const char* s;  // NUL-terminated
  size_t len;
};

struct Packed {
  const uint8_t* tags;
  const double* nums;
  const uint64_t* bigs;
  const uint32_t* starts;
  size_t n_slots, n_bigs;
  std::string strbuf;                 // the strings, each followed by a NUL
  std::vector<uint32_t> str_off, str_len;
};

// Reads the values of one flow-mod in order; past its end, or on a string
// index out of range, everything reads as T_OTHER.
class Cursor {
 public:
  Cursor(const Packed& p, uint32_t i) : p_(p), k_(p.starts[i]), end_(p.starts[i + 1]) {
    if (end_ > p.n_slots || k_ > end_) k_ = end_ = 0;
  }
  Val Next() {
    Val v = {T_OTHER, 0, 0, nullptr, 0};
    if (k_ >= end_) return v;
    v.tag = p_.tags[k_];
    v.num = p_.nums[k_];
    k_++;
    if (v.tag == T_BIG) {
      double d = v.num;
      if (!(d >= 0) || d >= (double)p_.n_bigs)
        v.tag = T_OTHER;
      else
        v.big = p_.bigs[(size_t)d];
    } else if (v.tag == T_STR) {
      double d = v.num;
      if (!(d >= 0) || d >= (double)p_.str_off.size()) {
        v.tag = T_OTHER;
      } else {
        v.s = p_.strbuf.data() + p_.str_off[(size_t)d];
        v.len = p_.str_len[(size_t)d];
      }
    }
    return v;
  }
  bool AtEnd() const { return k_ == end_; }

 private:
  const Packed& p_;
  uint32_t k_, end_;
};

inline bool Nullish(const Val& v) { return v.tag == T_UNDEF || v.tag == T_NULL; }

// convert.cc's UintOf, as a test: an integral number or a bigint in 0..max.
bool UintVal(const Val& v, uint64_t max, uint64_t* out) {
  if (v.tag == T_NUM) {
    double d = v.num;
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > (double)max || d > kMaxSafe)
      return false;
    *out = (uint64_t)d;
    return true;
  }
  if (v.tag == T_BIG && v.big <= max) {
    *out = v.big;
    return true;
  }
  return false;
}

// convert.cc's U64Of: a bigint, a decimal or 0x string, or a safe integer.
bool U64Val(const Val& v, uint64_t* out) {
  if (v.tag == T_BIG) {
    *out = v.big;
    return true;
  }
  if (v.tag == T_STR) {
    bool overflow;
    return ParseU64String(std::string(v.s, v.len), out, &overflow);
  }
  if (v.tag == T_NUM) {
    double d = v.num;
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > kMaxSafe) return false;
    *out = (uint64_t)d;
    return true;
  }
  return false;
}

// An optional value: def when undefined.
bool OptUintVal(const Val& v, uint64_t max, uint64_t def, uint64_t* out) {
  if (v.tag == T_UNDEF) {
    *out = def;
    return true;
  }
  return UintVal(v, max, out);
}

// convert.cc's ParseField.
bool FieldVal(const sy_field_info& f, const Val& v, uint8_t out[16]) {
  memset(out, 0, 16);
  switch (f.kind) {
    case SY_KIND_U8:
    case SY_KIND_U16:
    case SY_KIND_U32: {
      uint64_t x;
      if (!UintVal(v, (1ull << (8 * f.width)) - 1, &x)) return false;
      StoreUint(out, f.width, x);
      return true;
    }
    case SY_KIND_U64: {
      uint64_t x;
      if (!U64Val(v, &x)) return false;
      memcpy(out, &x, 8);
      return true;
    }
    case SY_KIND_MAC:
      return v.tag == T_STR && v.len < 64 && ParseMac(v.s, v.len, out);
    case SY_KIND_IPV4: {
      struct in_addr a;
      if (v.tag != T_STR || v.len >= 64 || inet_pton(AF_INET, v.s, &a) != 1) return false;
      uint32_t h = ntohl(a.s_addr);
      memcpy(out, &h, 4);
      return true;
    }
    case SY_KIND_IPV6:
      return v.tag == T_STR && v.len < 64 && inet_pton(AF_INET6, v.s, out) == 1;
  }
  return false;
}

int FieldOf(const Val& v) { return v.tag == T_STR ? FieldIdByName(v.s, v.len) : -1; }

// The properties of an action of type t that its conversion reads, in the
// order pack() puts them (and ActionVals takes them).
std::vector<JsKey> ActionKeys(int t) {
  switch (t) {
    case SY_ACT_OUTPUT: return {K_port};
    case SY_ACT_SET_FIELD: return {K_field, K_value, K_mask};
    case SY_ACT_PUSH_VLAN: return {K_tpid};
    case SY_ACT_GOTO_TABLE: return {K_table};
    case SY_ACT_WRITE_METADATA: return {K_value, K_mask};
    case SY_ACT_CONTROLLER: return {K_maxLen};
    case SY_ACT_GROUP: return {K_group};
    case SY_ACT_METER: return {K_meter};
    case SY_ACT_MIRROR: return {K_mirror};
    case SY_ACT_SET_QUEUE: return {K_queue};
    case SY_ACT_PUSH_NSH: return {K_spi, K_si, K_ttl, K_mdType, K_c1, K_c2, K_c3, K_c4};
    default: return {};
  }
}

// convert.cc's ActionFromJs over the packed properties of one action.
bool ActionVals(Cursor& cur, sy_action* a) {
  memset(a, 0, sizeof(*a));
  if (cur.Next().tag != T_OBJ) return false;
  Val type = cur.Next();
  int t = type.tag == T_STR ? ActionIdByName(type.s, type.len) : -1;
  if (t <= SY_ACT_NONE) return false;
  Val none = {T_UNDEF, 0, 0, nullptr, 0};
  Val port = none, table = none, tpid = none, field = none, value = none, mask = none,
      max_len = none, group = none, meter = none, mirror = none, queue = none, nsh[8] = {none, none, none, none, none, none, none, none};
  for (JsKey k : ActionKeys(t)) {
    Val v = cur.Next();
    switch (k) {
      case K_port: port = v; break;
      case K_table: table = v; break;
      case K_tpid: tpid = v; break;
      case K_field: field = v; break;
      case K_value: value = v; break;
      case K_mask: mask = v; break;
      case K_maxLen: max_len = v; break;
      case K_group: group = v; break;
      case K_meter: meter = v; break;
      case K_mirror: mirror = v; break;
      case K_queue: queue = v; break;
      case K_spi: case K_si: case K_ttl: case K_mdType: case K_c1: case K_c2: case K_c3: case K_c4:
        nsh[k - K_spi] = v;
        break;
      default: break;
    }
  }
  a->type = (uint16_t)t;
  uint64_t x;
  auto required = [&](const Val& v, uint64_t max) {
    if (v.tag == T_UNDEF || !UintVal(v, max, &x)) return false;
    a->arg = (uint32_t)x;
    return true;
  };
  switch (t) {
    case SY_ACT_OUTPUT: return required(port, 0xffffffffu);
    case SY_ACT_SET_FIELD: {
      int id = FieldOf(field);
      if (id <= SY_F_NONE) return false;
      const sy_field_info& f = sy_fields[id];
      a->field = (uint16_t)id;
      if (value.tag == T_UNDEF || !FieldVal(f, value, a->value.bytes)) return false;
      if (!Nullish(mask)) {
        uint8_t mb[16];
        if (f.width > sizeof(a->mask) || !FieldVal(f, mask, mb)) return false;
        memcpy(&a->mask, mb, f.width);
      }
      return true;
    }
    case SY_ACT_PUSH_VLAN:
      if (!OptUintVal(tpid, 0xffff, 0x8100, &x)) return false;
      a->arg = (uint32_t)x;
      return true;
    case SY_ACT_GOTO_TABLE: return required(table, 0xff);
    case SY_ACT_WRITE_METADATA:
      if (value.tag == T_UNDEF || !U64Val(value, &a->value.u64[0])) return false;
      if (mask.tag == T_UNDEF) {
        a->mask = ~0ull;
        return true;
      }
      return U64Val(mask, &a->mask);
    case SY_ACT_CONTROLLER:
      if (!OptUintVal(max_len, 0xffffffffu, 0xffff, &x)) return false;
      a->arg = (uint32_t)x;
      return true;
    case SY_ACT_GROUP: return required(group, 0xffffffffu);
    case SY_ACT_METER: return required(meter, 0xffffffffu);
    case SY_ACT_MIRROR: return required(mirror, 0xffffffffu);
    case SY_ACT_SET_QUEUE: return required(queue, 0xffffffffu);
    case SY_ACT_PUSH_NSH: {  // convert.cc's: spi required, the others defaulted
      uint64_t spi, si, ttl, md, cv;
      if (nsh[0].tag == T_UNDEF || !UintVal(nsh[0], SY_NSH_MAX_SPI, &spi) ||
          !OptUintVal(nsh[1], 0xff, 255, &si) || !OptUintVal(nsh[2], 0xff, SY_NSH_MAX_TTL, &ttl) ||
          !OptUintVal(nsh[3], 0xff, 1, &md))
        return false;
      a->arg = SY_NSH_ARG(spi, si);
      a->mask = SY_NSH_MASK(md, ttl);
      for (int i = 0; i < 4; i++) {
        if (!OptUintVal(nsh[4 + i], 0xffffffffu, 0, &cv)) return false;
        uint32_t c32 = (uint32_t)cv;
        memcpy(a->value.bytes + 4 * i, &c32, 4);
      }
      return true;
    }
    default: return true;
  }
}

// convert.cc's FlowModFromJs (not a filter) over the packed flow-mod i;
// false: let the reference conversion have it.
bool FlowModVals(const Packed& p, uint32_t i, sy_flow_mod* fm) {
  memset(fm, 0, offsetof(sy_flow_mod, actions));  // actions: set one by one, n_actions of them
  Cursor cur(p, i);
  if (cur.Next().tag != T_OBJ) return false;
  Val cmd = cur.Next();
  int command = 0;
  if (cmd.tag != T_STR) return false;
  for (int c = SY_FC_ADD; c <= SY_FC_DELETE_STRICT; c++)
    if (strlen(kCommands[c]) == cmd.len && memcmp(kCommands[c], cmd.s, cmd.len) == 0) command = c;
  if (!command) return false;
  bool del = command == SY_FC_DELETE || command == SY_FC_DELETE_STRICT;
  uint64_t table, priority, idle, hard, flags, out_port;
  if (!OptUintVal(cur.Next(), 0xff, del ? SY_TABLE_ALL : 0, &table) ||
      !OptUintVal(cur.Next(), 0xffff, 0x8000, &priority) ||
      !OptUintVal(cur.Next(), 0xffff, 0, &idle) || !OptUintVal(cur.Next(), 0xffff, 0, &hard) ||
      !OptUintVal(cur.Next(), 0xffff, 0, &flags) ||
      !OptUintVal(cur.Next(), 0xffffffffu, SY_PORT_ANY, &out_port))
    return false;
  fm->hdr.command = (uint8_t)command;
  fm->hdr.table_id = (uint8_t)table;
  fm->hdr.priority = (uint16_t)priority;
  fm->hdr.idle_timeout = (uint16_t)idle;
  fm->hdr.hard_timeout = (uint16_t)hard;
  fm->hdr.flags = (uint16_t)flags;
  fm->hdr.out_port = (uint32_t)out_port;
  Val cookie = cur.Next(), cmask = cur.Next();
  if (cookie.tag != T_UNDEF && !U64Val(cookie, &fm->hdr.cookie)) return false;
  if (cmask.tag != T_UNDEF && !U64Val(cmask, &fm->hdr.cookie_mask)) return false;

  Val match = cur.Next();
  if (match.tag == T_OBJ) {
    for (uint32_t n = (uint32_t)match.num; n > 0; n--) {
      int id = FieldOf(cur.Next());
      Val value = cur.Next(), mask = cur.Next();
      if (id <= SY_F_NONE || value.tag == T_UNDEF) return false;
      const sy_field_info& f = sy_fields[id];
      uint8_t vb[16], mb[16];
      if (!FieldVal(f, value, vb)) return false;
      if (Nullish(mask))
        memset(mb, 0xff, sizeof(mb));
      else if (!FieldVal(f, mask, mb))
        return false;
      memcpy((uint8_t*)&fm->key + f.offset, vb, f.width);
      memcpy((uint8_t*)&fm->mask + f.offset, mb, f.width);
    }
    sy_flow_key_apply_mask(&fm->key, &fm->mask);
  } else if (!Nullish(match)) {
    return false;
  }

  Val acts = cur.Next();
  if (acts.tag == T_ARR) {
    if (acts.num > SY_MAX_ACTIONS) return false;
    uint32_t n = (uint32_t)acts.num;
    for (uint32_t j = 0; j < n; j++)
      if (!ActionVals(cur, &fm->actions[j])) return false;
    fm->n_actions = (uint16_t)n;
  } else if (!Nullish(acts)) {
    return false;
  }
  return cur.AtEnd();
}

template <typename T>
const T* TypedData(napi_env env, napi_value arr, size_t* count) {
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t off;
  SY_NAPI(env, napi_get_typedarray_info(env, arr, &type, count, &data, &ab, &off));
  return static_cast<const T*>(data);
}

napi_value Element(napi_env env, napi_value arr, uint32_t i) {
  napi_value v;
  SY_NAPI(env, napi_get_element(env, arr, i, &v));
  return v;
}

// ---------------------------------------------------------------------------
// FLOW_DUMP: struct sy_flow_mod -> flat arrays

struct Flat {
  std::vector<uint32_t> ops;
  std::vector<uint64_t> bigs;
  std::string strs;  // joined by NUL
  uint32_t n_strs = 0;

  static uint32_t Kind(const sy_field_info& f) {
    return f.kind == SY_KIND_U64 ? 1 : (f.kind == SY_KIND_MAC || f.kind == SY_KIND_IPV4 || f.kind == SY_KIND_IPV6) ? 2 : 0;
  }

  void Value(const sy_field_info& f, const uint8_t* p) {
    switch (Kind(f)) {
      case 0:
        ops.push_back(LoadUint(p, f.width));
        break;
      case 1: {
        uint64_t v;
        memcpy(&v, p, 8);
        bigs.push_back(v);
        break;
      }
      default: {
        char buf[64];
        size_t n = FormatAddress(f, p, buf);
        if (n_strs++) strs.push_back('\0');
        strs.append(buf, n);
        break;
      }
    }
  }

  // MatchToJs's fields, in its order and with its ICMP names.
  void Match(const sy_flow_key& key, const sy_flow_key& mask) {
    size_t count_at = ops.size();
    ops.push_back(0);
    uint32_t n = 0;
    ForEachMatchField(key, mask, [&](int name, const sy_field_info& f, const uint8_t* v, const uint8_t* m) {
      bool has_mask = !MaskIsFull(m, f.width);
      ops.push_back((uint32_t)name);
      ops.push_back(Kind(f) | (has_mask ? 4u : 0u));
      Value(f, v);
      if (has_mask) Value(f, m);
      n++;
    });
    ops[count_at] = n;
  }

  // ActionToJs's shapes.
  void Action(const sy_action& a) {
    if (a.type == SY_ACT_NONE || a.type >= SY_ACT__MAX) {
      ops.insert(ops.end(), {S_UNKNOWN, a.type, a.arg});
      return;
    }
    JsKey key;
    switch (a.type) {
      case SY_ACT_OUTPUT: key = K_port; break;
      case SY_ACT_PUSH_VLAN: key = K_tpid; break;
      case SY_ACT_GOTO_TABLE: key = K_table; break;
      case SY_ACT_CONTROLLER: key = K_maxLen; break;
      case SY_ACT_GROUP: key = K_group; break;
      case SY_ACT_METER: key = K_meter; break;
      case SY_ACT_MIRROR: key = K_mirror; break;
      case SY_ACT_SET_QUEUE: key = K_queue; break;
      case SY_ACT_SET_FIELD: {
        if (a.field <= SY_F_NONE || a.field >= SY_F__MAX) {
          ops.insert(ops.end(), {S_BAD_FIELD, a.type, a.field});
          return;
        }
        const sy_field_info& f = sy_fields[a.field];
        bool has_mask = a.mask && f.width <= sizeof(a.mask);
        ops.insert(ops.end(), {S_SET_FIELD, a.type, a.field, Kind(f) | (has_mask ? 4u : 0u)});
        Value(f, a.value.bytes);
        if (has_mask) {
          uint8_t mb[16] = {0};
          memcpy(mb, &a.mask, f.width);
          Value(f, mb);
        }
        return;
      }
      case SY_ACT_PUSH_NSH: {
        uint32_t cv[4];
        memcpy(cv, a.value.bytes, sizeof(cv));
        ops.insert(ops.end(), {S_NSH, a.type, SY_NSH_ARG_SPI(a.arg), SY_NSH_ARG_SI(a.arg),
                               SY_NSH_MASK_TTL(a.mask), SY_NSH_MASK_MDTYPE(a.mask), cv[0], cv[1],
                               cv[2], cv[3]});
        return;
      }
      case SY_ACT_WRITE_METADATA:
        ops.insert(ops.end(), {S_METADATA, a.type});
        bigs.push_back(a.value.u64[0]);
        bigs.push_back(a.mask);
        return;
      default:
        ops.insert(ops.end(), {S_TYPE, a.type});
        return;
    }
    ops.insert(ops.end(), {S_ARG, a.type, (uint32_t)key, a.arg});
  }

  void Entry(const sy_flow_mod& fm, const sy_flow_stats& st) {
    ops.insert(ops.end(), {fm.hdr.table_id, fm.hdr.priority, fm.hdr.idle_timeout,
                           fm.hdr.hard_timeout, fm.hdr.flags});
    bigs.push_back(fm.hdr.cookie);
    Match(fm.key, fm.mask);
    unsigned n = fm.n_actions > SY_MAX_ACTIONS ? SY_MAX_ACTIONS : fm.n_actions;
    ops.push_back(n);
    for (unsigned i = 0; i < n; i++) Action(fm.actions[i]);
    bigs.insert(bigs.end(), {st.packets, st.bytes, st.duration_ns, st.idle_ns});
  }
};

napi_value NewTyped(napi_env env, napi_typedarray_type type, const void* data, size_t count,
                    size_t elem) {
  void* p;
  napi_value ab, ta;
  SY_NAPI(env, napi_create_arraybuffer(env, count * elem, &p, &ab));
  if (count) memcpy(p, data, count * elem);
  SY_NAPI(env, napi_create_typedarray(env, type, count, ab, 0, &ta));
  return ta;
}

}  // namespace

void InitBulk(napi_env env, napi_value* pack, napi_value* build) {
  napi_value src, factory, global, fields, actions, keys, fns;
  SY_NAPI(env, napi_create_string_utf8(env, kBulkJs, sizeof(kBulkJs) - 1, &src));
  SY_NAPI(env, napi_run_script(env, src, &factory));
  SY_NAPI(env, napi_create_array_with_length(env, SY_F__MAX, &fields));
  for (uint32_t i = 1; i < SY_F__MAX; i++) {
    napi_value s;
    SY_NAPI(env, napi_create_string_utf8(env, sy_fields[i].name, NAPI_AUTO_LENGTH, &s));
    SY_NAPI(env, napi_set_element(env, fields, i, s));
  }
  SY_NAPI(env, napi_create_array_with_length(env, SY_ACT__MAX, &actions));
  for (uint32_t i = 1; i < SY_ACT__MAX; i++) {
    napi_value s;
    SY_NAPI(env, napi_create_string_utf8(env, sy_action_names[i], NAPI_AUTO_LENGTH, &s));
    SY_NAPI(env, napi_set_element(env, actions, i, s));
  }
  SY_NAPI(env, napi_create_array_with_length(env, K__MAX, &keys));
  for (uint32_t i = 0; i < K__MAX; i++) {
    napi_value s;
    SY_NAPI(env, napi_create_string_utf8(env, kKeyNames[i], NAPI_AUTO_LENGTH, &s));
    SY_NAPI(env, napi_set_element(env, keys, i, s));
  }
  napi_value action_keys;
  SY_NAPI(env, napi_create_array_with_length(env, SY_ACT__MAX, &action_keys));
  for (uint32_t t = 0; t < SY_ACT__MAX; t++) {
    std::vector<JsKey> ks = ActionKeys((int)t);
    napi_value list;
    SY_NAPI(env, napi_create_array_with_length(env, ks.size(), &list));
    for (uint32_t j = 0; j < ks.size(); j++) {
      napi_value k;
      SY_NAPI(env, napi_create_uint32(env, ks[j], &k));
      SY_NAPI(env, napi_set_element(env, list, j, k));
    }
    SY_NAPI(env, napi_set_element(env, action_keys, t, list));
  }
  napi_value args[] = {fields, actions, keys, action_keys};
  SY_NAPI(env, napi_get_global(env, &global));
  SY_NAPI(env, napi_call_function(env, global, factory, 4, args, &fns));
  *pack = Element(env, fns, 0);
  *build = Element(env, fns, 1);
}

namespace {

// Puts flow-mods from .. from + n - 1 of mods (n <= kChunk).
void PutChunk(const Ctx& c, napi_value mods, uint32_t from, uint32_t n, sy_flow_mod* fm,
              sy_msgbuf* b) {
  napi_env env = c.env;
  Scope scope(env);
  napi_value undefined, args[3], packed;
  SY_NAPI(env, napi_get_undefined(env, &undefined));
  args[0] = mods;
  SY_NAPI(env, napi_create_uint32(env, from, &args[1]));
  SY_NAPI(env, napi_create_uint32(env, n, &args[2]));
  SY_NAPI(env, napi_call_function(env, undefined, c.pack, 3, args, &packed));

  Packed p;
  size_t n_tags, n_nums, n_bigs, n_starts;
  p.tags = TypedData<uint8_t>(env, Element(env, packed, 0), &n_tags);
  p.nums = TypedData<double>(env, Element(env, packed, 1), &n_nums);
  p.bigs = TypedData<uint64_t>(env, Element(env, packed, 2), &n_bigs);
  p.starts = TypedData<uint32_t>(env, Element(env, packed, 3), &n_starts);
  p.n_slots = std::min(n_tags, n_nums);
  p.n_bigs = n_bigs;
  if (n_starts < (size_t)n + 1) throw Napi::Error::New(env, "mods: packing went wrong");
  napi_value joined = Element(env, packed, 4);
  uint32_t n_strs;
  SY_NAPI(env, napi_get_value_uint32(env, Element(env, packed, 5), &n_strs));
  size_t len;
  SY_NAPI(env, napi_get_value_string_utf8(env, joined, nullptr, 0, &len));
  p.strbuf.resize(len + 1);
  SY_NAPI(env, napi_get_value_string_utf8(env, joined, &p.strbuf[0], len + 1, &len));
  // The NUL separators terminate each string, as inet_pton wants.  More
  // NULs than separators: a string had one of its own, and which is which
  // cannot be told: the reference conversion takes this chunk.
  p.str_off.reserve(n_strs);
  p.str_len.reserve(n_strs);
  size_t start = 0;
  for (size_t i = 0; i < n_strs; i++) {
    const char* e = static_cast<const char*>(memchr(p.strbuf.data() + start, '\0', len + 1 - start));
    size_t end = e ? (size_t)(e - p.strbuf.data()) : len;
    p.str_off.push_back((uint32_t)start);
    p.str_len.push_back((uint32_t)(end - start));
    start = end + 1;
  }
  bool reference = n_strs > 0 && start != len + 1;

  Path root("mods");
  for (uint32_t i = 0; i < n; i++) {
    if (reference || !FlowModVals(p, i, fm)) {
      Scope inner(env);
      FlowModFromJs(c, Path(root, from + i), Element(env, mods, from + i), fm, false);
    }
    sy_put_flow(b, fm, nullptr);
  }
}

}  // namespace

void PutFlowModsBulk(const Ctx& c, napi_value mods, uint32_t n, sy_msgbuf* b) {
  const uint32_t kChunk = 4096;  // flow-mods per pack(): arrays that stay in cache
  if (n == 0) return;
  // Room for n flows of one action (the message grows past it if need be).
  size_t want = b->len + (size_t)n * 360;
  if (!b->error && b->cap < want && want <= SY_MSG_MAX) {
    uint8_t* d = static_cast<uint8_t*>(realloc(b->data, want));
    if (d) {
      b->data = d;
      b->cap = want;
    }
  }
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  for (uint32_t from = 0; from < n; from += kChunk)
    PutChunk(c, mods, from, std::min(kChunk, n - from), fm.get(), b);
}

void AppendFlowEntries(const Ctx& c, napi_value arr, uint32_t* n, const sy_msg& m) {
  napi_env env = c.env;
  Flat flat;
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  sy_flow_stats st;
  char err[SY_CODEC_ERR_MAX];
  uint32_t count = 0;
  sy_attr_iter it;
  const sy_attr* a;
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    if (a->type != SY_A_FLOW) continue;
    if (sy_get_flow(a, fm.get(), &st, nullptr, err, sizeof(err)) < 0) throw Napi::Error::New(env, err);
    flat.Entry(*fm, st);
    count++;
  }
  if (!count) return;
  napi_value undefined, args[7];
  SY_NAPI(env, napi_get_undefined(env, &undefined));
  args[0] = NewTyped(env, napi_uint32_array, flat.ops.data(), flat.ops.size(), 4);
  args[1] = NewTyped(env, napi_biguint64_array, flat.bigs.data(), flat.bigs.size(), 8);
  SY_NAPI(env, napi_create_string_utf8(env, flat.strs.data(), flat.strs.size(), &args[2]));
  SY_NAPI(env, napi_create_uint32(env, flat.n_strs, &args[3]));
  SY_NAPI(env, napi_create_uint32(env, count, &args[4]));
  args[5] = arr;
  SY_NAPI(env, napi_create_uint32(env, *n, &args[6]));
  napi_value result;
  SY_NAPI(env, napi_call_function(env, undefined, c.build, 7, args, &result));
  *n += count;
}

}  // namespace sy
