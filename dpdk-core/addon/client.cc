// SPDX-License-Identifier: BSD-3-Clause
//
// client.cc — the control-protocol client on Node's libuv loop (client.h).
#include "client.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "bulk.h"
#include "convert.h"

namespace sy {

namespace {

const size_t kInInitial = 64 << 10;
const size_t kInKeep = 1 << 20;        // larger idle input buffers are freed
const size_t kReadBudget = 64u << 20;  // bytes per poll callback, then decode

// "FLOW_DUMP", or "message 41" for a type this codec has no name for.
std::string TypeName(uint16_t t) {
  const char* n = sy_msg_type_name(t);
  return n ? n : "message " + std::to_string(t);
}

}  // namespace

// Allocated with calloc, the poll handle first: libuv frees it with free()
// itself once the handle is closed (see CloseConn).
struct Client::Conn {
  uv_poll_t poll;
  int fd;
  int events;
  Client* owner;
};

Napi::Function Client::Init(Napi::Env env) {
  return DefineClass(env, "Client",
                     {
                         InstanceMethod<&Client::Connect>("connect"),
                         InstanceMethod<&Client::Close>("close"),
                         InstanceAccessor<&Client::GetConnected>("connected"),
                         InstanceMethod<&Client::SetCallback>("setCallback"),
                         InstanceMethod<&Client::JsRef>("ref"),
                         InstanceMethod<&Client::JsUnref>("unref"),
                         InstanceMethod<&Client::PortAdd>("portAdd"),
                         InstanceMethod<&Client::PortDel>("portDel"),
                         InstanceMethod<&Client::PortMod>("portMod"),
                         InstanceMethod<&Client::PortList>("portList"),
                         InstanceMethod<&Client::PortStats>("portStats"),
                         InstanceMethod<&Client::PortStatsClear>("portStatsClear"),
                         InstanceMethod<&Client::FlowMod>("flowMod"),
                         InstanceMethod<&Client::FlowDump>("flowDump"),
                         InstanceMethod<&Client::TableList>("tableList"),
                         InstanceMethod<&Client::TableMod>("tableMod"),
                         InstanceMethod<&Client::DpStats>("dpStats"),
                         InstanceMethod<&Client::PmdStats>("pmdStats"),
                         InstanceMethod<&Client::PmdStatsClear>("pmdStatsClear"),
                         InstanceMethod<&Client::Barrier>("barrier"),
                         InstanceMethod<&Client::Echo>("echo"),
                         InstanceMethod<&Client::Trace>("trace"),
                         InstanceMethod<&Client::PacketOut>("packetOut"),
                         InstanceMethod<&Client::ReadStats>("readStats"),
                         InstanceAccessor<&Client::GetStatsError>("statsError"),
                         InstanceMethod<&Client::FlowCookieStats>("flowCookieStats"),
                         InstanceMethod<&Client::GroupMod>("groupMod"),
                         InstanceMethod<&Client::GroupStats>("groupStats"),
                         InstanceMethod<&Client::MeterMod>("meterMod"),
                         InstanceMethod<&Client::MeterStats>("meterStats"),
                         InstanceMethod<&Client::PortQos>("portQos"),
                         InstanceMethod<&Client::MirrorMod>("mirrorMod"),
                         InstanceMethod<&Client::MirrorStats>("mirrorStats"),
                     });
}

Client::Client(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Client>(info), env_(info.Env()) {}

Client::~Client() {
  // Collected (never while connected: we hold ourselves) or at env teardown.
  Disconnect("client destroyed", false);
  Reset();
  free(in_);
}

// --------------------------------------------------------------------------
// Errors and requests

Napi::Error Client::MakeError(Napi::Env env, const char* code, int index, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("name", Napi::String::New(env, "DpError"));
  e.Set("code", Napi::String::New(env, code));
  e.Set("index", Napi::Number::New(env, index));
  return e;
}

Napi::Value Client::Rejected(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(MakeError(env, code, -1, msg).Value());
  return d.Promise();
}

uint32_t Client::NextXid() {
  for (;;) {
    uint32_t x = next_xid_++;
    if (next_xid_ == 0) next_xid_ = 1;
    if (x != 0 && pending_.find(x) == pending_.end()) return x;
  }
}

Napi::Value Client::BareRequest(Napi::Env env, uint16_t type, Op op) {
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, type, 0, xid);
  return Request(env, &b, xid, type, op);
}

Napi::Value Client::Request(Napi::Env env, sy_msgbuf* b, uint32_t xid, uint16_t type, Op op) {
  if (sy_msg_finish(b) < 0) {
    int e = b->error;
    sy_msg_free(b);
    if (e == EMSGSIZE)
      throw Napi::RangeError::New(env, TypeName(type) +
                                           ": the request exceeds the protocol's " +
                                           std::to_string(SY_MSG_MAX >> 20) + " MB message limit");
    throw Napi::Error::New(env, TypeName(type) + ": cannot encode the request");
  }
  if (state_ == State::kClosed) {
    sy_msg_free(b);
    return Rejected(env, "DISCONNECTED", "not connected to the data plane");
  }
  size_t len;
  uint8_t* data = sy_msg_steal(b, &len);
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  pending_.emplace(xid, Pending{d, op, type, {}, 0, {}, false});
  out_.push_back(OutBuf{data, len});
  Flush();
  UpdatePoll();
  return d.Promise();
}

// --------------------------------------------------------------------------
// Connection

Napi::Value Client::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = GetString(env, "socketPath", info[0]);
  struct sockaddr_un sa;

  if (state_ != State::kClosed) return Rejected(env, "BUSY", "already connected to " + path_);
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path))
    throw Napi::RangeError::New(env, "socketPath: '" + path + "' is empty or longer than " +
                                         std::to_string(sizeof(sa.sun_path) - 1) + " bytes");
  memcpy(sa.sun_path, path.data(), path.size());

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Rejected(env, "DISCONNECTED", std::string("socket: ") + strerror(errno));
  if (connect(fd, (struct sockaddr*)&sa, sizeof(sa)) < 0) {
    int e = errno;
    close(fd);
    std::string hint = e == EAGAIN ? " (its backlog is full; try again)"
                                   : " (is switchyard-dp running?)";
    return Rejected(env, "DISCONNECTED",
                    "cannot connect to the data plane at " + path + ": " + strerror(e) + hint);
  }

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  static_assert(offsetof(Conn, poll) == 0, "the handle is the allocation");
  Conn* c = static_cast<Conn*>(calloc(1, sizeof(Conn)));
  if (!c) {
    close(fd);
    return Rejected(env, "DISCONNECTED", "out of memory");
  }
  c->fd = fd;
  c->owner = this;
  c->events = UV_READABLE;
  int rc = uv_poll_init(loop, &c->poll, fd);
  if (rc < 0) {
    close(fd);
    free(c);
    return Rejected(env, "DISCONNECTED", std::string("uv_poll_init: ") + uv_strerror(rc));
  }
  c->poll.data = c;
  uv_poll_start(&c->poll, c->events, OnPoll);
  if (!keep_alive_) uv_unref((uv_handle_t*)&c->poll);
  conn_ = c;
  napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
  hook_ = true;
  if (!held_) {
    ObjectWrap::Ref();
    held_ = true;
  }
  path_ = path;
  state_ = State::kHello;
  generation_++;
  in_off_ = in_len_ = 0;
  write_failed_ = false;

  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_HELLO, 0, xid);
  sy_msg_put_u32(&b, SY_A_VERSION, SY_PROTO_VERSION);
  return Request(env, &b, xid, SY_MSG_HELLO, Op::kHello);
}

