// Strong types for the quantities the simulated machine deals in.
//
// A pfn, a physical address, a vmemmap address and a page-table entry are all
// 64-bit numbers in the kernel, and mixing them up is a classic source of
// bugs (pfn_to_page vs. virt_to_page). Here each is its own type, as in
// tcmalloc's PageId/Length: no raw integer crosses an interface, and the
// arithmetic that can overflow asserts.
#pragma once

#include <compare>
#include <cstdint>

#include "engine/check.h"

namespace hvo {

// x86-64 paging constants (arch/x86/include/asm/page_types.h, pgtable_64_types.h).
inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;
inline constexpr unsigned kPmdShift = 21;   // one PMD entry maps 2 MiB
inline constexpr unsigned kPudShift = 30;   // one PUD entry maps 1 GiB
inline constexpr unsigned kPgdShift = 39;   // one PGD entry maps 512 GiB
inline constexpr uint64_t kPmdSize = uint64_t{1} << kPmdShift;
inline constexpr unsigned kPtrsPerTable = 512;  // PTRS_PER_{PGD,PUD,PMD,PTE}

// sizeof(struct page) on x86-64 without debug options.
inline constexpr uint64_t kStructPageSize = 64;
inline constexpr uint64_t kStructPagesPerPage = kPageSize / kStructPageSize;  // 64

// VMEMMAP_START with 4-level paging and no KASLR (Documentation/x86/x86_64/mm.rst).
inline constexpr uint64_t kVmemmapBase = 0xffffea0000000000ULL;

// A number of the given tag. Explicit in and out; comparisons only. Each
// concrete type adds the arithmetic that makes sense for it.
template <class Tag, class Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}
  [[nodiscard]] constexpr Rep value() const { return v_; }
  friend constexpr auto operator<=>(StrongInt, StrongInt) = default;

 private:
  Rep v_{};
};

struct PfnTag {};
struct PhysAddrTag {};
struct VmemmapAddrTag {};
struct PteValueTag {};
struct OrderTag {};
struct CpuIdTag {};

// A page frame number: index of a 4 KiB frame of simulated physical memory.
class Pfn : public StrongInt<PfnTag, uint64_t> {
 public:
  using StrongInt::StrongInt;
  [[nodiscard]] constexpr Pfn operator+(uint64_t n) const {
    HVO_CHECK(value() + n >= value(), "pfn overflow");
    return Pfn(value() + n);
  }
  // Distance between two pfns; the left one must not be below the right one.
  [[nodiscard]] constexpr uint64_t operator-(Pfn other) const {
    HVO_CHECK(value() >= other.value(), "pfn underflow");
    return value() - other.value();
  }
};

// A physical byte address.
class PhysAddr : public StrongInt<PhysAddrTag, uint64_t> {
 public:
  using StrongInt::StrongInt;
  [[nodiscard]] constexpr PhysAddr operator+(uint64_t n) const {
    HVO_CHECK(value() + n >= value(), "physical address overflow");
    return PhysAddr(value() + n);
  }
  [[nodiscard]] constexpr Pfn pfn() const { return Pfn(value() >> kPageShift); }
  [[nodiscard]] constexpr uint64_t offset_in_page() const { return value() & (kPageSize - 1); }
};

[[nodiscard]] constexpr PhysAddr pfn_to_phys(Pfn pfn) { return PhysAddr(pfn.value() << kPageShift); }

// A kernel virtual address inside the vmemmap range [kVmemmapBase, ...).
class VmemmapAddr : public StrongInt<VmemmapAddrTag, uint64_t> {
 public:
  using StrongInt::StrongInt;
  [[nodiscard]] constexpr VmemmapAddr operator+(uint64_t n) const {
    HVO_CHECK(value() + n >= value(), "vmemmap address overflow");
    return VmemmapAddr(value() + n);
  }
  [[nodiscard]] constexpr uint64_t operator-(VmemmapAddr other) const {
    HVO_CHECK(value() >= other.value(), "vmemmap address underflow");
    return value() - other.value();
  }
  [[nodiscard]] constexpr uint64_t offset_in_page() const { return value() & (kPageSize - 1); }
  [[nodiscard]] constexpr VmemmapAddr page_aligned() const { return VmemmapAddr(value() & ~(kPageSize - 1)); }
};

// The address of pfn's struct page: vmemmap_base + pfn * sizeof(struct page)
// (pfn_to_page() with CONFIG_SPARSEMEM_VMEMMAP).
[[nodiscard]] constexpr VmemmapAddr pfn_to_page(Pfn pfn) {
  return VmemmapAddr(kVmemmapBase + pfn.value() * kStructPageSize);
}
// page_to_pfn(): the pfn whose struct page contains this address.
[[nodiscard]] constexpr Pfn page_to_pfn(VmemmapAddr addr) {
  HVO_CHECK(addr.value() >= kVmemmapBase, "address below vmemmap");
  return Pfn((addr.value() - kVmemmapBase) / kStructPageSize);
}

// A raw page-table entry value (pgd, pud, pmd or pte); its bit layout is in
// engine/pte.h.
class PteValue : public StrongInt<PteValueTag, uint64_t> {
 public:
  using StrongInt::StrongInt;
};

// A buddy order: a block of 2^order frames.
class Order : public StrongInt<OrderTag, uint8_t> {
 public:
  using StrongInt::StrongInt;
  [[nodiscard]] constexpr uint64_t nr_pages() const { return uint64_t{1} << value(); }
};

// A simulated CPU.
class CpuId : public StrongInt<CpuIdTag, uint32_t> {
 public:
  using StrongInt::StrongInt;
};

}  // namespace hvo
