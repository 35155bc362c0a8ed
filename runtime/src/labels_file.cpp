// ReadLabelsFile (resq/runtime.h): the one reader of class-name files, for resq-convert and the examples.
#include "input_file.h"
#include "model_check.h"
#include "resq/runtime.h"

namespace resq {
namespace {

// No label file comes near 16 MiB (ImageNet-21k's is 400 KB); it also bounds one read from a pipe or a
// device such as /dev/zero.
constexpr size_t kMaxLabelsBytes = size_t{16} << 20;

}  // namespace

Status ReadLabelsFile(const std::string& path, std::vector<std::string>* labels) {
  std::string text;
  RESQ_RETURN_IF_ERROR(ReadWholeFile(path, "labels file", NonRegularFiles::kReadWithCap, kMaxLabelsBytes, &text));
  labels->clear();
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!IsValidUtf8(line)) {
      return Status::Error("labels file '%s': line %zu is not valid UTF-8", path.c_str(), labels->size() + 1);
    }
    labels->push_back(std::move(line));
    begin = end + 1;
  }
  while (!labels->empty() && labels->back().empty()) labels->pop_back();
  if (labels->empty()) return Status::Error("labels file '%s' is empty", path.c_str());
  return Status::Ok();
}

}  // namespace resq