Napi::Value Client::Close(const Napi::CallbackInfo& info) {
  Disconnect("closed by the client", true);
  ReleaseIfClosed();
  return info.Env().Undefined();
}

Napi::Value Client::GetConnected(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_ == State::kOpen);
}

Napi::Value Client::SetCallback(const Napi::CallbackInfo& info) {
  if (info[0].IsFunction())
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
  else
    callback_.Reset();
  return info.Env().Undefined();
}

Napi::Value Client::JsRef(const Napi::CallbackInfo& info) {
  keep_alive_ = true;
  if (conn_) uv_ref((uv_handle_t*)&conn_->poll);
  return info.Env().Undefined();
}

Napi::Value Client::JsUnref(const Napi::CallbackInfo& info) {
  keep_alive_ = false;
  if (conn_) uv_unref((uv_handle_t*)&conn_->poll);
  return info.Env().Undefined();
}

void Client::CloseConn() {
  if (hook_) {
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    hook_ = false;
  }
  if (!conn_) return;
  conn_->owner = nullptr;
  uv_poll_stop(&conn_->poll);
  // The close callback is libc's free(), not code of ours: when a worker
  // thread exits, Node unloads this module before its loop runs the close
  // callbacks.  uv_close() is done with the fd when it returns.
  uv_close(reinterpret_cast<uv_handle_t*>(&conn_->poll), reinterpret_cast<uv_close_cb>(&free));
  ::close(conn_->fd);
  conn_ = nullptr;
}

void Client::Reset() {
  for (OutBuf& b : out_) free(b.data);
  out_.clear();
  out_off_ = 0;
  write_failed_ = false;
  in_off_ = in_len_ = 0;
  if (in_cap_ > kInKeep) {
    free(in_);
    in_ = nullptr;
    in_cap_ = 0;
  }
}

void Client::Disconnect(const std::string& reason, bool call_js) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  generation_++;
  CloseConn();
  Reset();
  segment_.Close();
  stats_error_ = "not connected to the data plane";
  std::unordered_map<uint32_t, Pending> pend;
  pend.swap(pending_);
  if (!call_js) return;  // env teardown: nothing to call into

  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  unsigned gen = generation_;
  for (auto& kv : pend)
    if (!kv.second.failed)  // (a failed answer's promise is settled already)
      kv.second.deferred.Reject(
          MakeError(env, "DISCONNECTED", -1, "disconnected from the data plane: " + reason).Value());
  Emit("disconnected", Napi::String::New(env, reason));
  // Drop the callback (it usually holds the JS wrapper, which holds us: a
  // strong root that would keep a closed client alive forever), unless it
  // already connected again.
  if (generation_ == gen) callback_.Reset();
}

void Client::ReleaseIfClosed() {
  if (state_ == State::kClosed && held_) {
    held_ = false;
    ObjectWrap::Unref();
  }
}

void Client::OnEnvCleanup(void* arg) {
  Client* self = static_cast<Client*>(arg);
  self->hook_ = false;  // being run: removing it now is not needed
  self->Disconnect("Node is shutting down", false);
}

void Client::Emit(const char* kind, Napi::Value v) {
  if (callback_.IsEmpty()) return;
  Napi::Env env(env_);
  try {
    callback_.Call({Napi::String::New(env, kind), v});
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env_, e.Value());
  }
}

// --------------------------------------------------------------------------
// I/O

void Client::UpdatePoll() {
  if (!conn_) return;
  int want = UV_READABLE | ((!out_.empty() || write_failed_) ? UV_WRITABLE : 0);
  if (want != conn_->events) {
    uv_poll_start(&conn_->poll, want, OnPoll);
    conn_->events = want;
  }
}

void Client::Flush() {
  while (conn_ && !out_.empty() && !write_failed_) {
    OutBuf& b = out_.front();
    ssize_t n = send(conn_->fd, b.data + out_off_, b.len - out_off_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      write_failed_ = true;  // the read side (or the next poll) reports it
      return;
    }
    out_off_ += (size_t)n;
    if (out_off_ == b.len) {
      free(b.data);
      out_.pop_front();
      out_off_ = 0;
    }
  }
}

void Client::OnPoll(uv_poll_t* handle, int status, int events) {
  Conn* c = static_cast<Conn*>(handle->data);
  if (c->owner) c->owner->HandlePoll(status, events);
}

void Client::HandlePoll(int status, int events) {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  Napi::AsyncContext ctx(env, "switchyard:client");
  {
    // Promise reactions queued by resolve/reject run when this scope closes.
    Napi::CallbackScope cbs(env, ctx);
    try {
      unsigned gen = generation_;
      if (status < 0) {
        Disconnect(std::string("socket error: ") + uv_strerror(status), true);
      } else {
        if (events & UV_WRITABLE) Flush();
        if (write_failed_) {
          Disconnect(std::string("write failed: ") + strerror(errno), true);
        } else if (events & UV_READABLE) {
          std::string why;
          bool alive = ReadSome(&why);
          DispatchBuffered();  // replies that came before a close still count
          if (!alive && gen == generation_) Disconnect(why, true);
        }
      }
      if (gen == generation_) UpdatePoll();
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env_, e.Value());
    } catch (const std::exception& e) {
      Napi::Error::Fatal("switchyard addon", e.what());
    }
    ReleaseIfClosed();
  }
}

