// Moderation of a streamed answer. Text is released to the client only once the scanners
// have seen it with at least window_bytes() of text after it (or the answer ended), so a
// phrase that the policy blocks is caught while still held back: the filter drops what it
// holds, asks for the request to be cancelled, and the engine's final event goes out with
// finish_reason "content_filter". Redactions are applied before release. Deltas are merged
// and split at release points; token ids and logprobs travel with the piece that releases
// the last byte of their text.
#pragma once
#include <cstddef>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "guard/pipeline.h"

namespace hearth::guard {

class OutputFilter {
 public:
  explicit OutputFilter(std::shared_ptr<const Guard> guard);

  struct Result {
    std::vector<engine::Event> events;      // to pass on, in order
    std::vector<Decision::Item> new_items;  // decisions made now (each finding once), to log
    bool cancel = false;                    // blocked now: cancel the request in the engine
  };
  // Feed every engine event in order.
  Result on_event(engine::Event event);
  bool blocked() const { return blocked_; }

 private:
  struct Attachment {  // the ids/logprobs of one delta, due once `end` bytes are released
    size_t end;
    std::vector<int32_t> ids;
    std::vector<engine::TokenLogprob> logprobs;
    std::vector<std::vector<engine::TokenLogprob>> top;
  };
  // Scans context_ + pending_, records new decisions, applies redactions; true if blocked.
  bool scan(Result& r);
  // Releases pending_[0, n) (n at a character boundary) as one Delta.
  void release(size_t n, Result& r);

  std::shared_ptr<const Guard> guard_;
  std::string pending_;   // held back
  std::string context_;   // the tail of released text, so phrases across the edge are seen
  std::deque<Attachment> attachments_;
  size_t released_total_ = 0;  // bytes released so far (absolute offset of pending_[0])
  std::set<std::pair<size_t, std::string>> reported_;  // (absolute begin, rule) logged once
  bool blocked_ = false;
};

}  // namespace hearth::guard
