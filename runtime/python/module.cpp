// The Python module `resq`: resq.Model and resq.Error over the examples' Classifier (model.h). This file
// only checks Python's arguments, turns them into plain views, and releases the GIL around the work.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model.h"

namespace py = pybind11;

namespace resq {
namespace python {
namespace {

// Raised to Python as resq.Error (a RuntimeError) with the runtime's one-line message.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void Check(const Status& status) {
  if (!status.ok()) throw Error(status.message());
}

// Labels are bytes from the model file: text that is not UTF-8 shows U+FFFD instead of failing.
py::str Text(const std::string& bytes) {
  PyObject* text = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace");
  if (!text) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(text);
}

// A path as str, bytes or os.PathLike, as the operating system spells it.
std::string PathOf(const py::handle& path) {
  return py::module_::import("os").attr("fsencode")(path).cast<std::string>();
}

bool IsPath(const py::handle& object) {
  const py::module_ os = py::module_::import("os");
  return py::isinstance<py::str>(object) || py::isinstance<py::bytes>(object) ||
         py::isinstance(object, os.attr("PathLike"));
}

std::string ShapeText(const py::array& array) {
  std::string text = "(";
  for (py::ssize_t d = 0; d < array.ndim(); ++d) text += (d ? ", " : "") + std::to_string(array.shape(d));
  return text + (array.ndim() == 1 ? ",)" : ")");
}

StridedView ViewOf(const py::array& array) {
  StridedView view;
  view.data = static_cast<const uint8_t*>(array.data());
  view.rank = static_cast<int>(array.ndim());
  for (int d = 0; d < view.rank; ++d) view.shape[d] = array.shape(d), view.strides[d] = array.strides(d);
  return view;
}

py::list PredictionList(const Model& model, const std::vector<Prediction>& predictions) {
  py::list list;
  for (const Prediction& p : predictions) {
    list.append(py::make_tuple(Text(model.classifier().label(p.index)), static_cast<double>(p.probability)));
  }
  return list;
}

void CheckTop(int top) {
  if (top < 1) throw py::value_error("top must be at least 1, got " + std::to_string(top));
}

std::unique_ptr<Model> OpenModel(const py::object& path, int threads) {
  if (threads < 1 || threads > 64) throw py::value_error("threads must be 1..64, got " + std::to_string(threads));
  const std::string file = PathOf(path);
  auto model = std::make_unique<Model>();
  Status status;
  {
    py::gil_scoped_release released;
    status = model->Open(file, threads);
  }
  Check(status);
  return model;
}

py::array_t<float> Run(Model& model, const py::object& input) {
  const InputSpec& spec = model.classifier().input_spec();
  const std::string want_nchw =
      "N x " + std::to_string(spec.channels) + " x " + std::to_string(spec.height) + " x " + std::to_string(spec.width);
  const std::string want_hwc =
      std::to_string(spec.height) + " x " + std::to_string(spec.width) + " x " + std::to_string(spec.channels);
  if (!py::isinstance<py::array>(input)) {
    throw py::type_error("run takes a numpy float32 array (" + want_nchw + ", or one " + want_hwc + " picture), not " +
                         std::string(py::str(py::type::of(input).attr("__name__"))));
  }
  const py::array x = py::reinterpret_borrow<py::array>(input);
  if (!x.dtype().is(py::dtype::of<float>())) {
    throw py::type_error("run takes float32 input (native byte order), not " + std::string(py::str(x.dtype())) +
                         ": x.astype(numpy.float32)");
  }
  const bool batch = x.ndim() == 4;
  const bool fits =
      batch ? x.shape(1) == spec.channels && x.shape(2) == spec.height && x.shape(3) == spec.width
            : x.ndim() == 3 && x.shape(0) == spec.height && x.shape(1) == spec.width && x.shape(2) == spec.channels;
  if (!fits) {
    throw py::value_error("run takes " + want_nchw + " (N x C x H x W) or one " + want_hwc +
                          " picture (H x W x C); got shape " + ShapeText(x));
  }
  const py::ssize_t images = batch ? x.shape(0) : 1;
  const py::ssize_t classes = static_cast<py::ssize_t>(model.runtime().output().elements);
  py::array_t<float> output({images, classes});  // the one allocation of a call
  const StridedView view = ViewOf(x);
  float* out = output.mutable_data();
  Status status;
  {
    py::gil_scoped_release released;
    std::lock_guard<std::mutex> locked(model.lock());
    status = model.Run(view, out);
  }
  Check(status);
  return output;
}

ChannelOrder ParseOrder(const py::object& order, const py::array& image) {
  const py::ssize_t channels = image.ndim() == 3 ? image.shape(2) : 1;
  if (order.is_none()) {
    if (image.ndim() == 2) return ChannelOrder::kGray;
    return channels == 4 ? ChannelOrder::kBgrx : ChannelOrder::kRgb;
  }
  const std::string name = py::str(order);
  const std::pair<const char*, ChannelOrder> orders[] = {{"RGB", ChannelOrder::kRgb},
                                                         {"BGR", ChannelOrder::kBgr},
                                                         {"RGBX", ChannelOrder::kRgbx},
                                                         {"BGRX", ChannelOrder::kBgrx}};
  for (const auto& [known, value] : orders) {
    if (name == known) {
      if (image.ndim() != 3 || channels != ChannelsOf(value)) {
        throw py::value_error("order '" + name + "' is for H x W x " + std::to_string(ChannelsOf(value)) +
                              " arrays; got shape " + ShapeText(image));
      }
      return value;
    }
  }
  throw py::value_error("order must be 'RGB', 'BGR', 'RGBX' or 'BGRX', not '" + name + "'");
}

py::list Classify(Model& model, const py::object& image, int top, const py::object& order) {
  CheckTop(top);
  std::vector<Prediction> predictions;
  Status status;
  if (IsPath(image)) {
    if (!order.is_none()) throw py::value_error("order is for arrays; a picture file says its own colours");
    const std::string path = PathOf(image);
    py::gil_scoped_release released;
    std::lock_guard<std::mutex> locked(model.lock());
    status = model.ClassifyFile(path, top, &predictions);
  } else {
    if (!py::isinstance<py::array>(image)) {
      throw py::type_error("classify takes a path or a numpy uint8 array, not " +
                           std::string(py::str(py::type::of(image).attr("__name__"))));
    }
    const py::array pixels = py::reinterpret_borrow<py::array>(image);
    if (!pixels.dtype().is(py::dtype::of<uint8_t>())) {
      throw py::type_error("classify takes uint8 pixels, not " + std::string(py::str(pixels.dtype())));
    }
    const bool layout = pixels.ndim() == 2 || (pixels.ndim() == 3 && (pixels.shape(2) == 3 || pixels.shape(2) == 4));
    if (!layout || pixels.shape(0) < 1 || pixels.shape(1) < 1) {
      throw py::value_error("classify takes H x W (gray), H x W x 3 or H x W x 4 pixels; got shape " +
                            ShapeText(pixels));
    }
    const ChannelOrder channel_order = ParseOrder(order, pixels);
    const StridedView view = ViewOf(pixels);
    py::gil_scoped_release released;
    std::lock_guard<std::mutex> locked(model.lock());
    status = model.ClassifyPixels(view, channel_order, top, &predictions);
  }
  Check(status);
  return PredictionList(model, predictions);
}

// A read-only, C-contiguous buffer (bytes, bytearray, memoryview, numpy array) held for one call.
class ByteBuffer {
 public:
  explicit ByteBuffer(const py::object& object) {
    if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw py::type_error(
          "the frame must be one contiguous buffer of bytes (bytes, bytearray, memoryview or a "
          "C-contiguous numpy array), not " +
          std::string(py::str(py::type::of(object).attr("__name__"))));
    }
  }
  ~ByteBuffer() { PyBuffer_Release(&view_); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(view_.buf); }
  size_t size() const { return static_cast<size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

py::list ClassifyFrame(Model& model, const py::object& buffer, const std::string& format, int width, int height,
                       int top, int stride) {
  CheckTop(top);
  FrameGeometry geometry;
  const Status parsed = ParsePixelFormat(format, &geometry.format);
  if (!parsed.ok()) throw py::value_error(parsed.message());
  geometry.width = width;
  geometry.height = height;
  geometry.stride = stride;
  const ByteBuffer frame(buffer);
  std::vector<Prediction> predictions;
  Status status;
  {
    py::gil_scoped_release released;
    std::lock_guard<std::mutex> locked(model.lock());
    status = model.ClassifyFrame(geometry, frame.data(), frame.size(), top, &predictions);
  }
  Check(status);
  return PredictionList(model, predictions);
}

py::dict PreprocessingOf(const Model& model) {
  const InputSpec& spec = model.classifier().input_spec();
  py::dict preprocessing;
  preprocessing["grayscale"] = spec.channels == 1;
  preprocessing["resize_shorter"] = spec.resize_shorter;
  py::list mean, std;
  for (int c = 0; c < spec.channels; ++c) mean.append(spec.mean[c]), std.append(spec.std[c]);
  preprocessing["mean"] = mean;
  preprocessing["std"] = std;
  return preprocessing;
}

}  // namespace
}  // namespace python
}  // namespace resq

