#include "guard/output_filter.h"

#include <algorithm>

namespace hearth::guard {
namespace {

// Text is released in steps of at least this many bytes beyond the window, so the scanners
// run once per step (about 8 tokens) and not once per token.
constexpr size_t kReleaseStep = 32;
// Released text kept in front of what is scanned, so a phrase that straddles the release
// point is still recognised (the window itself is sized so that this should not happen).
constexpr size_t kContextBytes = 64;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

OutputFilter::OutputFilter(std::shared_ptr<const Guard> guard) : guard_(std::move(guard)) {}

OutputFilter::Result OutputFilter::on_event(engine::Event event) {
  Result r;
  if (event.kind == engine::Event::Kind::Delta) {
    if (blocked_) return r;  // generated before the cancel took effect: never shown
    pending_ += event.text;
    attachments_.push_back({pending_.size(), std::move(event.token_ids), std::move(event.logprobs),
                            std::move(event.top_logprobs)});
    const size_t window = guard_->window_bytes();
    if (pending_.size() < window + kReleaseStep) return r;
    if (scan(r)) return r;
    size_t n = pending_.size() > window ? pending_.size() - window : 0;
    while (n > 0 && n < pending_.size() && is_continuation(pending_[n])) --n;
    if (n > 0) release(n, r);
    return r;
  }
  // Finished or Error: whatever is held back is judged now, with nothing after it.
  if (blocked_) {
    if (event.kind == engine::Event::Kind::Finished) event.finish_reason = "content_filter";
    r.events.push_back(std::move(event));
    return r;
  }
  if (!pending_.empty() && scan(r)) {
    if (event.kind == engine::Event::Kind::Finished) event.finish_reason = "content_filter";
    r.cancel = false;  // the request has already ended
    r.events.push_back(std::move(event));
    return r;
  }
  if (!pending_.empty()) release(pending_.size(), r);
  r.events.push_back(std::move(event));
  return r;
}

bool OutputFilter::scan(Result& r) {
  const std::string text = context_ + pending_;
  const Findings findings = guard_->scan(text);
  const Decision d = guard_->decide(text, findings, Direction::Output);
  const size_t context_start = released_total_ - context_.size();  // absolute offset of text[0]
  std::vector<Finding> redactions;
  for (const auto& item : d.items) {
    // Findings wholly in released text were decided when they were held back.
    if (item.finding.end <= context_.size() && item.finding.end > item.finding.begin) continue;
    if (reported_.insert({context_start + item.finding.begin, item.finding.rule}).second)
      r.new_items.push_back(item);
    if (item.action == Action::Redact && item.finding.begin >= context_.size()) {
      Finding f = item.finding;
      f.begin -= context_.size();
      f.end -= context_.size();
      redactions.push_back(std::move(f));
    }
  }
  if (d.blocked()) {
    blocked_ = true;
    r.cancel = true;
    pending_.clear();
    attachments_.clear();
    return true;
  }
  if (redactions.empty()) return false;
  // Redact pending_ and move the attachments' ends with the text they belong to.
  std::sort(redactions.begin(), redactions.end(),
            [](const Finding& a, const Finding& b) { return a.begin > b.begin; });  // back to front
  size_t last_begin = pending_.size() + 1;
  for (const Finding& f : redactions) {
    if (f.end > last_begin) continue;  // overlaps one already replaced
    last_begin = f.begin;
    pending_.replace(f.begin, f.end - f.begin, f.placeholder);
    const auto delta = static_cast<ptrdiff_t>(f.placeholder.size()) - static_cast<ptrdiff_t>(f.end - f.begin);
    for (Attachment& a : attachments_) {
      if (a.end >= f.end) a.end = static_cast<size_t>(static_cast<ptrdiff_t>(a.end) + delta);
      else if (a.end > f.begin) a.end = f.begin + f.placeholder.size();
    }
  }
  return false;
}

void OutputFilter::release(size_t n, Result& r) {
  engine::Event e;
  e.kind = engine::Event::Kind::Delta;
  e.text = pending_.substr(0, n);
  while (!attachments_.empty() && attachments_.front().end <= n) {
    Attachment& a = attachments_.front();
    e.token_ids.insert(e.token_ids.end(), a.ids.begin(), a.ids.end());
    std::move(a.logprobs.begin(), a.logprobs.end(), std::back_inserter(e.logprobs));
    std::move(a.top.begin(), a.top.end(), std::back_inserter(e.top_logprobs));
    attachments_.pop_front();
  }
  for (Attachment& a : attachments_) a.end -= n;
  pending_.erase(0, n);
  released_total_ += n;
  context_ += e.text;
  if (context_.size() > kContextBytes) {
    size_t cut = context_.size() - kContextBytes;
    while (cut < context_.size() && is_continuation(context_[cut])) ++cut;
    context_.erase(0, cut);
  }
  r.events.push_back(std::move(e));
}

}  // namespace hearth::guard
