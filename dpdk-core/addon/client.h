// SPDX-License-Identifier: BSD-3-Clause
//
// client.h — the control-protocol client, driven by Node's libuv loop.
//
// What?
//   A nonblocking unix stream socket watched by a uv_poll_t on the loop of
//   the Node environment that created the client.  Requests are encoded
//   with the codec, queued and written as far as the socket takes them (the
//   rest when it is writable again); replies are read into a buffer that
//   grows to the length of the message being received (bounded by
//   SY_MSG_MAX), decoded, and settle the promise waiting on their xid.
//   Events (xid 0) go to the callback set with setCallback().
//
// Stats segment
//   When HELLO's reply names a stats segment (segment.h) the client maps
//   it; readStats() copies the counters out of it synchronously, without a
//   message, or returns null when it cannot, and statsError says why
//   (null while reads succeed).  It is unmapped when the connection ends.
//
// Replies in parts
//   An answer too big for one message (a dump of a million flows) comes as
//   parts with SY_MSGF_MORE, then a last part without it (proto.h).  A part
//   of a list (ports, port stats, flows, tables, PMD stats) is decoded into
//   JS objects as soon as it arrives, appended to the array the promise
//   will resolve with, and its bytes are freed: neither the whole answer
//   nor the decoding waits for the last part.  Any other reply's parts are
//   kept as attribute bytes and decoded together with the last.  An ERROR
//   at any point rejects; a part that cannot be decoded rejects at once,
//   and the answer's remaining parts are read and dropped.
//
// Lifetime
//   While connected the JS object is held (it cannot be collected with a
//   connection open) and the poll handle keeps the loop alive unless
//   unref() was called.  close(), a lost connection, or the environment
//   shutting down closes the fd and the handle (uv_close, with libc's free()
//   as the close callback: a worker's exit unloads this module before its
//   loop runs close callbacks), rejects every pending request with code
//   DISCONNECTED and calls the callback with ('disconnected', reason) once,
//   then drops the callback.  After that nothing of the client keeps Node
//   alive, and a closed client can be collected.
//
// Re-entrancy
//   JS code run from a callback may call any method, close() and connect()
//   included: the read loop notices (a generation counter) and stops.
#ifndef SWITCHYARD_ADDON_CLIENT_H
#define SWITCHYARD_ADDON_CLIENT_H

#include <napi.h>
#include <uv.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include <switchyard/codec.h>

#include "segment.h"

namespace sy {

class Client : public Napi::ObjectWrap<Client> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Client(const Napi::CallbackInfo& info);
  ~Client() override;

 private:
  // How to turn a reply into a JS value.
  enum class Op {
    kHello,
    kVoid,
    kPortDesc,
    kPortList,
    kPortStats,
    kFlowCount,
    kFlowDump,
    kTableList,
    kTableDesc,
    kDpStats,
    kPmdStats,
    kEcho,
    kTrace,
    kCookieStats,
    kGroupStats,
    kMeterDesc,
    kMeterStats,
    kPortQos,
    kMirrorStats,
  };
  struct Pending {
    Napi::Promise::Deferred deferred;
    Op op;
    uint16_t type;
    // Parts received so far (SY_MSGF_MORE): list items already decoded,
    // or the attribute bytes of other replies.
    Napi::Reference<Napi::Array> items;
    uint32_t n_items = 0;
    std::string attrs;
    bool failed = false;  // rejected on a part: drop the rest of the answer
  };
  struct Conn;  // the uv handle and the fd; outlives us until uv_close completes
  struct OutBuf {
    uint8_t* data;
    size_t len;
  };
  enum class State { kClosed, kHello, kOpen };

