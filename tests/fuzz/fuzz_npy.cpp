// Fuzz target: the bytes of a .npy file, as resq-run --input and resq-convert --calib read it: ReadNpy through
// the one input policy (input_file.h), from an in-memory file (memfd: a regular file with a size, like one
// on disk, and no disk traffic). An array it accepts must hold exactly what its shape says.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <string>

#include "npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz_npy", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (size_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  resq::NpyArray array;
  if (resq::ReadNpy("/proc/self/fd/" + std::to_string(fd), &array).ok()) {
    const size_t count = std::accumulate(array.shape.begin(), array.shape.end(), size_t{1}, std::multiplies<>());
    if (array.shape.empty() || count != array.values.size()) std::abort();
  }
  close(fd);
  return 0;
}
