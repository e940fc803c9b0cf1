#include "stress/finding_writer.h"

#include <fstream>
#include <system_error>

#include <boost/json.hpp>

#include "stress/campaign_json.h"

namespace hvo::stress {

std::string FindingWriter::prepare() const {
  std::error_code ec;
  std::filesystem::create_directories(config_.out_dir, ec);
  if (ec) return "cannot create directory '" + config_.out_dir + "': " + ec.message();
  const std::filesystem::path probe = std::filesystem::path(config_.out_dir) / ".hvo-stress-write-test";
  {
    std::ofstream f(probe);
    if (!f || !(f << "ok") || !f.flush()) return "cannot write in '" + config_.out_dir + "'";
  }
  std::filesystem::remove(probe, ec);
  return {};
}

void FindingWriter::write(const Violation& v) {
  ++seen_;
  log_ << "hvo-stress: violation: " << v.to_string() << "\n";
  if (files_.size() >= kMaxFiles) {
    log_ << "hvo-stress: (finding " << seen_ << " not saved: " << kMaxFiles << " files already written)\n";
    return;
  }
  const std::string name =
      (std::filesystem::path(config_.out_dir) /
       ("finding-" + config_.model + "-seed" + std::to_string(config_.seed) + "-" + std::to_string(seen_) + ".json"))
          .string();
  std::ofstream f(name);
  f << boost::json::serialize(replay_json(config_, v)) << "\n";
  f.flush();
  if (!f) {
    log_ << "hvo-stress: could not write " << name << "; the finding is above, replay with:\n";
  } else {
    files_.push_back(name);
    log_ << "hvo-stress: saved " << name << "\n";
  }
  log_ << "hvo-stress: replay: " << config_.command_line() << "\n";
  log_.flush();
}

}  // namespace hvo::stress
