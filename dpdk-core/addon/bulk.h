// SPDX-License-Identifier: BSD-3-Clause
//
// bulk.h — flows by the hundred thousand: FLOW_MOD batches from JS objects
// and FLOW_DUMP parts into JS objects.
//
// What?
//   Going through Node-API one property at a time costs V8's generic
//   (inline-cache-less) property lookup on every read and a map transition
//   on every write: microseconds per flow.  So the bulk paths let a small
//   piece of JavaScript, compiled once per environment and private to the
//   addon, do the object work where V8 is fast, and cross the boundary once
//   per batch or part with flat typed arrays:
//
//   FLOW_MOD  pack(mods) reads every property the conversion may need (the
//             flow-mod's, its match's, its actions') into typed arrays of
//             tagged values (number, bigint, string, undefined, null,
//             other), which C++ converts with the rules of convert.cc.
//             Anything the fast reading does not take as it is (an "other"
//             value, a malformed address, a number out of range...) sends
//             that one flow-mod through convert.cc's FlowModFromJs, the
//             reference: it produces the same struct, or throws the precise
//             TypeError/RangeError ("mods[7].match.nw_src.value: ...").
//   dumps     C++ decodes a part's FLOW attributes into flat arrays (small
//             numbers, 64-bit values, address strings) and one call of
//             build() makes the entries with object literals.
//
//   The wire format stays in C (codec.h); the JavaScript only moves values
//   between objects and arrays.
#ifndef SWITCHYARD_ADDON_BULK_H
#define SWITCHYARD_ADDON_BULK_H

#include <napi.h>

#include <switchyard/codec.h>

#include "convert.h"

namespace sy {

// Compiles the JS helpers of this environment (from InitStrings).
void InitBulk(napi_env env, napi_value* pack, napi_value* build);

// Appends a FLOW nest to b for each of the n flow-mods of the array mods
// (errors name "mods[i]...").
void PutFlowModsBulk(const Ctx& c, napi_value mods, uint32_t n, sy_msgbuf* b);

// Appends the dump entries (FLOW attributes) of m to arr, from index *n on.
// Throws a Napi::Error with `err` text on a FLOW it cannot decode.
void AppendFlowEntries(const Ctx& c, napi_value arr, uint32_t* n, const sy_msg& m);

}  // namespace sy

#endif  // SWITCHYARD_ADDON_BULK_H
