{
  "targets": [
    {
      "target_name": "cellar_native",
      "sources": ["csrc/erasure.c", "csrc/addon.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags": ["-O3"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3"],
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
