// Counts heap allocations made by any thread of the process, by interposing glibc's malloc family.
// Linked only into programs that prove "no allocation while a frame runs": resq-bench and the tests.
#pragma once

namespace resq {

// False in sanitizer builds, whose allocator must not be interposed.
bool AllocationCountingAvailable();
void StartCountingAllocations();
// Returns the number of allocations since StartCountingAllocations.
long StopCountingAllocations();

}  // namespace resq