bool Client::ReadSome(std::string* why) {
  size_t budget = kReadBudget;
  while (conn_ && budget > 0) {
    // Compact, then make room: grow only toward the length of an
    // incomplete first message.
    if (in_off_ > 0 && (in_off_ == in_len_ || in_len_ == in_cap_)) {
      memmove(in_, in_ + in_off_, in_len_ - in_off_);
      in_len_ -= in_off_;
      in_off_ = 0;
    }
    if (in_len_ == in_cap_) {
      size_t want = kInInitial;
      if (in_len_ >= sizeof(sy_msg_hdr)) {
        sy_msg_hdr h;
        uint32_t mlen;
        char err[8];
        if (sy_msg_frame(in_, in_len_, &h, &mlen, err, sizeof(err)) != SY_FRAME_SHORT)
          return true;  // decode what is here first
        want = mlen;
      }
      size_t cap = in_cap_ ? in_cap_ * 2 : kInInitial;
      if (cap > want) cap = want > kInInitial ? want : kInInitial;
      if (cap <= in_cap_) return true;
      uint8_t* p = static_cast<uint8_t*>(realloc(in_, cap));
      if (!p) {
        *why = "out of memory for a message of the data plane";
        return false;
      }
      in_ = p;
      in_cap_ = cap;
    }
    size_t room = in_cap_ - in_len_;
    if (room > budget) room = budget;
    ssize_t n = recv(conn_->fd, in_ + in_len_, room, MSG_DONTWAIT);
    if (n > 0) {
      in_len_ += (size_t)n;
      budget -= (size_t)n;
      continue;
    }
    if (n == 0) {
      *why = "the data plane closed the connection";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    *why = std::string("read failed: ") + strerror(errno);
    return false;
  }
  return true;
}

void Client::DispatchBuffered() {
  unsigned gen = generation_;
  while (gen == generation_) {
    sy_msg_hdr h;
    uint32_t mlen;
    char err[SY_CODEC_ERR_MAX];
    enum sy_frame_status st =
        sy_msg_frame(in_ + in_off_, in_len_ - in_off_, &h, &mlen, err, sizeof(err));
    if (st == SY_FRAME_SHORT) break;
    if (st == SY_FRAME_FATAL) {
      Disconnect(std::string("protocol error from the data plane: ") + err, true);
      return;
    }
    if (in_off_ % SY_ALIGN) {
      memmove(in_, in_ + in_off_, in_len_ - in_off_);
      in_len_ -= in_off_;
      in_off_ = 0;
    }
    const uint8_t* p = in_ + in_off_;
    in_off_ += mlen;  // consumed before any JS runs
    HandleMessage(p, mlen);
  }
  if (gen == generation_ && in_off_ == in_len_) {
    in_off_ = in_len_ = 0;
    if (in_cap_ > kInKeep) {
      free(in_);
      in_ = nullptr;
      in_cap_ = 0;
    }
  }
}

void Client::HandleMessage(const uint8_t* buf, size_t len) {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  sy_msg m;
  char err[SY_CODEC_ERR_MAX];

  if (sy_msg_parse(buf, len, &m, err, sizeof(err)) < 0) {
    auto it = m.hdr.xid ? pending_.find(m.hdr.xid) : pending_.end();
    if (it != pending_.end()) {
      Pending p = std::move(it->second);
      pending_.erase(it);
      if (!p.failed)
        p.deferred.Reject(
            MakeError(env, "PROTO", -1, std::string("malformed reply from the data plane: ") + err)
                .Value());
    }
    return;
  }
  if (m.hdr.xid == 0) {
    if (m.hdr.flags & SY_MSGF_EVENT) HandleEvent(m);
    return;
  }
  auto it = pending_.find(m.hdr.xid);
  if (it == pending_.end()) return;  // not ours (or already given up on)
  if ((m.hdr.flags & SY_MSGF_MORE) && m.hdr.type != SY_MSG_ERROR) {
    HandlePart(it->second, m);  // the answer goes on: the request stays pending
    return;
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.failed) return;  // rejected on an earlier part
  if (!p.attrs.empty() && m.hdr.type == p.type) {
    // The last part of a reply kept as bytes: decode it whole.
    p.attrs.append(reinterpret_cast<const char*>(m.attrs), m.attrs_len);
    sy_msg whole = m;
    whole.attrs = reinterpret_cast<const uint8_t*>(p.attrs.data());
    whole.attrs_len = p.attrs.size();
    HandleReply(p, whole);
    return;
  }
  HandleReply(p, m);
}

namespace {

Napi::Error ProtoError(Napi::Env env, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, "malformed reply from the data plane: " + msg);
  e.Set("name", Napi::String::New(env, "DpError"));
  e.Set("code", Napi::String::New(env, "PROTO"));
  e.Set("index", Napi::Number::New(env, -1));
  return e;
}

const sy_attr* Need(Napi::Env env, const sy_msg& m, uint16_t t) {
  const sy_attr* a = sy_msg_find(&m, t);
  if (!a) throw ProtoError(env, std::string("missing attribute ") + sy_attr_name(t));
  return a;
}

// Appends the attributes of type t in m to arr (from index *n on).
template <typename T, typename Getter, typename ToJs>
void Collect(Napi::Env env, Napi::Array arr, uint32_t* n, const sy_msg& m, uint16_t t, Getter get,
             ToJs to_js) {
  sy_attr_iter it;
  const sy_attr* a;
  char err[SY_CODEC_ERR_MAX];
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    if (a->type != t) continue;
    T v;
    if (get(a, &v, err, sizeof(err)) < 0) throw ProtoError(env, err);
    arr.Set((*n)++, to_js(env, v));
  }
}

// METER_STATS, each followed by its METER_BANDS and METER_BAND_STATS.
void CollectMeterStats(Napi::Env env, Napi::Array arr, uint32_t* n, const sy_msg& m) {
  sy_attr_iter it;
  const sy_attr* a;
  char err[SY_CODEC_ERR_MAX];
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    if (a->type == SY_A_METER_STATS) {
      sy_meter_stats st;
      if (sy_get_meter_stats(a, &st, err, sizeof(err)) < 0) throw ProtoError(env, err);
      arr.Set((*n)++, MeterStatsToJs(env, st));
    } else if (a->type == SY_A_METER_BANDS && *n > 0) {
      sy_meter_bands b;
      if (sy_get_meter_bands(a, &b, err, sizeof(err)) < 0) throw ProtoError(env, err);
      arr.Get(*n - 1).As<Napi::Object>().Set("bands", MeterBandsToJs(env, b));
    } else if (a->type == SY_A_METER_BAND_STATS && *n > 0) {
      sy_meter_band_stats bs;
      if (sy_get_meter_band_stats(a, &bs, err, sizeof(err)) < 0) throw ProtoError(env, err);
      Napi::Object last = arr.Get(*n - 1).As<Napi::Object>();
      if (last.Get("id").As<Napi::Number>().Uint32Value() == bs.id) last.Set("bandStats", MeterBandStatsToJs(env, bs));
    }
  }
}

// A PORT_VLAN or PORT_NSH_TAG set on port (the PORT_DESC before it) as
// .vlan or .nshTag, if it names that port.
void AttachEdge(Napi::Env env, Napi::Object port, const sy_attr* a) {
  char err[SY_CODEC_ERR_MAX];
  uint32_t id = port.Get("id").As<Napi::Number>().Uint32Value();
  if (a->type == SY_A_PORT_VLAN) {
    std::unique_ptr<sy_port_vlan> v(new sy_port_vlan);
    if (sy_get_port_vlan(a, v.get(), err, sizeof(err)) < 0) throw ProtoError(env, err);
    if (v->port_id == id) port.Set("vlan", PortVlanToJs(env, *v));
  } else {
    sy_port_nsh_tag t;
    if (sy_get_port_nsh_tag(a, &t, err, sizeof(err)) < 0) throw ProtoError(env, err);
    if (t.port_id == id) port.Set("nshTag", PortNshTagToJs(env, t));
  }
}

