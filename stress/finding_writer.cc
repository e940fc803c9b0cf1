#include "stress/finding_writer.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "stress/atomic_file.h"
#include "stress/campaign_json.h"

namespace hvo::stress {

namespace {

// FNV-1a, 64 bits: stable across builds and platforms (std::hash is not),
// so that the same configuration gets the same name everywhere.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char ch : s) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Only characters every file system and shell take unquoted; '/' (in race
// ids) and anything else become '_'.
std::string name_safe(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    out += ok ? ch : '_';
  }
  return out;
}

}  // namespace

std::string finding_stem(const CampaignConfig& c, uint64_t seed) {
  std::string reverts;
  for (const std::string& r : c.reverts) reverts += (reverts.empty() ? "" : "+") + r;
  const bool controlled = c.mode == CampaignMode::kControlled;
  std::string words = fmt::format("{}-{}-{}-{}-{}", c.model, reverts.empty() ? "fixed" : reverts, c.workload,
                                  controlled ? sched::to_string(c.strategy) : "free",
                                  controlled ? sched::to_string(c.memory_model) : "threads");
  // The words are for people; the hash keeps the name unique. Cut them so
  // that the name stays far below NAME_MAX (255) with any suffix.
  constexpr size_t kMaxWords = 160;
  words = name_safe(words).substr(0, kMaxWords);
  return fmt::format("finding-{}-seed{}-{:08x}", words, seed,
                     static_cast<uint32_t>(fnv1a(c.command_line()) >> 32));
}

std::string FindingWriter::prepare() const { return prepare_directory(config_.out_dir); }

void FindingWriter::write(const Violation& v) {
  ++seen_;
  log_ << "hvo-stress: violation: " << v.to_string() << "\n";
  if (files_.size() >= kMaxFiles) {
    log_ << "hvo-stress: (finding " << seen_ << " not saved: " << kMaxFiles << " files already written)\n";
    return;
  }
  // A later finding of the same campaign takes the next free suffix (-2, ...).
  const AtomicWriteResult w = write_new_file(config_.out_dir, finding_stem(config_, config_.seed), ".json",
                                             boost::json::serialize(replay_json(config_, v)) + "\n");
  if (!w.ok()) {
    log_ << "hvo-stress: finding not saved: " << w.error << "; the finding is above, replay with:\n";
  } else {
    files_.push_back(w.path);
    log_ << "hvo-stress: saved " << w.path << "\n";
  }
  log_ << "hvo-stress: replay: " << config_.command_line() << "\n";
  log_.flush();
}

}  // namespace hvo::stress
