// Writes each finding of a campaign out the moment it is recorded: a replay
// file (JSON: the full configuration, the seed, the violation and the command
// that runs it again) in the --out directory, and the same command on
// stderr. "A campaign never loses a finding": this runs before the thread
// that found it does anything else, and a file is never overwritten
// (atomic_file.h): each gets a name of its own, a whole file or none.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "engine/violation.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

// The name (without directory and ".json") of a finding of `c` whose
// execution ran from `seed`: what it is (mode, model, reverts, workload,
// strategy, memory model, seed) in words a person can scan, then 8 hex
// digits of a hash of c.command_line() (every flag that defines the
// campaign), so that findings of different configurations never share a
// name even where the words are cut short.
//   finding-v7.1-flush-before-free-mixed-random-sc-seed1-3fa9c2d1
[[nodiscard]] std::string finding_stem(const CampaignConfig& c, uint64_t seed);

class FindingWriter {
 public:
  static constexpr int kMaxFiles = 16;  // further findings are counted, not written

  FindingWriter(const CampaignConfig& config, std::ostream& log) : config_(config), log_(log) {}

  // Creates the --out directory and checks that files can be created there
  // (creating none). Returns an error message, empty when all is well.
  [[nodiscard]] std::string prepare() const;
  // Writes one finding (called by the ViolationLog's listener).
  void write(const Violation& v);

  [[nodiscard]] const std::vector<std::string>& files() const { return files_; }

 private:
  const CampaignConfig& config_;
  std::ostream& log_;
  std::vector<std::string> files_;
  uint64_t seen_ = 0;
};

}  // namespace hvo::stress