// PORT_DESCs, each followed by a PORT_BOND if it is a bond port, and its
// PORT_VLAN and PORT_NSH_TAG if it has them.
void CollectPorts(Napi::Env env, Napi::Array arr, uint32_t* n, const sy_msg& m) {
  sy_attr_iter it;
  const sy_attr* a;
  char err[SY_CODEC_ERR_MAX];
  sy_attr_iter_msg(&it, &m);
  while (sy_attr_next(&it, &a) > 0) {
    if (a->type == SY_A_PORT_DESC) {
      sy_port_desc d;
      if (sy_get_port_desc(a, &d, err, sizeof(err)) < 0) throw ProtoError(env, err);
      arr.Set((*n)++, PortDescToJs(env, d));
    } else if ((a->type == SY_A_PORT_VLAN || a->type == SY_A_PORT_NSH_TAG) && *n > 0) {
      AttachEdge(env, arr.Get(*n - 1).As<Napi::Object>(), a);
    } else if (a->type == SY_A_PORT_BOND && *n > 0) {
      std::unique_ptr<sy_port_bond> b(new sy_port_bond);
      if (sy_get_port_bond(a, b.get(), err, sizeof(err)) < 0) throw ProtoError(env, err);
      Napi::Object last = arr.Get(*n - 1).As<Napi::Object>();
      if (last.Get("id").As<Napi::Number>().Uint32Value() == b->port_id)
        last.Set("bond", PortBondToJs(env, *b));
    }
  }
}

// The PORT_BOND of a message with one PORT_DESC, set on port (if any).
void AttachBond(Napi::Env env, Napi::Object port, const sy_msg& m) {
  const sy_attr* a = sy_msg_find(&m, SY_A_PORT_BOND);
  char err[SY_CODEC_ERR_MAX];
  // and the edge settings, which ride the same way
  if (const sy_attr* e = sy_msg_find(&m, SY_A_PORT_VLAN)) AttachEdge(env, port, e);
  if (const sy_attr* e = sy_msg_find(&m, SY_A_PORT_NSH_TAG)) AttachEdge(env, port, e);
  if (!a) return;
  std::unique_ptr<sy_port_bond> b(new sy_port_bond);
  if (sy_get_port_bond(a, b.get(), err, sizeof(err)) < 0) throw ProtoError(env, err);
  port.Set("bond", PortBondToJs(env, *b));
}

// The flows of a dump: the bulk of what crosses here (bulk.h).
void CollectFlows(Napi::Env env, Napi::Array arr, uint32_t* n, const sy_msg& m) {
  try {
    AppendFlowEntries(Ctx(env), arr, n, m);
  } catch (const Napi::Error& e) {
    if (e.Value().Get("code").IsUndefined()) throw ProtoError(env, e.Message());
    throw;
  }
}

int GetFlowEntry(const sy_attr* a, std::pair<sy_flow_mod, sy_flow_stats>* v, char* err,
                 size_t errlen) {
  return sy_get_flow(a, &v->first, &v->second, nullptr, err, errlen);
}


}  // namespace

// The replies that are lists: decoded item by item as their parts come
// (AppendItems).  Every op is named, so that a new one must be classed.
bool Client::IsList(Op op) {
  switch (op) {
    case Op::kPortList:
    case Op::kPortStats:
    case Op::kFlowDump:
    case Op::kTableList:
    case Op::kPmdStats:
    case Op::kCookieStats:
    case Op::kGroupStats:
    case Op::kMeterStats:
    case Op::kMirrorStats:
      return true;
    case Op::kHello:
    case Op::kVoid:
    case Op::kPortDesc:
    case Op::kFlowCount:
    case Op::kTableDesc:
    case Op::kDpStats:
    case Op::kEcho:
    case Op::kTrace:
    case Op::kMeterDesc:
    case Op::kPortQos:
      return false;
  }
  return false;
}

bool Client::AppendItems(Pending& p, const sy_msg& m) {
  Napi::Env env(env_);
  if (!IsList(p.op)) return false;
  if (p.items.IsEmpty()) p.items = Napi::Persistent(Napi::Array::New(env));
  Napi::Array arr = p.items.Value();
  switch (p.op) {
    case Op::kPortList:
      CollectPorts(env, arr, &p.n_items, m);
      break;
    case Op::kPortStats:
      Collect<sy_port_stats>(env, arr, &p.n_items, m, SY_A_PORT_STATS, sy_get_port_stats, PortStatsToJs);
      break;
    case Op::kFlowDump:
      CollectFlows(env, arr, &p.n_items, m);
      break;
    case Op::kTableList:
      Collect<sy_table_desc>(env, arr, &p.n_items, m, SY_A_TABLE_DESC, sy_get_table_desc, TableDescToJs);
      break;
    case Op::kPmdStats:
      Collect<sy_pmd_stats>(env, arr, &p.n_items, m, SY_A_PMD_STATS, sy_get_pmd_stats, PmdStatsToJs);
      break;
    case Op::kCookieStats:
      Collect<sy_cookie_stats>(env, arr, &p.n_items, m, SY_A_COOKIE_STATS, sy_get_cookie_stats,
                               CookieStatsToJs);
      break;
    case Op::kGroupStats:
      Collect<sy_group_stats>(env, arr, &p.n_items, m, SY_A_GROUP_STATS, sy_get_group_stats, GroupStatsToJs);
      break;
    case Op::kMeterStats:
      CollectMeterStats(env, arr, &p.n_items, m);
      break;
    case Op::kMirrorStats:
      Collect<sy_mirror_stats>(env, arr, &p.n_items, m, SY_A_MIRROR_STATS, GetMirrorStats,
                               MirrorStatsToJs);
      break;
    default:
      break;
  }
  return true;
}

void Client::HandlePart(Pending& p, const sy_msg& m) {
  if (p.failed) return;
  Napi::Env env(env_);
  try {
    if (m.hdr.type != p.type)
      throw ProtoError(env, "a " + TypeName(m.hdr.type) + " reply to " + TypeName(p.type));
    if (!AppendItems(p, m)) {  // any other reply is kept as bytes until its last part
      if (p.op == Op::kHello) throw ProtoError(env, "a HELLO reply in parts");
      if (p.attrs.size() + m.attrs_len > SY_MSG_MAX)
        throw ProtoError(env, TypeName(p.type) + " reply over " + std::to_string(SY_MSG_MAX >> 20) + " MB");
      p.attrs.append(reinterpret_cast<const char*>(m.attrs), m.attrs_len);
    }
  } catch (const Napi::Error& e) {
    p.failed = true;
    p.items.Reset();
    std::string().swap(p.attrs);
    p.deferred.Reject(e.Value());
    if (p.op == Op::kHello) Disconnect("bad HELLO reply", true);
  }
}

