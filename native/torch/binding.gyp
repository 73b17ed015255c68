{
  "targets": [
    {
      "target_name": "defrost_torch",
      "sources": ["src/graph-napi.cc", "src/graph-trainer.cc", "../src/adam.cc"],
      "include_dirs": ["/usr/include/torch/csrc/api/include"],
      "libraries": ["-ltorch_cpu", "-lc10"],
      "cflags_cc": ["-O2", "-std=c++17", "-fexceptions", "-ffp-contract=off", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
