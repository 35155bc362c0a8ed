// resq-camera MODEL.resq [--device /dev/video0] [--stdin --format i420|nv12|yuyv|rgb24 --size WxH [--all-frames]]
//                        [--every N]
// Classifies a live camera: one line per classified frame with the top-1 class, its probability, the
// inference and end-to-end latency and the frame rate. Frames that arrive while the model is busy are
// dropped, not queued. With --all-frames (the default when stdin is a regular file), every frame of a
// recording is classified in order instead, converting the next frame while the model runs. Ctrl-C stops it
// with a summary, and so does a reader that closes its output (`| head`: the summary then goes to stderr,
// exit 0); a vanished camera or a short read ends with exit 1.
//
//   rpicam-vid -t 0 -n --codec yuv420 --width 640 --height 480 -o - |
//       resq-camera model.resq --stdin --format i420 --size 640x480
//   ffmpeg -i clip.mp4 -f rawvideo -pix_fmt yuv420p -s 320x240 - |
//       resq-camera model.resq --stdin --format i420 --size 320x240 --all-frames
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "camera_loop.h"
#include "classifier.h"
#include "frame_convert.h"
#include "stdin_frames.h"
#include "tool_limits.h"
#include "v4l2_capture.h"

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

// SA_RESETHAND: a second Ctrl-C kills the program at once if stopping cleanly ever hangs.
void OnSignal(int) { stop_requested = true; }

void InstallSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A reader that goes away (`| head -3`) is the end of the output, not a crash: writes then fail with
  // EPIPE, which PrintResults turns into a stop, as Ctrl-C would.
  signal(SIGPIPE, SIG_IGN);
}

struct Options {
  std::string model, labels, device = "/dev/video0", format, size;
  bool from_stdin = false, all_frames = false;
  int every = 1;
  int threads = 1;
  resq::RuntimeOptions runtime;
};

// WIDTHxHEIGHT, each read in 64 bits (strtoll saturates, never wraps), then held to the frame limits.
resq::Status ParseSize(const std::string& text, int* width, int* height) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long w = std::strtoll(s, &end, 10);
  const bool w_ok = end != s && *end == 'x' && errno == 0 && s[0] >= '0' && s[0] <= '9';
  const char* h_text = w_ok ? end + 1 : s;
  errno = 0;
  const long long h = w_ok ? std::strtoll(h_text, &end, 10) : 0;
  if (!w_ok || end == h_text || *end != '\0' || errno != 0 || h_text[0] < '0' || h_text[0] > '9') {
    return resq::Status::Error("--size '%s' is not WIDTHxHEIGHT, e.g. 640x480", text.c_str());
  }
  const resq::Status checked = resq::CheckFrameSize(w, h);
  if (!checked.ok()) return resq::Status::Error("--size '%s': %s", text.c_str(), checked.message().c_str());
  *width = static_cast<int>(w);
  *height = static_cast<int>(h);
  return resq::Status::Ok();
}

class PrintResults : public resq::FrameSink {
 public:
  explicit PrintResults(const resq::Classifier* classifier) : classifier_(classifier) {}
  void OnResult(const resq::FrameResult& result) override {
    char line[512];
    const size_t length = resq::FormatResult(result, *classifier_, line, sizeof(line));
    if (std::fwrite(line, 1, length, stdout) != length || std::fflush(stdout) != 0) {
      output_closed_ = true;  // EPIPE: the reader is gone (SIGPIPE is ignored)
      stop_requested = true;
    }
  }
  bool output_closed() const { return output_closed_; }

 private:
  const resq::Classifier* classifier_;
  bool output_closed_ = false;
};