void Client::HandleReply(Pending& p, const sy_msg& m) {
  Napi::Env env(env_);
  char err[SY_CODEC_ERR_MAX];

  if (m.hdr.type == SY_MSG_ERROR) {
    int code = 0, index = -1;
    char text[SY_ERRMSG_MAX];
    if (sy_get_error(&m, &code, &index, text, sizeof(text), err, sizeof(err)) < 0) {
      p.deferred.Reject(ProtoError(env, err).Value());
    } else {
      p.deferred.Reject(MakeError(env, ErrorName(code), index, text).Value());
    }
    if (p.op == Op::kHello) Disconnect(std::string("HELLO refused: ") + text, true);
    return;
  }
  try {
    if (m.hdr.type != p.type)
      throw ProtoError(env, "a " + TypeName(m.hdr.type) + " reply to " + TypeName(p.type));
    Napi::Value v = env.Undefined();
    if (AppendItems(p, m)) {  // the last part of a list
      p.deferred.Resolve(p.items.Value());
      p.items.Reset();
      return;
    }
    switch (p.op) {
      case Op::kHello: {
        uint32_t ver = 0;
        sy_dp_info info;
        if (sy_attr_get_u32(Need(env, m, SY_A_VERSION), &ver, err, sizeof(err)) < 0 ||
            sy_get_dp_info(Need(env, m, SY_A_DP_INFO), &info, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        if (ver != SY_PROTO_VERSION)
          throw ProtoError(env, "protocol version " + std::to_string(ver));
        v = DpInfoToJs(env, info);
        state_ = State::kOpen;
        OpenSegment(env, m, info.pid, v.As<Napi::Object>());
        break;
      }
      case Op::kVoid:
        break;
      case Op::kPortDesc: {
        sy_port_desc d;
        if (sy_get_port_desc(Need(env, m, SY_A_PORT_DESC), &d, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        v = PortDescToJs(env, d);
        AttachBond(env, v.As<Napi::Object>(), m);
        break;
      }
      case Op::kFlowCount: {
        uint32_t n;
        if (sy_attr_get_u32(Need(env, m, SY_A_FLOW_COUNT), &n, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        v = Napi::Number::New(env, n);
        break;
      }
      case Op::kMeterDesc: {
        sy_meter_desc d;
        if (sy_get_meter_desc(Need(env, m, SY_A_METER_DESC), &d, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        Napi::Object o = MeterDescToJs(env, d);
        if (const sy_attr* ab = sy_msg_find(&m, SY_A_METER_BANDS)) {
          sy_meter_bands bands;
          if (sy_get_meter_bands(ab, &bands, err, sizeof(err)) < 0) throw ProtoError(env, err);
          o.Set("bands", MeterBandsToJs(env, bands));
        }
        v = o;
        break;
      }
      case Op::kPortQos: {
        sy_port_qos q;
        if (sy_get_port_qos(Need(env, m, SY_A_PORT_QOS), &q, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        v = PortQosToJs(env, q);
        break;
      }
      case Op::kTableDesc: {
        sy_table_desc d;
        if (sy_get_table_desc(Need(env, m, SY_A_TABLE_DESC), &d, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        v = TableDescToJs(env, d);
        break;
      }
      case Op::kDpStats: {
        sy_dp_stats s;
        if (sy_get_dp_stats(Need(env, m, SY_A_DP_STATS), &s, err, sizeof(err)) < 0)
          throw ProtoError(env, err);
        v = DpStatsToJs(env, s);
        break;
      }
      case Op::kTrace:
        try {
          v = Napi::Value(env, TraceToJs(Ctx(env), m));
        } catch (const Napi::Error& e) {
          throw ProtoError(env, e.Message());
        }
        break;
      case Op::kEcho: {
        const sy_attr* a = sy_msg_find(&m, SY_A_PACKET);
        if (a)
          v = Napi::Buffer<uint8_t>::Copy(env, (const uint8_t*)sy_attr_payload(a),
                                          sy_attr_payload_len(a));
        else
          v = Napi::Buffer<uint8_t>::New(env, 0);
        break;
      }
      default:  // the lists, answered above
        break;
    }
    p.deferred.Resolve(v);
  } catch (const Napi::Error& e) {
    p.deferred.Reject(e.Value());
    if (p.op == Op::kHello) Disconnect("bad HELLO reply", true);
  }
}

void Client::OpenSegment(Napi::Env env, const sy_msg& m, uint32_t pid, Napi::Object info) {
  const sy_attr* a = sy_msg_find(&m, SY_A_STATS_SEGMENT);
  char err[SY_CODEC_ERR_MAX];
  const char* path = a ? sy_attr_get_str(a, err, sizeof(err)) : nullptr;
  std::string why;

  segment_.Close();
  info.Set("statsSegment", path ? Napi::Value(Napi::String::New(env, path)) : env.Null());
  if (!a)
    stats_error_ = "the data plane publishes no stats segment (it runs with --stats-segment none)";
  else if (!path)
    stats_error_ = std::string("HELLO's stats segment: ") + err;
  else
    stats_error_ = segment_.Open(path, pid, &why) ? "" : why;
}

void Client::HandleEvent(const sy_msg& m) {
  Napi::Env env(env_);
  char err[SY_CODEC_ERR_MAX];
  uint32_t reason = 0;
  Napi::Object ev = Napi::Object::New(env);

  // An event we cannot decode is dropped: there is no one to tell.
  switch (m.hdr.type) {
    case SY_MSG_PORT_STATUS: {
      static const char* const reasons[] = {"add", "delete", "modify", "link"};
      const sy_attr* d = sy_msg_find(&m, SY_A_PORT_DESC);
      const sy_attr* r = sy_msg_find(&m, SY_A_PORT_REASON);
      sy_port_desc desc;
      if (!d || !r || sy_get_port_desc(d, &desc, err, sizeof(err)) < 0 ||
          sy_attr_get_u32(r, &reason, err, sizeof(err)) < 0 || reason > SY_PR_LINK)
        return;
      ev.Set("type", "port_status");
      ev.Set("reason", reasons[reason]);
      Napi::Object port = PortDescToJs(env, desc);
      try {
        AttachBond(env, port, m);
      } catch (const Napi::Error&) {
        return;
      }
      ev.Set("port", port);
      break;
    }
    case SY_MSG_FLOW_REMOVED: {
      static const char* const reasons[] = {"idle_timeout", "hard_timeout", "delete"};
      const sy_attr* f = sy_msg_find(&m, SY_A_FLOW);
      const sy_attr* r = sy_msg_find(&m, SY_A_FLOW_REASON);
      std::unique_ptr<std::pair<sy_flow_mod, sy_flow_stats>> v(
          new std::pair<sy_flow_mod, sy_flow_stats>());
      if (!f || !r || GetFlowEntry(f, v.get(), err, sizeof(err)) < 0 ||
          sy_attr_get_u32(r, &reason, err, sizeof(err)) < 0 || reason > 2)
        return;
      ev.Set("type", "flow_removed");
      ev.Set("reason", reasons[reason]);
      ev.Set("flow", Napi::Value(env, FlowEntryToJs(Ctx(env), v->first, v->second)));
      break;
    }
    case SY_MSG_PACKET_IN: {
      const sy_attr* port = sy_msg_find(&m, SY_A_PORT_ID);
      const sy_attr* table = sy_msg_find(&m, SY_A_TABLE_ID);
      const sy_attr* hdr = sy_msg_find(&m, SY_A_FLOW_HDR);
      const sy_attr* pkt = sy_msg_find(&m, SY_A_PACKET);
      const sy_attr* why = sy_msg_find(&m, SY_A_PIN_REASON);
      const sy_attr* total = sy_msg_find(&m, SY_A_PIN_TOTAL_LEN);
      uint32_t port_id = 0, table_id = 0, pin_reason = SY_PIN_ACTION, total_len = 0;
      sy_flow_hdr fh;
      memset(&fh, 0, sizeof(fh));
      if (!port || !pkt || sy_attr_get_u32(port, &port_id, err, sizeof(err)) < 0) return;
      if (table && sy_attr_get_u32(table, &table_id, err, sizeof(err)) < 0) return;
      if (hdr && sy_attr_get_fixed(hdr, &fh, sizeof(fh), err, sizeof(err)) < 0) return;
      if (why && (sy_attr_get_u32(why, &pin_reason, err, sizeof(err)) < 0 ||
                  pin_reason > SY_PIN_ACTION))
        return;
      if (total && sy_attr_get_u32(total, &total_len, err, sizeof(err)) < 0) return;
      if (!total) total_len = sy_attr_payload_len(pkt);  // a data plane that did not say
      ev.Set("type", "packet_in");
      ev.Set("port", port_id);
      ev.Set("table", table_id);
      ev.Set("cookie", Napi::BigInt::New(env, fh.cookie));
      ev.Set("reason", pin_reason == SY_PIN_NO_MATCH ? "no_match" : "action");
      ev.Set("totalLen", total_len);
      ev.Set("packet", Napi::Buffer<uint8_t>::Copy(env, (const uint8_t*)sy_attr_payload(pkt),
                                                   sy_attr_payload_len(pkt)));
      break;
    }
    default:
      return;  // an event of a later version
  }
  Emit("event", ev);
}

// --------------------------------------------------------------------------
// Requests

namespace {

Napi::Object ArgObject(Napi::Env env, const char* where, Napi::Value v) {
  if (!v.IsObject() || v.IsArray())
    throw Napi::TypeError::New(env, std::string(where) + ": expected an object");
  return v.As<Napi::Object>();
}

void PutString(Napi::Env env, sy_msgbuf* b, uint16_t t, const std::string& where,
               const std::string& s, size_t max) {
  if (s.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, where + ": contains a NUL character");
  if (s.size() >= max)
    throw Napi::RangeError::New(env, where + ": '" + s + "' is longer than " +
                                         std::to_string(max - 1) + " bytes");
  sy_msg_put_str(b, t, s.c_str());
}

// Rx queues of a port: 1..SY_PORT_RXQ_MAX.
uint32_t GetRxq(Napi::Env env, const char* where, Napi::Value v) {
  uint64_t n = GetUint(env, where, v, 0xffffffffu);
  if (n == 0 || n > SY_PORT_RXQ_MAX)
    throw Napi::RangeError::New(env, std::string(where) + ": " + std::to_string(n) +
                                         " is out of range 1.." + std::to_string(SY_PORT_RXQ_MAX));
  return (uint32_t)n;
}

// The index of s in names[n], or a RangeError naming where and the choices.
uint32_t OneOf(Napi::Env env, const std::string& where, const std::string& s,
               const char* const* names, uint32_t n) {
  std::string all;
  for (uint32_t i = 0; i < n; i++) {
    if (s == names[i]) return i;
    all += (i ? ", " : "") + std::string(names[i]);
  }
  throw Napi::RangeError::New(env, where + ": '" + s + "' is not one of " + all);
}

// where.vlan {mode: none|access|trunk, tag?, trunks?: VIDs, native?} as a
// PORT_VLAN; the data plane checks how they go together (edge.h).
void PutVlan(Napi::Env env, sy_msgbuf* b, const std::string& where, Napi::Object v) {
  sy_port_vlan pv = {};
  std::string mode = GetString(env, where + ".mode", v.Get("mode"));
  pv.mode = (uint8_t)OneOf(env, where + ".mode", mode, kVlanModes, 3);
  pv.tag = (uint16_t)GetUintOpt(env, where + ".tag", v, "tag", 4095, 0);
  pv.native = (uint16_t)GetUintOpt(env, where + ".native", v, "native", 4095, 0);
  Napi::Value tv = v.Get("trunks");
  if (!tv.IsUndefined() && !tv.IsNull()) {
    if (!tv.IsArray()) throw Napi::TypeError::New(env, where + ".trunks: expected an array of VIDs");
    Napi::Array t = tv.As<Napi::Array>();
    for (uint32_t i = 0; i < t.Length(); i++) {
      uint64_t vid = GetUint(env, where + ".trunks[" + std::to_string(i) + "]", t.Get(i), 4095);
      pv.trunks[vid >> 6] |= 1ull << (vid & 63);
    }
  }
  sy_msg_put(b, SY_A_PORT_VLAN, &pv, sizeof(pv));
}

// where.nshTag {spi, si?, ttl?, mdtype?, context?[4]} as a PORT_NSH_TAG;
// null clears it.
void PutNshTag(Napi::Env env, sy_msgbuf* b, const std::string& where, Napi::Value v) {
  sy_port_nsh_tag t = {};
  if (!v.IsNull()) {
    Napi::Object o = ArgObject(env, where.c_str(), v);
    t.enabled = 1;
    if (o.Get("spi").IsUndefined()) throw Napi::TypeError::New(env, where + ".spi: missing");
    t.spi = (uint32_t)GetUint(env, where + ".spi", o.Get("spi"), SY_NSH_MAX_SPI);
    t.si = (uint8_t)GetUintOpt(env, where + ".si", o, "si", 255, 255);
    t.ttl = (uint8_t)GetUintOpt(env, where + ".ttl", o, "ttl", 63, 63);
    t.mdtype = (uint8_t)GetUintOpt(env, where + ".mdtype", o, "mdtype", 2, 1);
    Napi::Value cv = o.Get("context");
    if (!cv.IsUndefined() && !cv.IsNull()) {
      if (!cv.IsArray() || cv.As<Napi::Array>().Length() > 4)
        throw Napi::TypeError::New(env, where + ".context: expected up to 4 numbers (c1..c4)");
      Napi::Array c = cv.As<Napi::Array>();
      for (uint32_t i = 0; i < c.Length(); i++)
        t.ctx[i] = (uint32_t)GetUint(env, where + ".context[" + std::to_string(i) + "]", c.Get(i), 0xffffffffu);
    }
  }
  sy_msg_put(b, SY_A_PORT_NSH_TAG, &t, sizeof(t));
}

// req.bond {mode, members, xmitPolicy?, primary?} as BOND_* attributes.
void PutBond(Napi::Env env, sy_msgbuf* b, Napi::Object bond) {
  std::string mode = GetString(env, "req.bond.mode", bond.Get("mode"));
  sy_msg_put_u32(b, SY_A_BOND_MODE, OneOf(env, "req.bond.mode", mode, kBondModes, 4));
  Napi::Value xp = bond.Get("xmitPolicy");
  if (!xp.IsUndefined()) {
    std::string s = GetString(env, "req.bond.xmitPolicy", xp);
    sy_msg_put_u32(b, SY_A_BOND_XMIT_POLICY,
                   OneOf(env, "req.bond.xmitPolicy", s, kBondXmitPolicies, 3));
  }
  Napi::Value pr = bond.Get("primary");
  if (!pr.IsUndefined()) {
    std::string s = GetString(env, "req.bond.primary", pr);
    if (!s.empty()) PutString(env, b, SY_A_BOND_PRIMARY, "req.bond.primary", s, SY_NAME_MAX);
  }
  Napi::Value mv = bond.Get("members");
  if (!mv.IsArray()) throw Napi::TypeError::New(env, "req.bond.members: expected an array");
  Napi::Array members = mv.As<Napi::Array>();
  if (members.Length() == 0 || members.Length() > SY_BOND_MEMBERS_MAX)
    throw Napi::RangeError::New(env, "req.bond.members: " + std::to_string(members.Length()) +
                                         " members, expected 1.." +
                                         std::to_string(SY_BOND_MEMBERS_MAX));
  for (uint32_t i = 0; i < members.Length(); i++) {
    std::string where = "req.bond.members[" + std::to_string(i) + "]";
    std::string d = GetString(env, where, members.Get(i));
    if (d.empty()) throw Napi::RangeError::New(env, where + ": empty");
    PutString(env, b, SY_A_BOND_MEMBER, where, d, SY_DEVARGS_MAX);
  }
}

}  // namespace

Napi::Value Client::PortAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object req = ArgObject(env, "req", info[0]);
  std::string name = GetString(env, "req.name", req.Get("name"));
  std::string devargs = GetString(env, "req.devargs", req.Get("devargs"));
  if (name.empty()) throw Napi::RangeError::New(env, "req.name: empty");
  if (devargs.empty()) throw Napi::RangeError::New(env, "req.devargs: empty");
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, xid);
  try {
    PutString(env, &b, SY_A_PORT_NAME, "req.name", name, SY_NAME_MAX);
    PutString(env, &b, SY_A_PORT_DEVARGS, "req.devargs", devargs, SY_DEVARGS_MAX);
    if (!req.Get("id").IsUndefined())
      sy_msg_put_u32(&b, SY_A_PORT_ID, (uint32_t)GetUint(env, "req.id", req.Get("id"), SY_MAX_PORT_ID));
    if (!req.Get("mtu").IsUndefined()) {
      uint64_t mtu = GetUint(env, "req.mtu", req.Get("mtu"), 0xffff);
      if (mtu == 0) throw Napi::RangeError::New(env, "req.mtu: 0 is out of range 1..65535");
      sy_msg_put_u32(&b, SY_A_PORT_MTU, (uint32_t)mtu);
    }
    Napi::Value admin = req.Get("adminUp");
    if (!admin.IsUndefined()) {
      if (!admin.IsBoolean()) throw Napi::TypeError::New(env, "req.adminUp: expected a boolean");
      sy_msg_put_u32(&b, SY_A_PORT_ADMIN, admin.As<Napi::Boolean>().Value() ? 1 : 0);
    }
    if (!req.Get("nRxq").IsUndefined())
      sy_msg_put_u32(&b, SY_A_PORT_RXQ, GetRxq(env, "req.nRxq", req.Get("nRxq")));
    if (!req.Get("bond").IsUndefined()) PutBond(env, &b, ArgObject(env, "req.bond", req.Get("bond")));
    if (!req.Get("vlan").IsUndefined()) PutVlan(env, &b, "req.vlan", ArgObject(env, "req.vlan", req.Get("vlan")));
    if (!req.Get("nshTag").IsUndefined()) PutNshTag(env, &b, "req.nshTag", req.Get("nshTag"));
  } catch (...) {
    sy_msg_free(&b);
    throw;
  }
  return Request(env, &b, xid, SY_MSG_PORT_ADD, Op::kPortDesc);
}

Napi::Value Client::PortDel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = (uint32_t)GetUint(env, "id", info[0], 0xffffffffu);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_DEL, 0, xid);
  sy_msg_put_u32(&b, SY_A_PORT_ID, id);
  return Request(env, &b, xid, SY_MSG_PORT_DEL, Op::kVoid);
}

Napi::Value Client::PortMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = (uint32_t)GetUint(env, "id", info[0], 0xffffffffu);
  Napi::Object change = info[1].IsUndefined() ? Napi::Object::New(env)
                                               : ArgObject(env, "change", info[1]);
  sy_msgbuf b = {};
  uint32_t mtu = 0;
  int admin = -1;
  if (!change.Get("mtu").IsUndefined()) {
    mtu = (uint32_t)GetUint(env, "change.mtu", change.Get("mtu"), 0xffff);
    if (mtu == 0) throw Napi::RangeError::New(env, "change.mtu: 0 is out of range 1..65535");
  }
  Napi::Value a = change.Get("adminUp");
  if (!a.IsUndefined()) {
    if (!a.IsBoolean()) throw Napi::TypeError::New(env, "change.adminUp: expected a boolean");
    admin = a.As<Napi::Boolean>().Value() ? 1 : 0;
  }
  uint32_t rxq = 0;
  if (!change.Get("nRxq").IsUndefined()) rxq = GetRxq(env, "change.nRxq", change.Get("nRxq"));
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_MOD, 0, xid);
  sy_msg_put_u32(&b, SY_A_PORT_ID, id);
  if (mtu) sy_msg_put_u32(&b, SY_A_PORT_MTU, mtu);
  if (admin >= 0) sy_msg_put_u32(&b, SY_A_PORT_ADMIN, (uint32_t)admin);
  if (rxq) sy_msg_put_u32(&b, SY_A_PORT_RXQ, rxq);
  try {
    if (!change.Get("vlan").IsUndefined())
      PutVlan(env, &b, "change.vlan", ArgObject(env, "change.vlan", change.Get("vlan")));
    if (!change.Get("nshTag").IsUndefined()) PutNshTag(env, &b, "change.nshTag", change.Get("nshTag"));
  } catch (...) {
    sy_msg_free(&b);
    throw;
  }
  return Request(env, &b, xid, SY_MSG_PORT_MOD, Op::kPortDesc);
}

Napi::Value Client::PortList(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_PORT_LIST, Op::kPortList);
}

Napi::Value Client::PortStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = info[0].IsUndefined() ? 0 : (uint32_t)GetUint(env, "id", info[0], 0xffffffffu);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_STATS, 0, xid);
  if (id) sy_msg_put_u32(&b, SY_A_PORT_ID, id);
  return Request(env, &b, xid, SY_MSG_PORT_STATS, Op::kPortStats);
}

Napi::Value Client::PortStatsClear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = info[0].IsUndefined() ? 0 : (uint32_t)GetUint(env, "id", info[0], 0xffffffffu);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PORT_STATS_CLEAR, 0, xid);
  if (id) sy_msg_put_u32(&b, SY_A_PORT_ID, id);
  return Request(env, &b, xid, SY_MSG_PORT_STATS_CLEAR, Op::kVoid);
}

Napi::Value Client::FlowMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "mods: expected an array of flow-mods");
  Napi::Array mods = info[0].As<Napi::Array>();
  uint32_t n = mods.Length();
  if (n > SY_FLOW_BATCH_MAX)
    throw Napi::RangeError::New(env, "mods: " + std::to_string(n) + " flow-mods in one batch, at most " +
                                         std::to_string(SY_FLOW_BATCH_MAX));
  if (n == 0) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Resolve(Napi::Number::New(env, 0));
    return d.Promise();
  }
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, xid);
  try {
    PutFlowModsBulk(Ctx(env), mods, n, &b);
  } catch (...) {
    sy_msg_free(&b);
    throw;
  }
  return Request(env, &b, xid, SY_MSG_FLOW_MOD, Op::kFlowCount);
}