PYBIND11_MODULE(resq, m) {
  using resq::python::Model;
  namespace rp = resq::python;
  m.doc() = R"(int8 ResNet image classification on XNNPACK (resq), for numpy and Picamera2 programs.

    model = resq.Model("model.resq")             # verify, then prepare once
    model.classify("photo.jpg", top=3)           # [("tabby", 0.81), ("tiger cat", 0.12), ...]
    model.classify(picam2.capture_array())       # an XRGB8888 frame from Picamera2, as it comes
    model.run(x)                                 # float32 N x C x H x W in, N x classes out

Failures of the runtime raise resq.Error (a RuntimeError) with its one-line message; arguments of the
wrong type raise TypeError and of the wrong shape ValueError. The GIL is released while a model runs;
calls on one Model from several threads take turns.)";

  py::register_exception<rp::Error>(m, "Error", PyExc_RuntimeError).doc() =
      "A failure of the resq runtime (a model that cannot be read or verified, a picture that cannot be decoded, "
      "a frame too short for its size), with the runtime's one-line message. A subclass of RuntimeError.";

  py::class_<Model>(m, "Model", R"(A .resq model, loaded, verified and prepared once.

Model(path, threads=1): maps the file, verifies all of it, and creates every operator in one arena
(resq's Runtime::Prepare). threads: worker threads per inference, 1..64. Raises resq.Error with the
runtime's message when the file is missing, corrupt or not a classifier with float input.)")
      .def(py::init(&rp::OpenModel), py::arg("path"), py::arg("threads") = 1)
      .def_property_readonly(
          "input_shape",
          [](const Model& model) {
            const resq::TensorView& input = model.runtime().input();
            py::tuple shape(input.rank);
            for (int d = 0; d < input.rank; ++d) shape[d] = input.dims[d];
            return shape;
          },
          "The model's input shape as a tuple, NHWC: (1, height, width, channels).")
      .def_property_readonly(
          "labels",
          [](const Model& model) {
            py::list labels;
            for (int i = 0; i < model.classifier().class_count(); ++i)
              labels.append(rp::Text(model.classifier().label(i)));
            return labels;
          },
          "The class names in output order (list of str), as recorded by resq-convert --labels; a model without "
          "them gets its class indices ('0', '1', ...), as resq-classify prints them. Bytes that are not UTF-8 "
          "read as U+FFFD.")
      .def_property_readonly("preprocessing", &rp::PreprocessingOf,
                             R"(How classify prepares a picture, from the model's metadata (dict):
  grayscale       True: the model sees one gray channel; False: R, G, B
  resize_shorter  the shorter side is resized to this, then the centre is cropped to the input
                  size; 0: the whole picture is resized to the input size
  mean, std       per channel (lists of float): input = (pixel / 255 - mean) / std
                  (0 and 1 where the model recorded none))")
      .def_property_readonly(
          "arena_bytes", [](const Model& model) { return model.runtime().arena_bytes(); },
          "Bytes of the arena the prepared model uses: planned activations plus XNNPACK's packed weights and "
          "buffers.")
      .def("run", &rp::Run, py::arg("x"),
           R"(Runs preprocessed input and returns the model's outputs.

x: numpy float32, either N x C x H x W (resq-run's layout; any N, 0 included) or one picture H x W x C.
Any strides are read (a transposed or sliced view needs no copy). Returns float32 N x classes (1 x
classes for one picture): the model's own output, int8 outputs dequantized, bit for bit what resq-run
writes. The GIL is released while the model runs; the returned array is the only allocation.
Raises TypeError for another dtype, ValueError for a shape that is not the model's input.)")
      .def("classify", &rp::Classify, py::arg("image"), py::arg("top") = 5, py::arg("order") = py::none(),
           R"(Classifies a picture; returns the top classes as [(label, probability), ...], most probable first.

image is one of
  - a path (str, bytes or os.PathLike) to a JPEG, PNG, BMP or PGM/PPM file;
  - a numpy uint8 array H x W: gray;
  - a numpy uint8 array H x W x 3 or H x W x 4; `order` gives the bytes of one pixel in memory:
      'RGB'   (default for 3 channels)   Picamera2 "BGR888"
      'BGR'                              Picamera2 "RGB888" (OpenCV's usual order)
      'BGRX'  (default for 4 channels)   Picamera2 "XRGB8888": B, G, R, 255, taken as is
      'RGBX'                             Picamera2 "XBGR8888" (its default preview format)
    Picamera2 names formats after the 32-bit word, so its "RGB888" is B, G, R in memory and
    "XRGB8888" B, G, R, X (Picamera2 manual, appendix A). The fourth byte is ignored.
Arrays may be views with any strides (Picamera2's padded rows included).

Preprocessed exactly as resq-classify preprocesses the same pixels read from a file (the same
decoder and Preprocess: colour to gray with stb_image's luma for a gray model, resize, centre crop,
mean/std), then run; probabilities are the model's Softmax output, or softmax of its logits.
top: how many classes (at least 1). The GIL is released while it works.)")
      .def("classify_frame", &rp::ClassifyFrame, py::arg("buffer"), py::arg("format"), py::arg("width"),
           py::arg("height"), py::arg("top") = 5, py::arg("stride") = 0,
           R"(Classifies one raw camera frame through resq-camera's frame converter.

buffer: bytes, bytearray, memoryview or a C-contiguous numpy array holding the frame.
format: 'i420' (Y plane, then U and V at half width and height: rpicam-vid --codec yuv420,
        Picamera2 "YUV420"), 'nv12' (Y plane, then interleaved U,V), 'yuyv' (Y0 U Y1 V),
        'rgb24' (R, G, B bytes), or 'mjpeg' (one JPEG). YUV is BT.601 limited range.
width, height: the frame's size in pixels. stride: bytes per row of the first plane (0: rows of
exactly the width; I420's chroma rows are half as long, NV12's as long), for padded rows such as
a Picamera2 "YUV420" array wider than the frame: stride=array.shape[1].
Colour conversion, resize and crop happen in one pass into a buffer made once; the converter is
made again only when the geometry changes. Returns [(label, probability), ...] like classify.
Raises resq.Error when the buffer is shorter than the frame.)");
}
