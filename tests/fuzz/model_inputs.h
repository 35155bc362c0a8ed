// The model inputs the picture and camera fuzz targets preprocess for: those of real resq models, so that
// every resize path (shrink, enlarge, stretch) and both colour forms are reached.
#pragma once

#include "preprocess.h"

namespace resq::fuzz {

// Fashion-MNIST (models/): 28x28 gray, the shorter side resized to 28, then centre-cropped.
inline InputSpec FashionMnistInput() {
  InputSpec spec;
  spec.height = spec.width = 28;
  spec.channels = 1;
  spec.resize_shorter = 28;
  spec.mean[0] = 0.286f;
  spec.std[0] = 0.353f;
  return spec;
}

// An ImageNet ResNet: 224x224 RGB cropped from the shorter side resized to 256, ImageNet's statistics.
inline InputSpec ImageNetInput() {
  InputSpec spec;
  spec.height = spec.width = 224;
  spec.channels = 3;
  spec.resize_shorter = 256;
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) spec.mean[c] = mean[c], spec.std[c] = std[c];
  return spec;
}

// A CIFAR-sized model without resize metadata: the whole picture is stretched to 32x32.
inline InputSpec StretchedInput() {
  InputSpec spec;
  spec.height = spec.width = 32;
  spec.channels = 3;
  for (int c = 0; c < 3; ++c) spec.mean[c] = 0.5f, spec.std[c] = 0.5f;
  return spec;
}

}  // namespace resq::fuzz
