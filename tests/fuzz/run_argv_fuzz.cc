// libFuzzer: `run`'s argv to a checked configuration, without running it.
// The input is the arguments separated by NUL bytes. Every outcome is a
// configuration or a UsageError (exit 2); a configuration must be one
// `replay` accepts too (config_check.h) and whose command line parses back
// to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stress/cmd_run.h"
#include "stress/config_check.h"
#include "stress/usage_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      args.emplace_back();
    } else {
      args.back() += static_cast<char>(data[i]);
    }
  }
  if (args.size() > 64) return 0;
  try {
    const hvo::stress::CampaignConfig c = hvo::cli::run_config_from_args(args);
    if (!hvo::stress::check_campaign_config(c).empty()) __builtin_trap();
    // The printed command runs the same campaign: it parses back to itself.
    std::vector<std::string> again;
    std::string word;
    const std::string line = c.command_line();
    for (size_t i = std::string("hvo-stress run ").size(); i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ' ') {
        again.push_back(word);
        word.clear();
      } else {
        word += line[i];
      }
    }
    again.insert(again.end(), {"--out", c.out_dir});
    if (hvo::cli::run_config_from_args(again).command_line() != line) __builtin_trap();
  } catch (const hvo::cli::UsageError&) {
  }
  return 0;
}
