// SPDX-License-Identifier: BSD-3-Clause
//
// convert.cc — JavaScript values <-> flow.h / proto.h structs (convert.h).
#include "convert.h"

#include "bulk.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace sy {

namespace {

const uint64_t kU64Max = ~0ull;
const double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

const int kNumCommands = 6;

// A failed napi call left an exception pending (a getter threw, ...): rethrow it.
[[noreturn]] void ThrowPending(napi_env env) { throw Napi::Error::New(env); }

#define SY_NAPI(env, call)                  \
  do {                                      \
    if ((call) != napi_ok) ThrowPending(env); \
  } while (0)

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

std::string Describe(napi_env env, napi_value v) { return Describe(Napi::Value(env, v)); }

[[noreturn]] void ThrowType(napi_env env, const Path& where, const std::string& what) {
  throw Napi::TypeError::New(env, where.str() + ": " + what);
}

[[noreturn]] void ThrowRange(napi_env env, const Path& where, const std::string& what) {
  throw Napi::RangeError::New(env, where.str() + ": " + what);
}

inline napi_valuetype TypeOf(napi_env env, napi_value v) {
  napi_valuetype t;
  SY_NAPI(env, napi_typeof(env, v, &t));
  return t;
}

inline bool IsNullish(napi_valuetype t) { return t == napi_undefined || t == napi_null; }

// An object that is not an array, a function or a Buffer.
bool IsPlainObject(napi_env env, napi_value v, napi_valuetype t) {
  if (t != napi_object) return false;
  bool b;
  SY_NAPI(env, napi_is_array(env, v, &b));
  if (b) return false;
  SY_NAPI(env, napi_is_buffer(env, v, &b));
  return !b;
}

bool IsPlainObject(Napi::Value v) { return IsPlainObject(v.Env(), v, v.Type()); }

inline napi_value Get(const Ctx& c, napi_value o, JsKey k) {
  napi_value r;
  SY_NAPI(c.env, napi_get_property(c.env, o, c.key[k], &r));
  return r;
}

inline void Set(const Ctx& c, napi_value o, JsKey k, napi_value v) {
  SY_NAPI(c.env, napi_set_property(c.env, o, c.key[k], v));
}

inline napi_value NewObject(napi_env env) {
  napi_value o;
  SY_NAPI(env, napi_create_object(env, &o));
  return o;
}

inline napi_value U32(napi_env env, uint32_t v) {
  napi_value r;
  SY_NAPI(env, napi_create_uint32(env, v, &r));
  return r;
}

inline napi_value U64(napi_env env, uint64_t v) {
  napi_value r;
  SY_NAPI(env, napi_create_bigint_uint64(env, v, &r));
  return r;
}

inline napi_value Str(napi_env env, const char* s, size_t len = NAPI_AUTO_LENGTH) {
  napi_value r;
  SY_NAPI(env, napi_create_string_utf8(env, s, len, &r));
  return r;
}

// The string v, as UTF-8, into buf: its length, or size if it does not fit
// (buf then holds a prefix, which no name or address is).  Throws a
// TypeError naming where unless v is a string.
size_t StrInto(napi_env env, const Path& where, napi_value v, char* buf, size_t size) {
  if (TypeOf(env, v) != napi_string) ThrowType(env, where, "expected a string, got " + Describe(env, v));
  size_t len;
  SY_NAPI(env, napi_get_value_string_utf8(env, v, buf, size, &len));
  return len + 1 >= size ? size : len;
}

std::string FullString(napi_env env, napi_value v) { return Napi::Value(env, v).As<Napi::String>().Utf8Value(); }

// Names -> ids: a small open-addressing table (FNV-1a), filled once.
class NameTable {
 public:
  NameTable(const char* const* names, int n) {
    memset(slots_, 0, sizeof(slots_));
    for (int id = 0; id < n; id++)
      if (names[id]) Add(names[id], id);
  }
  // The id of the len bytes at s, or -1.
  int Find(const char* s, size_t len) const {
    for (unsigned i = Hash(s, len) & (kSize - 1);; i = (i + 1) & (kSize - 1)) {
      const Slot& e = slots_[i];
      if (!e.name) return -1;
      if (e.len == len && memcmp(e.name, s, len) == 0) return e.id;
    }
  }

 private:
  static const unsigned kSize = 256;  // a power of two, over twice the names
  struct Slot {
    const char* name;
    size_t len;
    int id;
  };
  static unsigned Hash(const char* s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
  }
  void Add(const char* name, int id) {
    size_t len = strlen(name);
    unsigned i = Hash(name, len) & (kSize - 1);
    while (slots_[i].name) i = (i + 1) & (kSize - 1);
    slots_[i] = Slot{name, len, id};
  }
  Slot slots_[kSize];
};

const NameTable& FieldNames() {
  static const NameTable* t = [] {
    static const char* names[SY_F__MAX];
    for (int id = 1; id < SY_F__MAX; id++) names[id] = sy_fields[id].name;
    return new NameTable(names, SY_F__MAX);
  }();
  static_assert(SY_F__MAX < 100, "the field table fits its hash table");
  return *t;
}

const NameTable& ActionNames() {
  static const NameTable* t = new NameTable(sy_action_names, SY_ACT__MAX);
  return *t;
}

}  // namespace

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

namespace {

uint64_t BigIntToU64(napi_env env, const Path& where, napi_value v, uint64_t max) {
  int sign = 0;
  size_t count = 2;
  uint64_t words[2] = {0, 0};
  SY_NAPI(env, napi_get_value_bigint_words(env, v, &sign, &count, words));
  bool zero = count == 0 || (count == 1 && words[0] == 0);
  if (!zero && sign) ThrowRange(env, where, Describe(env, v) + " is negative");
  if (count > 1 || words[0] > max)
    ThrowRange(env, where, Describe(env, v) + " is out of range 0.." + std::to_string(max));
  return zero ? 0 : words[0];
}

uint64_t UintOf(napi_env env, const Path& where, napi_value v, uint64_t max) {
  napi_valuetype t = TypeOf(env, v);
  if (t == napi_number) {
    double d;
    SY_NAPI(env, napi_get_value_double(env, v, &d));
    if (!std::isfinite(d) || d != std::floor(d))
      ThrowType(env, where, "expected an integer, got " + Describe(env, v));
    if (d < 0 || d > (double)max || d > kMaxSafe)
      ThrowRange(env, where, Describe(env, v) + " is out of range 0.." + std::to_string(max));
    return (uint64_t)d;
  }
  if (t == napi_bigint) return BigIntToU64(env, where, v, max);
  ThrowType(env, where, "expected a number, got " + Describe(env, v));
}

uint64_t U64Of(napi_env env, const Path& where, napi_value v) {
  napi_valuetype t = TypeOf(env, v);
  if (t == napi_bigint) return BigIntToU64(env, where, v, kU64Max);
  if (t == napi_string) {
    std::string s = FullString(env, v);
    uint64_t out;
    bool overflow;
    if (ParseU64String(s, &out, &overflow)) return out;
    if (overflow) ThrowRange(env, where, Describe(env, v) + " does not fit in 64 bits");
    ThrowType(env, where, "expected a bigint or a decimal or 0x string, got " + Describe(env, v));
  }
  if (t == napi_number) {
    double d;
    SY_NAPI(env, napi_get_value_double(env, v, &d));
    if (!std::isfinite(d) || d != std::floor(d))
      ThrowType(env, where, "expected an integer, got " + Describe(env, v));
    if (d < 0 || d > kMaxSafe)
      ThrowRange(env, where, Describe(env, v) + " is not a safe integer >= 0; pass a bigint");
    return (uint64_t)d;
  }
  ThrowType(env, where, "expected a bigint, got " + Describe(env, v));
}

// An optional property of o: def when undefined.
uint64_t OptUint(const Ctx& c, const Path& where, napi_value o, JsKey k, uint64_t max,
                 uint64_t def) {
  napi_value v = Get(c, o, k);
  if (TypeOf(c.env, v) == napi_undefined) return def;
  return UintOf(c.env, Path(where, kKeyNames[k]), v, max);
}

// A required property of o.
napi_value Need(const Ctx& c, const Path& where, napi_value o, JsKey k) {
  napi_value v = Get(c, o, k);
  if (TypeOf(c.env, v) == napi_undefined) ThrowType(c.env, Path(where, kKeyNames[k]), "missing");
  return v;
}

}  // namespace

