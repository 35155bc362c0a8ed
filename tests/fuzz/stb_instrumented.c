// stb_image and stb_image_resize for the fuzz programs only, compiled with the fuzzer's instrumentation from
// the same headers Debian's libstb is built from; the program's own copy takes precedence over libstb's.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
