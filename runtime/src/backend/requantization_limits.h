// The ratios of int8 scales that each XNNPACK generation can requantize, from its own source, and the
// intersection that resq-convert keeps every model within: a .resq converted on Debian 12 runs on Debian 13
// and the other way round. Each backend refuses (or, where XNNPACK only asserts, checks itself) a model
// outside its own limits.
#pragma once

namespace resq::backend {

// Bounds on real multipliers; "below" bounds are exclusive, "at least" bounds inclusive.
struct RequantizationLimits {
  double conv_ratio_below;     // input_scale * filter_scale / output_scale < this (Conv2D, FullyConnected)
  double add_ratio_at_least;   // input_scale / output_scale >= this, for each input of an Add
  double add_ratio_below;      //                            < this
  double pool_ratio_at_least;  // GlobalAveragePool: input_scale / output_scale >= this (0: no bound)
  double pool_ratio_below;     //                                               < this (0: no bound)
};

// XNNPACK 2022-02-16: xnn_create_convolution2d_nhwc_qc8 (ratio >= 2^8 refused), xnn_create_add_nd_qs8
// ([2^-10, 2^8)), xnn_create_global_average_pooling_nwc_qs8 ([2^-8, 2^8)): unsupported_parameter otherwise.
constexpr RequantizationLimits kXnnpack2022Limits = {256.0, 1.0 / 1024.0, 256.0, 1.0 / 256.0, 256.0};

// XNNPACK 2024-11-08: convolution2d_nhwc_qs8_qc8w and fully_connected_nc_qs8_qc8w refuse a ratio >= 2^8;
// binary_elementwise_nd(add, qs8) only asserts [2^-10, 2^8) (xnn_init_qs8_add_minmax_scalar_params: out of
// range in a release build, the multipliers are silently wrong), so the backend checks it; reduce_nd(mean,
// qs8) requantizes in float and has no bound.
constexpr RequantizationLimits kXnnpack2024Limits = {256.0, 1.0 / 1024.0, 256.0, 0.0, 0.0};

// What resq-convert guarantees: within every generation's limits.
constexpr RequantizationLimits kPortableLimits = kXnnpack2022Limits;

constexpr bool Within(const RequantizationLimits& inner, const RequantizationLimits& outer) {
  return inner.conv_ratio_below <= outer.conv_ratio_below && inner.add_ratio_at_least >= outer.add_ratio_at_least &&
         inner.add_ratio_below <= outer.add_ratio_below &&
         (outer.pool_ratio_at_least == 0 || inner.pool_ratio_at_least >= outer.pool_ratio_at_least) &&
         (outer.pool_ratio_below == 0 || inner.pool_ratio_below <= outer.pool_ratio_below);
}
static_assert(Within(kPortableLimits, kXnnpack2022Limits) && Within(kPortableLimits, kXnnpack2024Limits),
              "resq-convert's limits must hold for every XNNPACK generation");

}  // namespace resq::backend