resq::Status Run(const Options& options) {
  int width = 640, height = 480;
  if (!options.size.empty()) RESQ_RETURN_IF_ERROR(ParseSize(options.size, &width, &height));
  resq::Classifier classifier;
  RESQ_RETURN_IF_ERROR(
      classifier.Open(options.model, resq::CapThreads("resq-camera", options.threads), options.runtime));
  if (!options.labels.empty()) RESQ_RETURN_IF_ERROR(classifier.UseLabelsFile(options.labels));
  if (!classifier.has_normalization()) {
    std::fprintf(stderr, "resq-camera: the model records no mean/std: frames go in as pixel / 255\n");
  }

  std::unique_ptr<resq::FrameSource> source;
  resq::FrameGeometry geometry;
  if (options.from_stdin) {
    if (options.format.empty() || options.size.empty()) {
      return resq::Status::Error("--stdin needs --format and --size: raw frames carry neither");
    }
    RESQ_RETURN_IF_ERROR(resq::ParsePixelFormat(options.format, &geometry.format));
    if (geometry.format == resq::PixelFormat::kMjpeg) {
      return resq::Status::Error("--stdin reads raw frames of one size: i420, nv12, yuyv or rgb24, not mjpeg");
    }
    geometry.width = width;
    geometry.height = height;
  } else {
    auto camera = std::make_unique<resq::V4l2Capture>();
    RESQ_RETURN_IF_ERROR(camera->Open(options.device, width, height));
    geometry = camera->geometry();
    std::fprintf(stderr, "resq-camera: %s streams %s at %dx%d\n", options.device.c_str(),
                 resq::PixelFormatName(geometry.format), geometry.width, geometry.height);
    source = std::move(camera);
  }
  resq::FrameConverter converter;
  RESQ_RETURN_IF_ERROR(converter.Create(geometry, classifier.input_spec()));
  // A recording on stdin is classified frame by frame; a live stream by its newest frame.
  struct stat stdin_stat = {};
  const bool all_frames =
      options.from_stdin &&
      (options.all_frames || (fstat(STDIN_FILENO, &stdin_stat) == 0 && S_ISREG(stdin_stat.st_mode)));
  if (options.from_stdin) {
    auto frames = std::make_unique<resq::StdinFrames>(STDIN_FILENO, resq::FrameBytes(geometry),
                                                      all_frames ? resq::Delivery::kEvery : resq::Delivery::kNewest);
    frames->Start();
    source = std::move(frames);
  }

  InstallSignalHandlers();
  resq::CameraLoop loop(&classifier, &converter, options.every);
  PrintResults print(&classifier);
  resq::CameraStats stats;
  const resq::Status status = all_frames ? loop.RunInOrder(source.get(), stop_requested, &print, &stats)
                                         : loop.Run(source.get(), stop_requested, &print, &stats);
  // With the output closed, the summary goes where it can still be read.
  FILE* summary = print.output_closed() ? stderr : stdout;
  std::fprintf(summary, "summary: %llu frames, %llu classified, %llu dropped, %llu skipped, %.1f fps over %.1f s\n",
               static_cast<unsigned long long>(stats.received), static_cast<unsigned long long>(stats.classified),
               static_cast<unsigned long long>(stats.dropped), static_cast<unsigned long long>(stats.skipped),
               stats.fps(), stats.seconds);
  if (stats.classified > 0) {
    const resq::LatencyHistogram &inference = stats.inference_ms, &end_to_end = stats.end_to_end_ms;
    std::fprintf(summary,
                 "latency: inference p50 %.1f p90 %.1f p99 %.1f ms; end-to-end p50 %.1f p90 %.1f p99 %.1f ms\n",
                 inference.Percentile(50), inference.Percentile(90), inference.Percentile(99),
                 end_to_end.Percentile(50), end_to_end.Percentile(90), end_to_end.Percentile(99));
  }
  std::fflush(stdout);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Classify camera frames with a .resq model"};
  Options options;
  app.add_option("model", options.model, "the .resq model")->required();
  app.add_option("--device", options.device, "V4L2 camera (YUYV or MJPEG)")->capture_default_str();
  auto* from_stdin = app.add_flag("--stdin", options.from_stdin, "read raw frames from stdin instead of a camera");
  app.add_option("--format", options.format, "pixel format of the frames on stdin: i420, nv12, yuyv, rgb24")
      ->needs(from_stdin);
  app.add_flag("--all-frames", options.all_frames,
               "classify every frame of stdin in order (a recording) instead of the newest (a live stream); the "
               "default when stdin is a regular file")
      ->needs(from_stdin);
  app.add_option("--size", options.size, "WIDTHxHEIGHT of the frames on stdin, or to ask the camera for (640x480)");
  app.add_option("--every", options.every, "classify at most one frame in N")->check(CLI::Range(1, 1000000));
  app.add_option("--labels", options.labels, "class names, one per line (default: the model's own)");
  resq::AddThreadsOption(app, &options.threads);
  resq::AddMemoryBudgetOption(app, &options.runtime);
  if (int exit_status = 0; !resq::ParseCommandLine(app, argc, argv, &exit_status)) return exit_status;

  const resq::Status status = Run(options);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-camera: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
