#include "image_folder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

namespace resq {
namespace {

namespace fs = std::filesystem;

bool Hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// Appends every regular file under `class_dir` (any depth, hidden entries skipped) with `label`.
Status ListClassFolder(const fs::path& class_dir, int label, std::vector<FolderPicture>* pictures) {
  std::error_code error;
  fs::recursive_directory_iterator it(class_dir, error), end;
  for (; !error && it != end; it.increment(error)) {
    if (Hidden(it->path())) {
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error)) pictures->push_back({it->path().string(), label});
  }
  if (error) return Status::Error("cannot read folder '%s': %s", class_dir.c_str(), error.message().c_str());
  return Status::Ok();
}

}  // namespace

Status ListImageFolder(const std::string& dir, const std::vector<std::string>& labels, ImageFolder* folder) {
  *folder = ImageFolder();
  // A folder names its class by the label itself, the label with '/' as '_' (no file name holds a '/':
  // Fashion-MNIST's "T-shirt/top"), or the class index. Exact labels first: emplace keeps the first.
  std::map<std::string, int> label_index;
  for (size_t i = 0; i < labels.size(); ++i) label_index.emplace(labels[i], static_cast<int>(i));
  for (size_t i = 0; i < labels.size(); ++i) {
    std::string name = labels[i];
    std::replace(name.begin(), name.end(), '/', '_');
    label_index.emplace(name, static_cast<int>(i));
  }
  for (size_t i = 0; i < labels.size(); ++i) label_index.emplace(std::to_string(i), static_cast<int>(i));

  std::error_code error;
  fs::directory_iterator it(dir, error), end;
  std::vector<fs::path> class_dirs;
  for (; !error && it != end; it.increment(error)) {
    const fs::path& path = it->path();
    if (Hidden(path)) continue;
    if (it->is_directory(error)) {
      if (label_index.count(path.filename().string()) == 0) {
        return Status::Error(
            "folder '%s' is not named as a class of the model: in an ImageFolder layout every "
            "subfolder is a class, named as its label or its index",
            path.c_str());
      }
      class_dirs.push_back(path);
    } else if (it->is_regular_file(error)) {
      folder->pictures.push_back({path.string(), -1});
    }
  }
  if (error) return Status::Error("cannot read folder '%s': %s", dir.c_str(), error.message().c_str());
  for (const fs::path& class_dir : class_dirs) {
    RESQ_RETURN_IF_ERROR(ListClassFolder(class_dir, label_index.at(class_dir.filename().string()), &folder->pictures));
  }
  if (folder->pictures.empty()) return Status::Error("folder '%s' holds no pictures", dir.c_str());
  folder->labelled = !class_dirs.empty();
  std::sort(folder->pictures.begin(), folder->pictures.end(),
            [](const FolderPicture& a, const FolderPicture& b) { return a.path < b.path; });
  return Status::Ok();
}

}  // namespace resq
