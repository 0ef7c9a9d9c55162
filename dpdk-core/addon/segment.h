// SPDX-License-Identifier: BSD-3-Clause
//
// segment.h — the addon's reader of the data plane's stats segment
// (<switchyard/stats_segment.h>).
//
// What?
//   After HELLO the client maps the file HELLO names, read-only, and
//   checks that it is a segment of this layout (magic, version, sizes) and
//   of the data plane it said HELLO to (pid).  Read() copies a consistent
//   snapshot out of it under the seqlock: the header, the totals and the
//   first n_ports / n_tables / n_pmds records (a few KB, not the whole
//   file), retrying while a publish is under way, for at most kReadTries
//   tries or kReadBudgetNs.  The data plane never waits for us and never
//   hears of us.  StatsSnapshotToJs() turns a copy into the StatsSnapshot
//   of src/mgmt/addon-types.ts.
//
// Lifetime
//   The mapping lives until Close(): the client closes it when its
//   connection ends (close(), a lost connection, Node shutting down).  A
//   restarted data plane makes a new file, which the next HELLO names.
//
// Threads
//   Node's main thread (the client's), like the rest of the client.
#ifndef SWITCHYARD_ADDON_SEGMENT_H
#define SWITCHYARD_ADDON_SEGMENT_H

#include <napi.h>

#include <cstdint>
#include <string>

#include <switchyard/stats_segment.h>

namespace sy {

class StatsSegment {
 public:
  StatsSegment() = default;
  ~StatsSegment() { Close(); }
  StatsSegment(const StatsSegment&) = delete;
  StatsSegment& operator=(const StatsSegment&) = delete;

  // Maps path read-only; true, or false with *why saying what is wrong
  // (it cannot be opened, is not a segment of this layout, or belongs to
  // another process than pid).
  bool Open(const std::string& path, uint32_t pid, std::string* why);
  void Close();
  bool mapped() const { return map_ != nullptr; }

  // Copies a consistent snapshot into *out (header, totals and the valid
  // records only); false with *why when every try met a publish under way,
  // or the data plane has stopped.
  bool Read(sy_stats_segment* out, std::string* why) const;

 private:
  const sy_stats_segment* map_ = nullptr;
  std::string path_;
};

// The StatsSnapshot of addon-types.ts: timeNs, rxPackets, txPackets, drops
// by name, ports (PortStats and linkUp), tables, pmds (PmdStats).
Napi::Object StatsSnapshotToJs(Napi::Env env, const sy_stats_segment& s);

}  // namespace sy

#endif  // SWITCHYARD_ADDON_SEGMENT_H