Napi::Value Client::FlowDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<sy_flow_mod> fm(new sy_flow_mod());
  bool filter = !info[0].IsUndefined() && !info[0].IsNull();
  if (filter) FlowModFromJs(Ctx(env), "filter", info[0], fm.get(), true);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_FLOW_DUMP, 0, xid);
  if (filter) sy_put_flow(&b, fm.get(), nullptr);
  return Request(env, &b, xid, SY_MSG_FLOW_DUMP, Op::kFlowDump);
}

Napi::Value Client::TableList(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_TABLE_LIST, Op::kTableList);
}

Napi::Value Client::TableMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sy_table_desc d;
  TableModFromJs(env, "desc", info[0], &d);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_TABLE_MOD, 0, xid);
  sy_put_table_desc(&b, &d);
  return Request(env, &b, xid, SY_MSG_TABLE_MOD, Op::kTableDesc);
}

Napi::Value Client::DpStats(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_DP_STATS, Op::kDpStats);
}

Napi::Value Client::PmdStats(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_PMD_STATS, Op::kPmdStats);
}

Napi::Value Client::PmdStatsClear(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_PMD_STATS_CLEAR, Op::kVoid);
}

Napi::Value Client::Barrier(const Napi::CallbackInfo& info) {
  return BareRequest(info.Env(), SY_MSG_BARRIER, Op::kVoid);
}

