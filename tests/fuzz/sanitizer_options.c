// Sanitizer defaults of the fuzz programs. A verified model may ask for gigabytes (the verifier allows a
// 16 GiB arena): malloc then fails as it would on a device, and the code under test must handle that;
// only an allocation that cannot fail quietly (C++ new) still stops the fuzzer, as it would crash a device.
const char* __asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=2048"; }
const char* __ubsan_default_options(void) { return "print_stacktrace=1"; }
