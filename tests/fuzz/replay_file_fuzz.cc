// libFuzzer: the replay-file reader on any bytes. It must return a file or
// a message, never crash, hang or read out of bounds (ASan, UBSan).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stress/replay_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = hvo::stress::parse_replay_text(text);
  if (auto* file = std::get_if<hvo::stress::ReplayFile>(&f)) {
    // What a read file is used for first: its name and its text again.
    (void)file->config.command_line();
    (void)hvo::stress::replay_file_text(*file);
  }
  return 0;
}
