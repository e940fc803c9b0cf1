// Writes each finding of a campaign out the moment it is recorded: a replay
// file (JSON: the full configuration, the seed, the violation and the command
// that runs it again) in the --out directory, and the same command on
// stderr. "A campaign never loses a finding": this runs before the thread
// that found it does anything else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "engine/violation.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

class FindingWriter {
 public:
  static constexpr int kMaxFiles = 16;  // further findings are counted, not written

  FindingWriter(const CampaignConfig& config, std::ostream& log) : config_(config), log_(log) {}

  // Creates the --out directory and checks that a file can be written
  // there. Returns an error message, empty when all is well.
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