Napi::Value Client::ReadStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string why;

  if (state_ != State::kOpen || !segment_.mapped()) return env.Null();  // stats_error_ says why
  if (!snap_) snap_.reset(new sy_stats_segment());
  if (!segment_.Read(snap_.get(), &why)) {
    stats_error_ = why;
    return env.Null();
  }
  stats_error_.clear();
  return StatsSnapshotToJs(env, *snap_);
}

Napi::Value Client::GetStatsError(const Napi::CallbackInfo& info) {
  if (stats_error_.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), stats_error_);
}

Napi::Value Client::FlowCookieStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t limit = 0;  // the data plane's default
  if (!info[0].IsUndefined()) {
    limit = (uint32_t)GetUint(env, "limit", info[0], SY_COOKIE_LIMIT_MAX);
    if (limit == 0)
      throw Napi::RangeError::New(env, "limit: 0 is out of range 1.." + std::to_string(SY_COOKIE_LIMIT_MAX));
  }
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_FLOW_COOKIE_STATS, 0, xid);
  if (limit) sy_msg_put_u32(&b, SY_A_COOKIE_LIMIT, limit);
  return Request(env, &b, xid, SY_MSG_FLOW_COOKIE_STATS, Op::kCookieStats);
}

// groupMod({ command, id, type, fields?, buckets }): GROUP_MOD (proto.h, "Groups").
Napi::Value Client::GroupMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<sy_group_mod> gm(new sy_group_mod());
  GroupModFromJs(Ctx(env), "group", info[0], gm.get());
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_GROUP_MOD, 0, xid);
  sy_put_group_mod(&b, gm.get());
  return Request(env, &b, xid, SY_MSG_GROUP_MOD, Op::kVoid);
}

