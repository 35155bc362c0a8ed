// The accuracy counts shared by resq-classify DIR and the converter's --eval: ranks with ties and NaN, top-5,
// the confusion behind the per-class lines; and the ImageFolder listing's class names and refusals.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "accuracy.h"
#include "image_folder.h"

namespace resq::test {
namespace {

TEST_CASE("top-1 and top-5 count the truth's rank; ties go to the lower index, NaN ranks last") {
  Accuracy accuracy(7);
  const float clear[7] = {0.1f, 0.7f, 0.05f, 0.05f, 0.04f, 0.03f, 0.03f};
  accuracy.Add(1, clear);  // rank 0
  accuracy.Add(2, clear);  // 0.7, 0.1 above; 0.05 at index 3 ties but comes after: rank 2
  accuracy.Add(3, clear);  // index 2 ties and comes first: rank 3
  accuracy.Add(6, clear);  // 0.7 0.1 0.05 0.05 0.04 above, index 5 ties first: rank 6
  const float nan[7] = {NAN, 0.1f, 0.2f, 0.f, 0.f, 0.f, 0.f};
  accuracy.Add(0, nan);  // NaN is below everything: rank 6
  CHECK(accuracy.count() == 5);
  CHECK(accuracy.top1() == 1);
  CHECK(accuracy.top5() == 3);
  CHECK(accuracy.top1_rate() == doctest::Approx(0.2));
  CHECK(accuracy.confusion(2, 1) == 1);
  CHECK(accuracy.confusion(0, 2) == 1);  // the NaN picture's top-1 is the highest real score
  CHECK(accuracy.count(1) == 1);
  CHECK(accuracy.correct(1) == 1);
  CHECK(accuracy.most_confused_with(1) == -1);
  CHECK(accuracy.most_confused_with(6) == 1);
}

TEST_CASE("an ImageFolder: classes by label, label with '/' as '_', or index; other folders refused") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("resq_image_folder_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"Sandal", "T-shirt_top", "2", ".hidden", "Sandal/deeper"}) fs::create_directories(dir / sub);
  for (const char* file : {"Sandal/a.png", "Sandal/deeper/b.png", "T-shirt_top/c.png", "2/d.png", ".hidden/e.png",
                           "Sandal/.f.png", "loose.png"}) {
    std::ofstream(dir / file) << "x";
  }
  const std::vector<std::string> labels = {"T-shirt/top", "Sandal", "Pullover"};
  ImageFolder folder;
  REQUIRE(ListImageFolder(dir.string(), labels, &folder).ok());
  CHECK(folder.labelled);
  REQUIRE(folder.pictures.size() == 5);
  const std::pair<const char*, int> want[] = {
      {"2/d.png", 2}, {"Sandal/a.png", 1}, {"Sandal/deeper/b.png", 1}, {"T-shirt_top/c.png", 0}, {"loose.png", -1}};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(folder.pictures[i].path == (dir / want[i].first).string());
    CHECK(folder.pictures[i].label == want[i].second);
  }
  fs::create_directories(dir / "Boots");
  const Status odd = ListImageFolder(dir.string(), labels, &folder);
  CHECK(odd.message().find("folder '" + (dir / "Boots").string() + "' is not named as a class") == 0);
  fs::remove_all(dir);
  CHECK(ListImageFolder(dir.string(), labels, &folder).message().find("cannot read folder") == 0);
}

}  // namespace
}  // namespace resq::test
