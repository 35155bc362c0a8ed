// The pictures of a folder, with their class when the folder has the ImageFolder layout of torchvision and
// Keras: one subfolder per class, named as the model's labels (DIR/Sandal/0001.png is a sandal).
#pragma once

#include <string>
#include <vector>

#include "resq/status.h"

namespace resq {

struct FolderPicture {
  std::string path;
  int label = -1;  // index into the labels, or -1: the picture lies in DIR itself and has no class
};

struct ImageFolder {
  std::vector<FolderPicture> pictures;  // sorted by path: the same order on every run
  bool labelled = false;                // some subfolder is named as a class: accuracy can be measured
};

// Lists every regular file under `dir` (hidden files and folders, whose names start with '.', left out;
// symbolic links to folders not followed, so a link cannot make a loop). A subfolder of `dir` names a class:
// its label, the label with each '/' written '_' (a file name cannot hold '/': Fashion-MNIST's
// "T-shirt/top" is the folder T-shirt_top), or its index ("0", "1", ...); everything under it belongs to
// that class. Any other subfolder is an error naming it, since its pictures would be counted under no class
// or a wrong one. A folder with no pictures is an error too.
Status ListImageFolder(const std::string& dir, const std::vector<std::string>& labels, ImageFolder* folder);

}  // namespace resq
