// A 64 GiB machine: it must boot, and its resident host memory must follow
// its populated vmemmap (1 GiB), not its simulated RAM.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "engine/machine.h"

namespace hvo {
namespace {

uint64_t process_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

TEST(Machine64G, BootsWithItsWholeVmemmapResidentInAbout1GiB) {
  MachineConfig c;
  c.memory_bytes = uint64_t{64} << 30;
  Machine m(c);
  const MachineSummary s = m.summary();
  EXPECT_EQ(s.nr_frames, uint64_t{16} << 20);
  EXPECT_EQ(s.vmemmap_frames, uint64_t{1} << 18);  // 1 GiB of struct pages
  // memmap_init wrote every struct page: the whole vmemmap is resident...
  EXPECT_GE(s.resident_bytes, uint64_t{1} << 30);
  // ...and little else: page tables (~2 MiB) are the rest of the backing.
  EXPECT_LT(s.resident_bytes, (uint64_t{1} << 30) + (uint64_t{8} << 20));
  // The whole process, with the 64 MiB shadow map and the buddy bitmaps.
  EXPECT_LT(process_rss_bytes(), uint64_t{1200} << 20);
  EXPECT_FALSE(m.violations().any());
}

}  // namespace
}  // namespace hvo