static int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Six groups of one or two hex digits, separated by ':'.
bool ParseMac(const char* s, size_t len, uint8_t mac[6]) {
  size_t i = 0;
  for (int g = 0; g < 6; g++) {
    if (g > 0) {
      if (i >= len || s[i] != ':') return false;
      i++;
    }
    int d0 = i < len ? HexDigit(s[i]) : -1;
    if (d0 < 0) return false;
    i++;
    int d1 = i < len ? HexDigit(s[i]) : -1;
    if (d1 >= 0) {
      mac[g] = (uint8_t)(d0 << 4 | d1);
      i++;
    } else {
      mac[g] = (uint8_t)d0;
    }
  }
  return i == len;
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

namespace {

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

// The keys and constant strings of one environment (its instance data): an
// array of internalized strings, as V8 keeps property names (a property set
// or read with one needs no string lookup), in the order of struct Ctx.
// (Node-API before version 10 refers to objects only, not to strings.)  The
// reference lives as long as the environment, which frees it.
struct Strings {
  napi_ref array;
};
const uint32_t kNumStrings = K__MAX + SY_F__MAX + SY_ACT__MAX + kNumCommands + 2;

// The internalized string s: the key of a property named s.
napi_value Internalized(napi_env env, const char* s) {
  napi_value o, u, names, k;
  SY_NAPI(env, napi_create_object(env, &o));
  SY_NAPI(env, napi_get_undefined(env, &u));
  SY_NAPI(env, napi_set_named_property(env, o, s, u));
  SY_NAPI(env, napi_get_all_property_names(env, o, napi_key_own_only, napi_key_all_properties,
                                           napi_key_keep_numbers, &names));
  SY_NAPI(env, napi_get_element(env, names, 0, &k));
  return k;
}


}  // namespace

// --------------------------------------------------------------------------
// Paths, keys, names

const char* const kKeyNames[K__MAX] = {
#define SY_X_NAME(name) #name,
    SY_JS_KEYS(SY_X_NAME)
#undef SY_X_NAME
};

const char* const kCommands[6] = {nullptr, "add", "modify", "modify_strict", "delete",
                                  "delete_strict"};

int FieldIdByName(const char* s, size_t len) { return FieldNames().Find(s, len); }
int ActionIdByName(const char* s, size_t len) { return ActionNames().Find(s, len); }

std::string Path::str() const {
  std::string s = parent_ ? parent_->str() : std::string();
  if (key_) {
    if (parent_) s += '.';
    s += key_;
  } else {
    s += '[' + std::to_string(index_) + ']';
  }
  return s;
}

void InitStrings(Napi::Env env) {
  Napi::HandleScope scope(env);
  napi_value arr;
  SY_NAPI(env, napi_create_array_with_length(env, kNumStrings, &arr));
  uint32_t i = 0;
  auto add = [&](const char* s) {
    if (s) SY_NAPI(env, napi_set_element(env, arr, i, Internalized(env, s)));
    i++;
  };
  for (int k = 0; k < K__MAX; k++) add(kKeyNames[k]);
  for (int f = 0; f < SY_F__MAX; f++) add(f ? sy_fields[f].name : nullptr);
  for (int a = 0; a < SY_ACT__MAX; a++) add(sy_action_names[a]);
  for (int c = 0; c < kNumCommands; c++) add(kCommands[c]);
  napi_value pack, build;
  InitBulk(env, &pack, &build);
  SY_NAPI(env, napi_set_element(env, arr, i++, pack));
  SY_NAPI(env, napi_set_element(env, arr, i++, build));
  Strings* s = new Strings();
  SY_NAPI(env, napi_create_reference(env, arr, 1, &s->array));
  env.SetInstanceData<Strings>(s);  // deleted with the environment
}

Ctx::Ctx(Napi::Env e) : env(e) {
  napi_value arr;
  SY_NAPI(env, napi_get_reference_value(env, e.GetInstanceData<Strings>()->array, &arr));
  uint32_t i = 0;
  auto next = [&]() {
    napi_value v;
    SY_NAPI(env, napi_get_element(env, arr, i++, &v));
    return v;
  };
  for (int k = 0; k < K__MAX; k++) key[k] = next();
  for (int f = 0; f < SY_F__MAX; f++) field[f] = next();
  for (int a = 0; a < SY_ACT__MAX; a++) action[a] = next();
  for (int c = 0; c < kNumCommands; c++) cmd[c] = next();
  pack = next();
  build = next();
}

// --------------------------------------------------------------------------
// Numbers

uint64_t GetUint(Napi::Env env, const Path& where, Napi::Value v, uint64_t max) {
  return UintOf(env, where, v, max);
}

uint64_t GetU64(Napi::Env env, const Path& where, Napi::Value v) { return U64Of(env, where, v); }

uint64_t GetUintOpt(Napi::Env env, const Path& where, Napi::Object o, const char* key,
                    uint64_t max, uint64_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  return GetUint(env, Path(where, key), v, max);
}

std::string GetString(Napi::Env env, const Path& where, Napi::Value v) {
  if (!v.IsString()) ThrowType(env, where, "expected a string, got " + Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

// --------------------------------------------------------------------------
// Fields

void ParseField(napi_env env, const Path& where, const sy_field_info& f, napi_value v,
                uint8_t out[16]) {
  memset(out, 0, 16);
  char buf[64];
  switch (f.kind) {
    case SY_KIND_U8:
    case SY_KIND_U16:
    case SY_KIND_U32: {
      uint64_t max = f.width >= 8 ? kU64Max : (1ull << (8 * f.width)) - 1;
      uint64_t x = UintOf(env, where, v, max);
      StoreUint(out, f.width, x);
      return;
    }
    case SY_KIND_U64: {
      uint64_t x = U64Of(env, where, v);
      memcpy(out, &x, 8);
      return;
    }
    case SY_KIND_MAC: {
      size_t len = StrInto(env, where, v, buf, sizeof(buf));
      if (len >= sizeof(buf) || !ParseMac(buf, len, out))
        ThrowType(env, where, Describe(env, v) + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
      return;
    }
    case SY_KIND_IPV4: {
      size_t len = StrInto(env, where, v, buf, sizeof(buf));
      struct in_addr a;
      if (len >= sizeof(buf) || strlen(buf) != len || inet_pton(AF_INET, buf, &a) != 1)
        ThrowType(env, where, Describe(env, v) + " is not an IPv4 address");
      uint32_t h = ntohl(a.s_addr);
      memcpy(out, &h, 4);
      return;
    }
    case SY_KIND_IPV6: {
      size_t len = StrInto(env, where, v, buf, sizeof(buf));
      if (len >= sizeof(buf) || strlen(buf) != len || inet_pton(AF_INET6, buf, out) != 1)
        ThrowType(env, where, Describe(env, v) + " is not an IPv6 address");
      return;
    }
  }
  ThrowType(env, where, "field of unknown kind");
}

size_t FormatAddress(const sy_field_info& f, const uint8_t* p, char* buf) {
  static const char hex[] = "0123456789abcdef";
  switch (f.kind) {
    case SY_KIND_MAC:
      for (int i = 0; i < 6; i++) {
        buf[3 * i] = hex[p[i] >> 4];
        buf[3 * i + 1] = hex[p[i] & 15];
        buf[3 * i + 2] = i < 5 ? ':' : '\0';
      }
      return 17;
    case SY_KIND_IPV4: {
      uint32_t h;
      memcpy(&h, p, 4);
      char* o = buf;
      for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned b = (h >> shift) & 255;
        if (b >= 100) *o++ = (char)('0' + b / 100);
        if (b >= 10) *o++ = (char)('0' + b / 10 % 10);
        *o++ = (char)('0' + b % 10);
        if (shift) *o++ = '.';
      }
      *o = '\0';
      return (size_t)(o - buf);
    }
    case SY_KIND_IPV6:
      inet_ntop(AF_INET6, p, buf, 64);
      return strlen(buf);
  }
  buf[0] = '\0';
  return 0;
}

napi_value FormatField(napi_env env, const sy_field_info& f, const uint8_t* p) {
  switch (f.kind) {
    case SY_KIND_U8:
    case SY_KIND_U16:
    case SY_KIND_U32: {
      return U32(env, LoadUint(p, f.width));
    }
    case SY_KIND_U64: {
      uint64_t v;
      memcpy(&v, p, 8);
      return U64(env, v);
    }
    case SY_KIND_MAC:
    case SY_KIND_IPV4:
    case SY_KIND_IPV6: {
      char buf[64];
      size_t n = FormatAddress(f, p, buf);
      return Str(env, buf, n);
    }
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

void MatchFromJs(const Ctx& c, const Path& where, napi_value v, sy_flow_key* key,
                 sy_flow_key* mask) {
  napi_env env = c.env;
  memset(key, 0, sizeof(*key));
  memset(mask, 0, sizeof(*mask));
  napi_valuetype t = TypeOf(env, v);
  if (IsNullish(t)) return;
  if (!IsPlainObject(env, v, t))
    ThrowType(env, where, "expected an object of field: { value, mask? }, got " + Describe(env, v));
  napi_value names;
  SY_NAPI(env, napi_get_all_property_names(env, v, napi_key_own_only,
                                           (napi_key_filter)(napi_key_enumerable | napi_key_skip_symbols),
                                           napi_key_numbers_to_strings, &names));
  uint32_t n;
  SY_NAPI(env, napi_get_array_length(env, names, &n));
  for (uint32_t i = 0; i < n; i++) {
    napi_value nv;
    SY_NAPI(env, napi_get_element(env, names, i, &nv));
    char name[64];
    size_t len;
    SY_NAPI(env, napi_get_value_string_utf8(env, nv, name, sizeof(name), &len));
    int id = len + 1 < sizeof(name) ? FieldNames().Find(name, len) : -1;
    if (id < 0) {
      std::string full = FullString(env, nv);
      ThrowType(env, Path(where, full.c_str()), "unknown match field");
    }
    Path at(where, name);
    const sy_field_info& f = sy_fields[id];
    napi_value mv;
    SY_NAPI(env, napi_get_property(env, v, nv, &mv));
    if (!IsPlainObject(env, mv, TypeOf(env, mv)))
      ThrowType(env, at, "expected { value, mask? }, got " + Describe(env, mv));
    napi_value value = Get(c, mv, K_value);
    if (TypeOf(env, value) == napi_undefined) ThrowType(env, Path(at, "value"), "missing");
    uint8_t vb[16], mb[16];
    ParseField(env, Path(at, "value"), f, value, vb);
    napi_value mk = Get(c, mv, K_mask);
    if (IsNullish(TypeOf(env, mk)))
      memset(mb, 0xff, sizeof(mb));
    else
      ParseField(env, Path(at, "mask"), f, mk, mb);
    memcpy((uint8_t*)key + f.offset, vb, f.width);
    memcpy((uint8_t*)mask + f.offset, mb, f.width);
  }
  sy_flow_key_apply_mask(key, mask);
}

napi_value MatchToJs(const Ctx& c, const sy_flow_key& key, const sy_flow_key& mask) {
  napi_env env = c.env;
  napi_value o = NewObject(env);
  ForEachMatchField(key, mask, [&](int name, const sy_field_info& f, const uint8_t* v, const uint8_t* m) {
    napi_value mv = NewObject(env);
    Set(c, mv, K_value, FormatField(env, f, v));
    if (!MaskIsFull(m, f.width)) Set(c, mv, K_mask, FormatField(env, f, m));
    SY_NAPI(env, napi_set_property(env, o, c.field[name], mv));
  });
  return o;
}

// --------------------------------------------------------------------------
// Actions

void ActionFromJs(const Ctx& c, const Path& where, napi_value v, sy_action* a) {
  napi_env env = c.env;
  memset(a, 0, sizeof(*a));
  if (!IsPlainObject(env, v, TypeOf(env, v)))
    ThrowType(env, where, "expected an action object, got " + Describe(env, v));
  char buf[64];
  napi_value tv = Get(c, v, K_type);
  size_t len = StrInto(env, Path(where, "type"), tv, buf, sizeof(buf));
  int t = len < sizeof(buf) ? ActionNames().Find(buf, len) : -1;
  if (t <= SY_ACT_NONE)
    ThrowType(env, Path(where, "type"),
              "unknown action '" + FullString(env, tv) + "' (one of " +
                  Join(sy_action_names, 1, SY_ACT__MAX) + ")");
  a->type = (uint16_t)t;
  auto required = [&](JsKey k, uint64_t max) -> uint64_t {
    return UintOf(env, Path(where, kKeyNames[k]), Need(c, where, v, k), max);
  };
  switch (t) {
    case SY_ACT_OUTPUT:
      a->arg = (uint32_t)required(K_port, 0xffffffffu);
      break;
    case SY_ACT_SET_FIELD: {
      napi_value fv = Get(c, v, K_field);
      len = StrInto(env, Path(where, "field"), fv, buf, sizeof(buf));
      int id = len < sizeof(buf) ? FieldNames().Find(buf, len) : -1;
      if (id <= SY_F_NONE)
        ThrowType(env, Path(where, "field"), "unknown field '" + FullString(env, fv) + "'");
      const sy_field_info& f = sy_fields[id];
      a->field = (uint16_t)id;
      ParseField(env, Path(where, "value"), f, Need(c, where, v, K_value), a->value.bytes);
      napi_value mk = Get(c, v, K_mask);
      if (!IsNullish(TypeOf(env, mk))) {
        if (f.width > sizeof(a->mask))
          ThrowRange(env, Path(where, "mask"), std::string(f.name) + " cannot be set with a mask");
        uint8_t mb[16];
        ParseField(env, Path(where, "mask"), f, mk, mb);
        memcpy(&a->mask, mb, f.width);
      }
      break;
    }
    case SY_ACT_PUSH_VLAN:
      a->arg = (uint32_t)OptUint(c, where, v, K_tpid, 0xffff, 0x8100);
      break;
    case SY_ACT_GOTO_TABLE:
      a->arg = (uint32_t)required(K_table, 0xff);
      break;
    case SY_ACT_WRITE_METADATA: {
      a->value.u64[0] = U64Of(env, Path(where, "value"), Need(c, where, v, K_value));
      napi_value mk = Get(c, v, K_mask);
      a->mask = TypeOf(env, mk) == napi_undefined ? kU64Max : U64Of(env, Path(where, "mask"), mk);
      break;
    }
    case SY_ACT_CONTROLLER:
      a->arg = (uint32_t)OptUint(c, where, v, K_maxLen, 0xffffffffu, 0xffff);
      break;
    case SY_ACT_GROUP:
      a->arg = (uint32_t)required(K_group, 0xffffffffu);
      break;
    case SY_ACT_METER:
      a->arg = (uint32_t)required(K_meter, 0xffffffffu);
      break;
    case SY_ACT_MIRROR:
      a->arg = (uint32_t)required(K_mirror, 0xffffffffu);
      break;
    case SY_ACT_SET_QUEUE:
      a->arg = (uint32_t)required(K_queue, 0xffffffffu);
      break;
    case SY_ACT_PUSH_NSH: {  // flow.h, SY_NSH_ARG: the data plane checks ttl and mdType
      uint32_t spi = (uint32_t)required(K_spi, SY_NSH_MAX_SPI);
      a->arg = SY_NSH_ARG(spi, OptUint(c, where, v, K_si, 0xff, 255));
      a->mask = SY_NSH_MASK(OptUint(c, where, v, K_mdType, 0xff, 1),
                            OptUint(c, where, v, K_ttl, 0xff, SY_NSH_MAX_TTL));
      const JsKey ck[4] = {K_c1, K_c2, K_c3, K_c4};
      for (int i = 0; i < 4; i++) {
        uint32_t cv = (uint32_t)OptUint(c, where, v, ck[i], 0xffffffffu, 0);
        memcpy(a->value.bytes + 4 * i, &cv, 4);
      }
      break;
    }
    default:
      break;  // no arguments
  }
}

napi_value ActionToJs(const Ctx& c, const sy_action& a) {
  napi_env env = c.env;
  napi_value o = NewObject(env);
  if (a.type == SY_ACT_NONE || a.type >= SY_ACT__MAX) {
    std::string name = "action_" + std::to_string(a.type);
    Set(c, o, K_type, Str(env, name.c_str()));
    Set(c, o, K_arg, U32(env, a.arg));
    return o;
  }
  Set(c, o, K_type, c.action[a.type]);
  switch (a.type) {
    case SY_ACT_OUTPUT: Set(c, o, K_port, U32(env, a.arg)); break;
    case SY_ACT_SET_FIELD:
      if (a.field > SY_F_NONE && a.field < SY_F__MAX) {
        const sy_field_info& f = sy_fields[a.field];
        Set(c, o, K_field, c.field[a.field]);
        Set(c, o, K_value, FormatField(env, f, a.value.bytes));
        if (a.mask && f.width <= sizeof(a.mask)) {
          uint8_t mb[16] = {0};
          memcpy(mb, &a.mask, f.width);
          Set(c, o, K_mask, FormatField(env, f, mb));
        }
      } else {
        std::string name = "field_" + std::to_string(a.field);
        Set(c, o, K_field, Str(env, name.c_str()));
      }
      break;
    case SY_ACT_PUSH_VLAN: Set(c, o, K_tpid, U32(env, a.arg)); break;
    case SY_ACT_GOTO_TABLE: Set(c, o, K_table, U32(env, a.arg)); break;
    case SY_ACT_WRITE_METADATA:
      Set(c, o, K_value, U64(env, a.value.u64[0]));
      Set(c, o, K_mask, U64(env, a.mask));
      break;
    case SY_ACT_CONTROLLER: Set(c, o, K_maxLen, U32(env, a.arg)); break;
    case SY_ACT_GROUP: Set(c, o, K_group, U32(env, a.arg)); break;
    case SY_ACT_METER: Set(c, o, K_meter, U32(env, a.arg)); break;
    case SY_ACT_MIRROR: Set(c, o, K_mirror, U32(env, a.arg)); break;
    case SY_ACT_SET_QUEUE: Set(c, o, K_queue, U32(env, a.arg)); break;
    case SY_ACT_PUSH_NSH: {
      const JsKey ck[4] = {K_c1, K_c2, K_c3, K_c4};
      Set(c, o, K_spi, U32(env, SY_NSH_ARG_SPI(a.arg)));
      Set(c, o, K_si, U32(env, SY_NSH_ARG_SI(a.arg)));
      Set(c, o, K_ttl, U32(env, SY_NSH_MASK_TTL(a.mask)));
      Set(c, o, K_mdType, U32(env, SY_NSH_MASK_MDTYPE(a.mask)));
      for (int i = 0; i < 4; i++) {
        uint32_t cv;
        memcpy(&cv, a.value.bytes + 4 * i, 4);
        Set(c, o, ck[i], U32(env, cv));
      }
      break;
    }
    default: break;
  }
  return o;
}

// --------------------------------------------------------------------------
// Flows

void FlowModFromJs(const Ctx& c, const Path& where, napi_value v, sy_flow_mod* fm,
                   bool filter) {
  napi_env env = c.env;
  memset(fm, 0, sizeof(*fm));
  napi_valuetype vt = TypeOf(env, v);
  if (filter && IsNullish(vt)) {
    fm->hdr.command = SY_FC_DELETE;
    fm->hdr.table_id = SY_TABLE_ALL;
    fm->hdr.out_port = SY_PORT_ANY;
    return;
  }
  if (!IsPlainObject(env, v, vt)) ThrowType(env, where, "expected a flow object, got " + Describe(env, v));

  int cmd = SY_FC_DELETE;  // filters: non-strict, as a delete
  if (!filter) {
    char buf[32];
    napi_value cv = Get(c, v, K_command);
    size_t len = StrInto(env, Path(where, "command"), cv, buf, sizeof(buf));
    cmd = 0;
    for (int i = SY_FC_ADD; i <= SY_FC_DELETE_STRICT; i++)
      if (len < sizeof(buf) && strlen(kCommands[i]) == len && memcmp(buf, kCommands[i], len) == 0)
        cmd = i;
    if (!cmd)
      ThrowType(env, Path(where, "command"),
                "unknown command '" + FullString(env, cv) + "' (one of " + Join(kCommands, 1, 6) + ")");
  }
  bool del = cmd == SY_FC_DELETE || cmd == SY_FC_DELETE_STRICT;
  fm->hdr.command = (uint8_t)cmd;
  fm->hdr.table_id = (uint8_t)OptUint(c, where, v, K_table, 0xff, del ? SY_TABLE_ALL : 0);
  fm->hdr.priority = (uint16_t)OptUint(c, where, v, K_priority, 0xffff, 0x8000);
  fm->hdr.idle_timeout = (uint16_t)OptUint(c, where, v, K_idleTimeout, 0xffff, 0);
  fm->hdr.hard_timeout = (uint16_t)OptUint(c, where, v, K_hardTimeout, 0xffff, 0);
  fm->hdr.flags = (uint16_t)OptUint(c, where, v, K_flags, 0xffff, 0);
  fm->hdr.out_port = (uint32_t)OptUint(c, where, v, K_outPort, 0xffffffffu, SY_PORT_ANY);
  napi_value cookie = Get(c, v, K_cookie);
  if (TypeOf(env, cookie) != napi_undefined) fm->hdr.cookie = U64Of(env, Path(where, "cookie"), cookie);
  napi_value cmask = Get(c, v, K_cookieMask);
  if (TypeOf(env, cmask) != napi_undefined)
    fm->hdr.cookie_mask = U64Of(env, Path(where, "cookieMask"), cmask);

  MatchFromJs(c, Path(where, "match"), Get(c, v, K_match), &fm->key, &fm->mask);

  napi_value acts = Get(c, v, K_actions);
  if (IsNullish(TypeOf(env, acts))) return;
  Path pa(where, "actions");
  bool is_array;
  SY_NAPI(env, napi_is_array(env, acts, &is_array));
  if (!is_array) ThrowType(env, pa, "expected an array, got " + Describe(env, acts));
  uint32_t n;
  SY_NAPI(env, napi_get_array_length(env, acts, &n));
  if (n > SY_MAX_ACTIONS)
    ThrowRange(env, pa, std::to_string(n) + " actions, at most " + std::to_string(SY_MAX_ACTIONS));
  for (uint32_t i = 0; i < n; i++) {
    napi_value av;
    SY_NAPI(env, napi_get_element(env, acts, i, &av));
    ActionFromJs(c, Path(pa, i), av, &fm->actions[i]);
  }
  fm->n_actions = (uint16_t)n;
}

static void FlowCommonToJs(const Ctx& c, napi_value o, const sy_flow_mod& fm) {
  napi_env env = c.env;
  Set(c, o, K_table, U32(env, fm.hdr.table_id));
  Set(c, o, K_priority, U32(env, fm.hdr.priority));
  Set(c, o, K_cookie, U64(env, fm.hdr.cookie));
  Set(c, o, K_idleTimeout, U32(env, fm.hdr.idle_timeout));
  Set(c, o, K_hardTimeout, U32(env, fm.hdr.hard_timeout));
  Set(c, o, K_flags, U32(env, fm.hdr.flags));
  Set(c, o, K_match, MatchToJs(c, fm.key, fm.mask));
  unsigned n = fm.n_actions > SY_MAX_ACTIONS ? SY_MAX_ACTIONS : fm.n_actions;
  napi_value acts;
  SY_NAPI(env, napi_create_array_with_length(env, n, &acts));
  for (unsigned i = 0; i < n; i++) SY_NAPI(env, napi_set_element(env, acts, i, ActionToJs(c, fm.actions[i])));
  Set(c, o, K_actions, acts);
}

static napi_value StatsToJs(const Ctx& c, const sy_flow_stats& st) {
  napi_value s = NewObject(c.env);
  Set(c, s, K_packets, U64(c.env, st.packets));
  Set(c, s, K_bytes, U64(c.env, st.bytes));
  Set(c, s, K_durationNs, U64(c.env, st.duration_ns));
  Set(c, s, K_idleNs, U64(c.env, st.idle_ns));
  return s;
}

napi_value FlowModToJs(const Ctx& c, const sy_flow_mod& fm, const sy_flow_stats* st) {
  napi_env env = c.env;
  napi_value o = NewObject(env);
  if (fm.hdr.command >= SY_FC_ADD && fm.hdr.command <= SY_FC_DELETE_STRICT)
    Set(c, o, K_command, c.cmd[fm.hdr.command]);
  else
    Set(c, o, K_command, Str(env, std::to_string(fm.hdr.command).c_str()));
  FlowCommonToJs(c, o, fm);
  Set(c, o, K_cookieMask, U64(env, fm.hdr.cookie_mask));
  Set(c, o, K_outPort, U32(env, fm.hdr.out_port));
  if (st) Set(c, o, K_stats, StatsToJs(c, *st));
  return o;
}

napi_value FlowEntryToJs(const Ctx& c, const sy_flow_mod& fm, const sy_flow_stats& st) {
  napi_value o = NewObject(c.env);
  FlowCommonToJs(c, o, fm);
  Set(c, o, K_stats, StatsToJs(c, st));
  return o;
}

void PutFlowMods(const Ctx& c, napi_value mods, uint32_t n, sy_msgbuf* b) {
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  Path root("mods");
  for (uint32_t i = 0; i < n; i++) {
    Scope scope(c.env);
    napi_value v;
    SY_NAPI(c.env, napi_get_element(c.env, mods, i, &v));
    FlowModFromJs(c, Path(root, i), v, fm.get(), false);
    sy_put_flow(b, fm.get(), nullptr);
  }
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

const char* const kBondModes[4] = {"round-robin", "active-backup", "balance-xor", "broadcast"};
const char* const kBondXmitPolicies[3] = {"l2", "l23", "l34"};

Napi::Object PortBondToJs(Napi::Env env, const sy_port_bond& b) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", b.mode < 4 ? kBondModes[b.mode] : "unknown");
  o.Set("xmitPolicy", b.xmit_policy < 3 ? kBondXmitPolicies[b.xmit_policy] : "unknown");
  uint32_t n = b.n_members < SY_BOND_MEMBERS_MAX ? b.n_members : SY_BOND_MEMBERS_MAX;
  std::string primary;
  Napi::Array members = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    const sy_bond_member& m = b.member[i];
    std::string devargs = CString(m.devargs, sizeof(m.devargs));
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("devargs", devargs);
    mo.Set("dpdkPort", m.dpdk_port == UINT16_MAX ? env.Null() : Napi::Number::New(env, m.dpdk_port));
    mo.Set("linkUp", Napi::Boolean::New(env, m.link_up != 0));
    mo.Set("active", Napi::Boolean::New(env, m.active != 0));
    mo.Set("rxPackets", Big(env, m.rx_packets));
    mo.Set("txPackets", Big(env, m.tx_packets));
    members.Set(i, mo);
    if (i == b.primary) primary = devargs.substr(0, devargs.find(','));
  }
  o.Set("primary", primary);
  o.Set("members", members);
  return o;
}

const char* const kVlanModes[3] = {"none", "access", "trunk"};

Napi::Object PortVlanToJs(Napi::Env env, const sy_port_vlan& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", v.mode < 3 ? kVlanModes[v.mode] : "unknown");
  o.Set("tag", v.tag);
  Napi::Array trunks = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t vid = 0; vid < 64 * SY_VLAN_BITMAP_WORDS; vid++)
    if ((v.trunks[vid >> 6] >> (vid & 63)) & 1) trunks.Set(n++, vid);
  o.Set("trunks", trunks);
  o.Set("native", v.native);
  return o;
}

Napi::Object PortNshTagToJs(Napi::Env env, const sy_port_nsh_tag& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("spi", t.spi);
  o.Set("si", t.si);
  o.Set("ttl", t.ttl);
  o.Set("mdtype", t.mdtype);
  Napi::Array ctx = Napi::Array::New(env, 4);
  for (uint32_t i = 0; i < 4; i++) ctx.Set(i, t.ctx[i]);
  o.Set("context", ctx);
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

void TableModFromJs(Napi::Env env, const Path& where, Napi::Value v, sy_table_desc* d) {
  memset(d, 0, sizeof(*d));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected { id, name?, miss?, maxFlows? }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value id = o.Get("id");
  if (id.IsUndefined()) ThrowType(env, Path(where, "id"), "missing");
  d->id = (uint32_t)GetUint(env, Path(where, "id"), id, SY_MAX_TABLES - 1);
  Napi::Value name = o.Get("name");
  if (!name.IsUndefined()) {
    Path at(where, "name");
    std::string s = GetString(env, at, name);
    if (s.size() >= sizeof(d->name))
      ThrowRange(env, at, "'" + s + "' is longer than " + std::to_string(sizeof(d->name) - 1) + " bytes");
    if (s.find('\0') != std::string::npos) ThrowType(env, at, "contains a NUL");
    memcpy(d->name, s.data(), s.size());
  }
  Napi::Value miss = o.Get("miss");
  d->miss = SY_MISS_DROP;
  if (!miss.IsUndefined()) {
    Path at(where, "miss");
    std::string s = GetString(env, at, miss);
    if (s == "drop") d->miss = SY_MISS_DROP;
    else if (s == "continue") d->miss = SY_MISS_CONTINUE;
    else if (s == "controller") d->miss = SY_MISS_CONTROLLER;
    else ThrowType(env, at, "'" + s + "' is not one of drop, continue, controller");
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

Napi::Object PmdStatsToJs(Napi::Env env, const sy_pmd_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("slot", s.slot);
  o.Set("lcoreId", s.lcore_id);
  o.Set("cpu", s.cpu == UINT32_MAX ? env.Null() : Napi::Number::New(env, s.cpu));
  o.Set("packets", Big(env, s.packets));
  o.Set("busyCycles", Big(env, s.busy_cycles));
  o.Set("idleCycles", Big(env, s.idle_cycles));
  o.Set("cacheHits", Big(env, s.cache_hits));
  o.Set("cacheMisses", Big(env, s.cache_misses));
  o.Set("clsLookups", Big(env, s.cls_lookups));
  o.Set("clsProbes", Big(env, s.cls_probes));
  uint32_t n = s.n_rxq < SY_PMD_RXQ_MAX ? s.n_rxq : SY_PMD_RXQ_MAX;
  Napi::Array rxqs = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Object q = Napi::Object::New(env);
    q.Set("port", s.rxq[i].port_id);
    q.Set("queue", s.rxq[i].queue);
    q.Set("packets", Big(env, s.rxq[i].packets));
    rxqs.Set(i, q);
  }
  o.Set("rxqs", rxqs);
  return o;
}

Napi::Object CookieStatsToJs(Napi::Env env, const sy_cookie_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("cookie", Big(env, s.cookie));
  o.Set("flows", s.n_flows);
  o.Set("packets", Big(env, s.packets));
  o.Set("bytes", Big(env, s.bytes));
  return o;
}

// Meters (meters.cc) -----------------------------------------------------------

static const char* const kUnits[] = {"kbps", "pps"};
static const char* const kBands[] = {"drop", "dscp_remark"};

static uint32_t MeterCmdFromJs(Napi::Env env, Napi::Value v) {
  std::string s = GetString(env, "command", v);
  if (s == "add") return SY_MC_ADD;
  if (s == "modify") return SY_MC_MODIFY;
  if (s == "delete") return SY_MC_DELETE;
  ThrowType(env, "command", "'" + s + "' is not one of add, modify, delete");
  return 0;
}

static void MeterDescFromJs(Napi::Env env, uint32_t cmd, Napi::Value v, sy_meter_desc* d) {
  Path where("meter");
  memset(d, 0, sizeof(*d));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected { id, unit, rate, burst?, band?, dscp? }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value id = o.Get("id");
  if (id.IsUndefined()) ThrowType(env, Path(where, "id"), "missing");
  d->id = (uint32_t)GetUint(env, Path(where, "id"), id, SY_METER_ID_MAX);
  if (cmd == SY_MC_DELETE) return;
  Napi::Value unit = o.Get("unit");
  if (!unit.IsUndefined()) {
    std::string s = GetString(env, Path(where, "unit"), unit);
    if (s == "pps") d->unit = SY_METER_PPS;
    else if (s != "kbps") ThrowType(env, Path(where, "unit"), "'" + s + "' is not one of kbps, pps");
  }
  Napi::Value rate = o.Get("rate");
  if (rate.IsUndefined() && o.Get("bands").IsUndefined()) ThrowType(env, Path(where, "rate"), "missing");
  if (!rate.IsUndefined()) d->rate = GetUint(env, Path(where, "rate"), rate, SY_METER_RATE_MAX);
  d->burst = GetUintOpt(env, where, o, "burst", SY_METER_RATE_MAX * 10, 0);
  Napi::Value band = o.Get("band");
  if (!band.IsUndefined()) {
    std::string s = GetString(env, Path(where, "band"), band);
    if (s == "dscp_remark") d->band = SY_BAND_DSCP_REMARK;
    else if (s != "drop") ThrowType(env, Path(where, "band"), "'" + s + "' is not one of drop, dscp_remark");
  }
  d->dscp = (uint8_t)GetUintOpt(env, where, o, "dscp", 63, 0);
}

Napi::Object MeterDescToJs(Napi::Env env, const sy_meter_desc& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", d.id);
  o.Set("unit", d.unit < 2 ? kUnits[d.unit] : "unknown");
  o.Set("rate", Napi::Number::New(env, (double)d.rate));
  o.Set("burst", Napi::Number::New(env, (double)d.burst));
  o.Set("band", d.band < 2 ? kBands[d.band] : "unknown");
  o.Set("dscp", d.dscp);
  return o;
}

Napi::Object MeterStatsToJs(Napi::Env env, const sy_meter_stats& s) {
  Napi::Object o = MeterDescToJs(env, s.desc);
  o.Set("durationNs", Big(env, s.duration_ns));
  o.Set("passPackets", Big(env, s.pass_packets));
  o.Set("passBytes", Big(env, s.pass_bytes));
  o.Set("bandPackets", Big(env, s.band_packets));
  o.Set("bandBytes", Big(env, s.band_bytes));
  return o;
}

// bands: [{ type: 'drop' | 'dscp_remark', rate, burst?, dscp? }], 1..4.
static bool MeterBandsFromJs(Napi::Env env, Napi::Value v, sy_meter_bands* b) {
  Path where("meter");
  memset(b, 0, sizeof(*b));
  Napi::Value bands = v.As<Napi::Object>().Get("bands");
  if (bands.IsUndefined()) return false;
  Path bw(where, "bands");
  if (!bands.IsArray()) ThrowType(env, bw, "expected an array of { type, rate, burst?, dscp? }, got " + Describe(bands));
  Napi::Array arr = bands.As<Napi::Array>();
  if (arr.Length() < 1 || arr.Length() > SY_METER_BANDS_MAX)
    ThrowType(env, bw, std::to_string(arr.Length()) + " bands, expected 1.." + std::to_string(SY_METER_BANDS_MAX));
  b->n_bands = arr.Length();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Path ew(bw, i);
    Napi::Value e = arr.Get(i);
    if (!IsPlainObject(e)) ThrowType(env, ew, "expected { type, rate, burst?, dscp? }, got " + Describe(e));
    Napi::Object eo = e.As<Napi::Object>();
    Napi::Value type = eo.Get("type");
    if (!type.IsUndefined()) {
      std::string t = GetString(env, Path(ew, "type"), type);
      if (t == "dscp_remark") b->band[i].type = SY_BAND_DSCP_REMARK;
      else if (t != "drop") ThrowType(env, Path(ew, "type"), "'" + t + "' is not one of drop, dscp_remark");
    }
    Napi::Value rate = eo.Get("rate");
    if (rate.IsUndefined()) ThrowType(env, Path(ew, "rate"), "missing");
    b->band[i].rate = GetUint(env, Path(ew, "rate"), rate, SY_METER_RATE_MAX);
    b->band[i].burst = GetUintOpt(env, ew, eo, "burst", SY_METER_RATE_MAX * 10, 0);
    b->band[i].dscp = (uint8_t)GetUintOpt(env, ew, eo, "dscp", 63, 0);
  }
  return true;
}

uint32_t MeterModFromJs(Napi::Env env, Napi::Value cmd, Napi::Value v, sy_meter_desc* d, sy_meter_bands* bands,
                        bool* has_bands) {
  uint32_t c = MeterCmdFromJs(env, cmd);
  MeterDescFromJs(env, c, v, d);
  *has_bands = c != SY_MC_DELETE && MeterBandsFromJs(env, v, bands);
  return c;
}

Napi::Array MeterBandsToJs(Napi::Env env, const sy_meter_bands& b) {
  Napi::Array arr = Napi::Array::New(env, b.n_bands);
  for (uint32_t i = 0; i < b.n_bands && i < SY_METER_BANDS_MAX; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", b.band[i].type < 2 ? kBands[b.band[i].type] : "unknown");
    o.Set("rate", Napi::Number::New(env, (double)b.band[i].rate));
    o.Set("burst", Napi::Number::New(env, (double)b.band[i].burst));
    o.Set("dscp", b.band[i].dscp);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Array MeterBandStatsToJs(Napi::Env env, const sy_meter_band_stats& s) {
  Napi::Array arr = Napi::Array::New(env, s.n_bands);
  for (uint32_t i = 0; i < s.n_bands && i < SY_METER_BANDS_MAX; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", Big(env, s.band[i].packets));
    o.Set("bytes", Big(env, s.band[i].bytes));
    arr.Set(i, o);
  }
  return arr;
}

// PORT QOS ---------------------------------------------------------------

// { rate, burst?, queues?: [{ queue, rate, burst? }] }: rate 0 (and no
// queues) removes the port's QoS.
void PortQosFromJs(Napi::Env env, Napi::Value v, sy_port_qos* q) {
  Path where("qos");
  memset(q, 0, sizeof(*q));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected { rate, burst?, queues? }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  q->port.rate = GetUintOpt(env, where, o, "rate", SY_METER_RATE_MAX, 0);
  q->port.burst = GetUintOpt(env, where, o, "burst", SY_METER_RATE_MAX * 10, 0);
  Napi::Value qs = o.Get("queues");
  if (qs.IsUndefined()) return;
  Path qw(where, "queues");
  if (!qs.IsArray()) ThrowType(env, qw, "expected an array, got " + Describe(qs));
  Napi::Array arr = qs.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Path ew(qw, i);
    Napi::Value e = arr.Get(i);
    if (!IsPlainObject(e)) ThrowType(env, ew, "expected { queue, rate, burst? }, got " + Describe(e));
    Napi::Object eo = e.As<Napi::Object>();
    Napi::Value id = eo.Get("queue");
    if (id.IsUndefined()) ThrowType(env, Path(ew, "queue"), "missing");
    uint32_t n = (uint32_t)GetUint(env, Path(ew, "queue"), id, SY_PORT_QOS_QUEUES - 1);
    if (q->queue[n].rate != 0) ThrowType(env, Path(ew, "queue"), "queue " + std::to_string(n) + " given twice");
    Napi::Value rate = eo.Get("rate");
    if (rate.IsUndefined()) ThrowType(env, Path(ew, "rate"), "missing");
    q->queue[n].rate = GetUint(env, Path(ew, "rate"), rate, SY_METER_RATE_MAX);
    if (q->queue[n].rate == 0) ThrowType(env, Path(ew, "rate"), "0: a queue needs a rate");
    q->queue[n].burst = GetUintOpt(env, ew, eo, "burst", SY_METER_RATE_MAX * 10, 0);
  }
}

Napi::Object PortQosToJs(Napi::Env env, const sy_port_qos& q) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("portId", q.port_id);
  o.Set("rate", Napi::Number::New(env, (double)q.port.rate));
  o.Set("burst", Napi::Number::New(env, (double)q.port.burst));
  Napi::Array qs = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t i = 0; i < SY_PORT_QOS_QUEUES; i++) {
    if (q.queue[i].rate == 0) continue;
    Napi::Object e = Napi::Object::New(env);
    e.Set("queue", i);
    e.Set("rate", Napi::Number::New(env, (double)q.queue[i].rate));
    e.Set("burst", Napi::Number::New(env, (double)q.queue[i].burst));
    qs.Set(n++, e);
  }
  o.Set("queues", qs);
  return o;
}

// TRACE ------------------------------------------------------------------

namespace {

napi_value TraceStepToJs(const Ctx& c, const sy_attr* a) {
  Napi::Env env(c.env);
  char err[SY_CODEC_ERR_MAX];
  std::unique_ptr<sy_trace_step> st(new sy_trace_step());
  if (sy_get_trace_step(a, st.get(), err, sizeof(err)) < 0) throw Napi::Error::New(env, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("table", st->table_id);
  if (st->hit) {
    static const sy_flow_stats zero = {};
    o.Set("entry", Napi::Value(env, FlowEntryToJs(c, st->entry, zero)));
  } else {
    o.Set("entry", env.Null());
    o.Set("miss", TableMissName(st->miss));
  }
  Napi::Array acts = Napi::Array::New(env);
  sy_attr_iter it;
  const sy_attr* x;
  uint32_t n = 0;
  sy_attr_iter_nest(&it, a);
  while (sy_attr_next(&it, &x) > 0) {
    if (x->type != SY_A_TRACE_ACTION) continue;
    sy_action act;
    sy_trace_change ch[SY_F__MAX];
    unsigned int n_ch;
    if (sy_get_trace_action(x, &act, ch, SY_F__MAX, &n_ch, err, sizeof(err)) < 0)
      throw Napi::Error::New(env, err);
    Napi::Array changes = Napi::Array::New(env, n_ch);
    for (unsigned int i = 0; i < n_ch; i++) {
      const sy_field_info& f = sy_fields[ch[i].field];
      Napi::Object cv = Napi::Object::New(env);
      cv.Set("field", f.name);
      cv.Set("before", Napi::Value(env, FormatField(env, f, ch[i].before)));
      cv.Set("after", Napi::Value(env, FormatField(env, f, ch[i].after)));
      changes.Set(i, cv);
    }
    Napi::Object ao = Napi::Object::New(env);
    ao.Set("action", Napi::Value(env, ActionToJs(c, act)));
    ao.Set("changes", changes);
    acts.Set(n++, ao);
  }
  o.Set("actions", acts);
  return o;
}

}  // namespace

napi_value TraceToJs(const Ctx& c, const sy_msg& m) {
  Napi::Env env(c.env);
  char err[SY_CODEC_ERR_MAX];
  Napi::Object o = Napi::Object::New(env);
  Napi::Array steps = Napi::Array::New(env), outputs = Napi::Array::New(env);
  Napi::Value packet = Napi::Object::New(env);
  uint32_t n_steps = 0, n_out = 0, drop = SY_DROP__MAX;
  sy_attr_iter it;
  const sy_attr* a;
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    switch (a->type) {
      case SY_A_TRACE_KEY: {
        sy_flow_key key, mask;
        if (sy_get_trace_key(a, &key, &mask, err, sizeof(err)) < 0) throw Napi::Error::New(env, err);
        packet = Napi::Value(env, MatchToJs(c, key, mask));
        break;
      }
      case SY_A_TRACE_STEP:
        steps.Set(n_steps++, Napi::Value(env, TraceStepToJs(c, a)));
        break;
      case SY_A_TRACE_OUTPUT: {
        uint32_t port, len;
        const uint8_t* frame;
        if (sy_get_trace_output(a, &port, &frame, &len, err, sizeof(err)) < 0)
          throw Napi::Error::New(env, err);
        Napi::Object out = Napi::Object::New(env);
        out.Set("port", port);
        out.Set("frame", Napi::Buffer<uint8_t>::Copy(env, frame, len));
        outputs.Set(n_out++, out);
        break;
      }
      case SY_A_TRACE_DROP:
        if (sy_attr_get_u32(a, &drop, err, sizeof(err)) < 0) throw Napi::Error::New(env, err);
        if (drop >= SY_DROP__MAX) throw Napi::Error::New(env, "TRACE_DROP " + std::to_string(drop) + " is not a drop reason");
        break;
    }
  }
  o.Set("packet", packet);
  o.Set("steps", steps);
  o.Set("outputs", outputs);
  o.Set("drop", n_out == 0 && drop < SY_DROP__MAX ? Napi::Value(Napi::String::New(env, sy_drop_names[drop]))
                                                  : env.Null());
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

// Groups -------------------------------------------------------------------

namespace {

const char* const kGroupTypes[] = {"all", "select", "indirect", "fast_failover"};
const char* const kGroupCmds[] = {nullptr, "add", "modify", "delete"};
const struct {
  const char* name;
  uint32_t bit;
} kSelFields[] = {{"dl_src", SY_GSEL_DL_SRC},     {"dl_dst", SY_GSEL_DL_DST}, {"nw_src", SY_GSEL_NW_SRC},
                  {"nw_dst", SY_GSEL_NW_DST},     {"nw_proto", SY_GSEL_NW_PROTO},
                  {"tp_src", SY_GSEL_TP_SRC},     {"tp_dst", SY_GSEL_TP_DST}};

}  // namespace

void GroupModFromJs(const Ctx& c, const Path& where, Napi::Value v, sy_group_mod* gm) {
  Napi::Env env(c.env);
  memset(gm, 0, sizeof(*gm));
  if (!IsPlainObject(v)) ThrowType(env, where, "expected { command, id, type, buckets }, got " + Describe(v));
  Napi::Object o = v.As<Napi::Object>();
  std::string cmd = GetString(env, Path(where, "command"), o.Get("command"));
  for (uint8_t i = 1; i <= SY_GC_DELETE; i++)
    if (cmd == kGroupCmds[i]) gm->hdr.command = i;
  if (gm->hdr.command == 0) ThrowType(env, Path(where, "command"), "'" + cmd + "' is not one of add, modify, delete");
  Napi::Value id = o.Get("id");
  if (id.IsUndefined()) ThrowType(env, Path(where, "id"), "missing");
  gm->hdr.group_id = (uint32_t)GetUint(env, Path(where, "id"), id, SY_GROUP_ID_MAX);
  if (gm->hdr.command == SY_GC_DELETE) return;
  std::string type = GetString(env, Path(where, "type"), o.Get("type"));
  bool known = false;
  for (uint8_t i = 0; i <= SY_GT_FF; i++)
    if (type == kGroupTypes[i]) gm->hdr.type = i, known = true;
  if (!known) ThrowType(env, Path(where, "type"), "'" + type + "' is not one of all, select, indirect, fast_failover");
  Napi::Value fields = o.Get("fields");
  if (!fields.IsUndefined() && !fields.IsNull()) {
    Path pf(where, "fields");
    if (!fields.IsArray()) ThrowType(env, pf, "expected an array of field names");
    Napi::Array fa = fields.As<Napi::Array>();
    for (uint32_t i = 0; i < fa.Length(); i++) {
      std::string f = GetString(env, Path(pf, i), fa.Get(i));
      uint32_t bit = 0;
      for (const auto& k : kSelFields)
        if (f == k.name) bit = k.bit;
      if (bit == 0)
        ThrowType(env, Path(pf, i), "'" + f + "' is not one of dl_src, dl_dst, nw_src, nw_dst, nw_proto, tp_src, tp_dst");
      gm->hdr.sel_fields |= bit;
    }
  }
  Napi::Value buckets = o.Get("buckets");
  Path pb(where, "buckets");
  if (!buckets.IsArray()) ThrowType(env, pb, "expected an array, got " + Describe(buckets));
  Napi::Array ba = buckets.As<Napi::Array>();
  if (ba.Length() > SY_GROUP_BUCKETS_MAX)
    ThrowRange(env, pb, std::to_string(ba.Length()) + " buckets, at most " + std::to_string(SY_GROUP_BUCKETS_MAX));
  for (uint32_t i = 0; i < ba.Length(); i++) {
    Path at(pb, i);
    Napi::Value bv = ba.Get(i);
    if (!IsPlainObject(bv)) ThrowType(env, at, "expected { weight?, watchPort?, actions }, got " + Describe(bv));
    Napi::Object bo = bv.As<Napi::Object>();
    auto* b = &gm->bucket[i];
    b->b.weight = (uint16_t)GetUintOpt(env, at, bo, "weight", 0xffff, 1);
    b->b.watch_port = (uint32_t)GetUintOpt(env, at, bo, "watchPort", SY_MAX_PORT_ID, 0);
    if (b->b.watch_port == 0) b->b.watch_port = SY_NO_WATCH;
    Napi::Value acts = bo.Get("actions");
    Path pa(at, "actions");
    if (!acts.IsArray()) ThrowType(env, pa, "expected an array, got " + Describe(acts));
    Napi::Array aa = acts.As<Napi::Array>();
    if (aa.Length() > SY_GROUP_ACTIONS_MAX)
      ThrowRange(env, pa, std::to_string(aa.Length()) + " actions, at most " + std::to_string(SY_GROUP_ACTIONS_MAX));
    for (uint32_t j = 0; j < aa.Length(); j++) ActionFromJs(c, Path(pa, j), aa.Get(j), &b->actions[j]);
    b->n_actions = (uint16_t)aa.Length();
  }
  gm->n_buckets = (uint16_t)ba.Length();
}

Napi::Object GroupStatsToJs(Napi::Env env, const sy_group_stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", s.group_id);
  o.Set("type", s.type <= SY_GT_FF ? kGroupTypes[s.type] : "unknown");
  o.Set("flows", s.n_flows);
  o.Set("packets", Big(env, s.packets));
  o.Set("bytes", Big(env, s.bytes));
  o.Set("dropped", Big(env, s.dropped));
  Napi::Array b = Napi::Array::New(env, s.n_buckets);
  for (uint32_t i = 0; i < s.n_buckets && i < SY_GROUP_BUCKETS_MAX; i++) {
    Napi::Object bo = Napi::Object::New(env);
    bo.Set("packets", Big(env, s.bucket[i].packets));
    bo.Set("bytes", Big(env, s.bucket[i].bytes));
    b.Set(i, bo);
  }
  o.Set("buckets", b);
  return o;
}

}  // namespace sy
