{
  "targets": [{
    "target_name": "ahs_seg",
    "sources": [
      "src/addon.cc", "src/tensor_handle.cc", "src/dispatch.cc", "src/autograd.cc",
      "src/caching_allocator.cc", "src/runtime.cc", "src/dist_store.cc", "src/dist_group.cc",
      "src/ops/attention.cc", "src/ops/attention_backward.cc", "src/ops/batched_matmul.cc", "src/ops/linear.cc",
      "src/ops/mlp.cc", "src/ops/guided_linear.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node find-libtorch.cjs includes)"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "<!@(node find-libtorch.cjs defines)"],
    "cflags!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "<!@(node find-libtorch.cjs cflags)", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "ldflags": ["-Wl,--enable-new-dtags", "<!@(node find-libtorch.cjs cflags)"],
    "libraries": ["<!@(node find-libtorch.cjs libs)"]
  }]
}
