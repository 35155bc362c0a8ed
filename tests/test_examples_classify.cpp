// The classifier both examples share: class names, probabilities and top-k, on models whose answers
// are worked out by hand (logits = W * channel means + b).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "classifier.h"
#include "test_examples_models.h"

namespace resq::test {
namespace {

const std::vector<std::vector<float>> kWeights = {{1, 0, 0}, {0, 2, 0}, {0, 0, -1}, {0.5f, 0.5f, 0.5f}};
const std::vector<float> kBias = {0.1f, -0.2f, 0.3f, 0.0f};

// An image whose channel means are exactly (r, g, b).
std::vector<float> Flat(float r, float g, float b) {
  std::vector<float> image;
  for (int i = 0; i < 4 * 4; ++i) image.insert(image.end(), {r, g, b});
  return image;
}

std::vector<double> SoftmaxOfLogits(float r, float g, float b) {
  std::vector<double> p;
  double total = 0;
  for (size_t k = 0; k < kWeights.size(); ++k) {
    p.push_back(std::exp(kWeights[k][0] * r + kWeights[k][1] * g + kWeights[k][2] * b + kBias[k]));
    total += p.back();
  }
  for (double& v : p) v /= total;
  return p;
}

void Open(Classifier* classifier, const std::string& path) {
  const Status opened = classifier->Open(path, 1);
  INFO(opened.message());
  REQUIRE(opened.ok());
}

TEST_CASE("a model that ends in logits gets a softmax; one that ends in Softmax is used as it is") {
  for (bool softmax : {false, true}) {
    INFO((softmax ? "model ends in Softmax" : "model ends in logits"));
    TempModel model(ChannelMeanModel(4, 4, 3, kWeights, kBias, softmax));
    Classifier classifier;
    Open(&classifier, model.path());
    REQUIRE(classifier.class_count() == 4);
    REQUIRE(classifier.Run(Flat(0.3f, 0.6f, -0.5f).data()).ok());
    const std::vector<double> want = SoftmaxOfLogits(0.3f, 0.6f, -0.5f);  // once, never twice
    for (int k = 0; k < 4; ++k) CHECK(classifier.probabilities()[k] == doctest::Approx(want[k]).epsilon(1e-5));
    CHECK(classifier.Top1().index == 1);
    CHECK(classifier.Top1().probability == doctest::Approx(want[1]).epsilon(1e-5));
  }
}

TEST_CASE("top-k: most probable first, ties by class index, k capped at the class count") {
  TempModel model(ChannelMeanModel(4, 4, 3, kWeights, kBias, false));
  Classifier classifier;
  Open(&classifier, model.path());
  // Logits 0.1, -0.2, 0.3, 0: classes 2, 0, 3, 1.
  REQUIRE(classifier.Run(Flat(0, 0, 0).data()).ok());
  const std::vector<Prediction> top = classifier.TopK(3);
  REQUIRE(top.size() == 3);
  CHECK(top[0].index == 2);
  CHECK(top[1].index == 0);
  CHECK(top[2].index == 3);
  CHECK(top[0].probability >= top[1].probability);
  CHECK(classifier.TopK(10).size() == 4);

  TempModel tied(ChannelMeanModel(4, 4, 3, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, {0, 0, 0}, false));
  Classifier even;
  Open(&even, tied.path());
  REQUIRE(even.Run(Flat(1, 2, 3).data()).ok());
  const std::vector<Prediction> ties = even.TopK(3);
  CHECK(ties[0].index == 0);
  CHECK(ties[1].index == 1);
  CHECK(ties[2].index == 2);
}

TEST_CASE("class names: the model's, replaced by a labels file, else the class indices") {
  ModelMetadata metadata;
  metadata.labels = {"red", "green", "not blue", "gray"};
  TempModel named(ChannelMeanModel(4, 4, 3, kWeights, kBias, false, metadata));
  TempModel unnamed(ChannelMeanModel(4, 4, 3, kWeights, kBias, false));

  Classifier classifier;
  Open(&classifier, named.path());
  CHECK(classifier.has_labels());
  CHECK(classifier.label(2) == "not blue");

  TempFile labels(".txt");
  const std::string text = "cat\r\ndog\nbird\nfish\n\n";
  labels.Write(text.data(), text.size());
  REQUIRE(classifier.UseLabelsFile(labels.path()).ok());
  CHECK(classifier.label(0) == "cat");
  CHECK(classifier.label(3) == "fish");

  Classifier plain;
  Open(&plain, unnamed.path());
  CHECK_FALSE(plain.has_labels());
  CHECK(plain.label(0) == "0");
  CHECK(plain.label(3) == "3");
}

TEST_CASE("a labels file that does not fit the model is refused with a clear message") {
  TempModel model(ChannelMeanModel(4, 4, 3, kWeights, kBias, false));
  Classifier classifier;
  Open(&classifier, model.path());
  TempFile labels(".txt");
  const std::string three = "a\nb\nc\n";
  labels.Write(three.data(), three.size());
  CHECK(classifier.UseLabelsFile(labels.path()).message() ==
        "labels file '" + labels.path() + "' has 3 labels, the model has 4 classes");
  TempFile empty(".txt");
  CHECK(classifier.UseLabelsFile(empty.path()).message() == "labels file '" + empty.path() + "' is empty");
  CHECK(classifier.UseLabelsFile("/nonexistent/labels.txt").message() ==
        "cannot open labels file '/nonexistent/labels.txt': No such file or directory");
  CHECK(classifier.label(1) == "1");  // unchanged by the failures
}

TEST_CASE("labels are printed with control characters escaped, and read as UTF-8") {
  CHECK(PrintableText("plain caf\xc3\xa9 \xe2\x82\xac") == "plain caf\xc3\xa9 \xe2\x82\xac");
  CHECK(PrintableText("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(PrintableText(std::string("nul\0tab\tdel\x7f", 12)) == "nul\\x00tab\\x09del\\x7f");
  CHECK(PrintableText("c1 csi \xc2\x9b"
                      "2J") == "c1 csi \\u009b2J");

  ModelMetadata metadata;
  metadata.labels = {
      "\x1b]0;title\x07"
      "cat",
      "dog", "bird", "fish"};
  TempModel model(ChannelMeanModel(4, 4, 3, kWeights, kBias, false, metadata));
  Classifier classifier;
  Open(&classifier, model.path());
  CHECK(classifier.label(0) ==
        "\x1b]0;title\x07"
        "cat");  // as the model has it (JSON escapes by its own rules)
  CHECK(classifier.printable_label(0) == "\\x1b]0;title\\x07cat");

  TempFile labels(".txt");
  const std::string text = "a\nb\nnot \xff utf-8\nd\n";
  labels.Write(text.data(), text.size());
  CHECK(classifier.UseLabelsFile(labels.path()).message() ==
        "labels file '" + labels.path() + "': line 3 is not valid UTF-8");
  CHECK(classifier.UseLabelsFile("/dev/zero").message() == "labels file '/dev/zero' holds more than the 16 MiB limit");
}

TEST_CASE("models that are no classifiers, or no models, are clear errors") {
  ModelMetadata metadata;
  metadata.labels = {"only one"};
  TempModel mislabelled(ChannelMeanModel(4, 4, 3, kWeights, kBias, false, metadata));
  Classifier classifier;
  CHECK(classifier.Open(mislabelled.path(), 1).message() ==
        "model '" + mislabelled.path() + "' has 1 labels for 4 classes");
  CHECK(Classifier().Open("/nonexistent.resq", 1).message() ==
        "cannot open model '/nonexistent.resq': No such file or directory");
  TempFile junk(".resq");
  const std::string text = "not a model at all, just text";
  junk.Write(text.data(), text.size());
  const Status status = Classifier().Open(junk.path(), 1);
  CHECK_FALSE(status.ok());
  CHECK(status.message().find(junk.path()) != std::string::npos);
}

}  // namespace
}  // namespace resq::test