// groupStats(id?): GROUP_STATS of one group or of every group.
Napi::Value Client::GroupStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_GROUP_STATS, 0, xid);
  if (!info[0].IsUndefined() && !info[0].IsNull())
    sy_msg_put_u32(&b, SY_A_GROUP_ID, (uint32_t)GetUint(env, "id", info[0], SY_GROUP_ID_MAX));
  return Request(env, &b, xid, SY_MSG_GROUP_STATS, Op::kGroupStats);
}

// trace(inPort, frame): TRACE (proto.h, "Packet trace").
Napi::Value Client::Trace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t port = GetUint(env, "inPort", info[0], SY_MAX_PORT_ID);
  if (port == 0) throw Napi::RangeError::New(env, "inPort: 0 is not a port number (1.." + std::to_string(SY_MAX_PORT_ID) + ")");
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(env, "frame: expected a Buffer");
  Napi::Buffer<uint8_t> frame = info[1].As<Napi::Buffer<uint8_t>>();
  if (frame.Length() == 0 || frame.Length() > SY_TRACE_FRAME_MAX)
    throw Napi::RangeError::New(env, "frame: " + std::to_string(frame.Length()) + " bytes, expected 1.." +
                                         std::to_string(SY_TRACE_FRAME_MAX));
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_TRACE, 0, xid);
  sy_msg_put_u32(&b, SY_A_PORT_ID, (uint32_t)port);
  sy_msg_put(&b, SY_A_PACKET, frame.Data(), frame.Length());
  return Request(env, &b, xid, SY_MSG_TRACE, Op::kTrace);
}

// packetOut(inPort | null, frame, actions): PACKET_OUT (proto.h, "Packet-out").
// The data plane checks the rest (ports, MTUs, which actions).
Napi::Value Client::PacketOut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool has_port = !info[0].IsNull() && !info[0].IsUndefined();
  uint64_t port = has_port ? GetUint(env, "inPort", info[0], SY_MAX_PORT_ID) : 0;
  if (has_port && port == 0)
    throw Napi::RangeError::New(env, "inPort: 0 is not a port number (1.." + std::to_string(SY_MAX_PORT_ID) + ")");
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(env, "frame: expected a Buffer");
  Napi::Buffer<uint8_t> frame = info[1].As<Napi::Buffer<uint8_t>>();
  if (frame.Length() == 0 || frame.Length() > SY_TRACE_FRAME_MAX)
    throw Napi::RangeError::New(env, "frame: " + std::to_string(frame.Length()) + " bytes, expected 1.." +
                                         std::to_string(SY_TRACE_FRAME_MAX));
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "actions: expected an array");
  Napi::Array acts = info[2].As<Napi::Array>();
  if (acts.Length() == 0 || acts.Length() > SY_MAX_ACTIONS)
    throw Napi::RangeError::New(env, "actions: " + std::to_string(acts.Length()) + " actions, expected 1.." +
                                         std::to_string(SY_MAX_ACTIONS));
  std::vector<sy_action> a(acts.Length());
  Ctx c(env);
  for (uint32_t i = 0; i < acts.Length(); i++) ActionFromJs(c, Path(Path("actions"), i), acts.Get(i), &a[i]);
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_PACKET_OUT, 0, xid);
  if (has_port) sy_msg_put_u32(&b, SY_A_PORT_ID, (uint32_t)port);
  sy_msg_put(&b, SY_A_PACKET, frame.Data(), frame.Length());
  for (const sy_action& x : a) sy_msg_put(&b, SY_A_FLOW_ACTION, &x, sizeof(x));
  return Request(env, &b, xid, SY_MSG_PACKET_OUT, Op::kVoid);
}

Napi::Value Client::Echo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sy_msgbuf b = {};
  uint32_t xid = NextXid();
  sy_msg_begin(&b, SY_MSG_ECHO, 0, xid);
  if (!info[0].IsUndefined()) {
    if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "data: expected a Buffer");
    Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
    sy_msg_put(&b, SY_A_PACKET, buf.Data(), buf.Length());
  }
  return Request(env, &b, xid, SY_MSG_ECHO, Op::kEcho);
}

}  // namespace sy