  // JS methods
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetConnected(const Napi::CallbackInfo& info);
  Napi::Value SetCallback(const Napi::CallbackInfo& info);
  Napi::Value JsRef(const Napi::CallbackInfo& info);
  Napi::Value JsUnref(const Napi::CallbackInfo& info);
  Napi::Value PortAdd(const Napi::CallbackInfo& info);
  Napi::Value PortDel(const Napi::CallbackInfo& info);
  Napi::Value PortMod(const Napi::CallbackInfo& info);
  Napi::Value PortList(const Napi::CallbackInfo& info);
  Napi::Value PortStats(const Napi::CallbackInfo& info);
  Napi::Value PortStatsClear(const Napi::CallbackInfo& info);
  Napi::Value FlowMod(const Napi::CallbackInfo& info);
  Napi::Value FlowDump(const Napi::CallbackInfo& info);
  Napi::Value TableList(const Napi::CallbackInfo& info);
  Napi::Value TableMod(const Napi::CallbackInfo& info);
  Napi::Value DpStats(const Napi::CallbackInfo& info);
  Napi::Value PmdStats(const Napi::CallbackInfo& info);
  Napi::Value PmdStatsClear(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Echo(const Napi::CallbackInfo& info);
  Napi::Value Trace(const Napi::CallbackInfo& info);
  Napi::Value PacketOut(const Napi::CallbackInfo& info);
  Napi::Value ReadStats(const Napi::CallbackInfo& info);
  Napi::Value GetStatsError(const Napi::CallbackInfo& info);
  Napi::Value FlowCookieStats(const Napi::CallbackInfo& info);
  Napi::Value GroupMod(const Napi::CallbackInfo& info);
  Napi::Value GroupStats(const Napi::CallbackInfo& info);
  Napi::Value MeterMod(const Napi::CallbackInfo& info);  // meters.cc
  Napi::Value MeterStats(const Napi::CallbackInfo& info);
  Napi::Value PortQos(const Napi::CallbackInfo& info);  // meters.cc
  Napi::Value MirrorMod(const Napi::CallbackInfo& info);  // mirrors.cc
  Napi::Value MirrorStats(const Napi::CallbackInfo& info);

  // Sends the message built in b (begun with xid) and returns its promise.
  Napi::Value Request(Napi::Env env, sy_msgbuf* b, uint32_t xid, uint16_t type, Op op);
  // A request of no attributes (PORT_LIST, DP_STATS, BARRIER...).
  Napi::Value BareRequest(Napi::Env env, uint16_t type, Op op);
  uint32_t NextXid();
  Napi::Value Rejected(Napi::Env env, const char* code, const std::string& msg);
  Napi::Error MakeError(Napi::Env env, const char* code, int index, const std::string& msg);

  // I/O, on the loop
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* arg);
  void HandlePoll(int status, int events);
  void Flush();
  void UpdatePoll();
  bool ReadSome(std::string* why);  // false: the connection is gone
  void DispatchBuffered();
  void HandleMessage(const uint8_t* buf, size_t len);
  void HandleReply(Pending& p, const sy_msg& m);
  void HandlePart(Pending& p, const sy_msg& m);
  // Decodes the list items of m and appends them to p.items (list ops only).
  static bool IsList(Op op);
  // Decodes the items of a list reply's part into p.items; false for a reply that is not a list.
  bool AppendItems(Pending& p, const sy_msg& m);
  void HandleEvent(const sy_msg& m);
  // Maps the stats segment HELLO's reply m names (info.statsSegment gets
  // its path, or null), or sets stats_error_ saying why not.
  void OpenSegment(Napi::Env env, const sy_msg& m, uint32_t pid, Napi::Object info);
  void Emit(const char* kind, Napi::Value v);
  void Disconnect(const std::string& reason, bool call_js);
  void CloseConn();
  void ReleaseIfClosed();
  void Reset();

  napi_env env_;
  Napi::FunctionReference callback_;
  State state_ = State::kClosed;
  Conn* conn_ = nullptr;
  bool held_ = false;     // ObjectWrap::Ref() taken while connected
  bool keep_alive_ = true;
  bool write_failed_ = false;
  bool hook_ = false;      // env cleanup hook registered
  unsigned generation_ = 0;
  uint32_t next_xid_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
  std::deque<OutBuf> out_;
  size_t out_off_ = 0;  // sent bytes of out_.front()
  uint8_t* in_ = nullptr;
  size_t in_off_ = 0, in_len_ = 0, in_cap_ = 0;
  std::string path_;
  StatsSegment segment_;
  std::unique_ptr<sy_stats_segment> snap_;  // readStats() copies into it
  std::string stats_error_ = "not connected to the data plane";  // "" while the segment reads
};

}  // namespace sy

#endif  // SWITCHYARD_ADDON_CLIENT_H
