// Reads and writes NumPy .npy arrays of float32 (C order, little-endian): the exchange format of
// resq-run and resq-convert with Python tools.
#pragma once

#include <string>
#include <vector>

#include "resq/status.h"

namespace resq {

struct NpyArray {
  std::vector<size_t> shape;
  std::vector<float> values;
};

// `path` must be a regular file holding exactly the data its header's shape claims: checked before the
// array is allocated (runtime/src/input_file.h).
Status ReadNpy(const std::string& path, NpyArray* array);

// Written with WriteFileAtomically (atomic_output.h): a failure never leaves a partial file.
Status WriteNpy(const std::string& path, const NpyArray& array);

}  // namespace resq
