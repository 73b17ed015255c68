{
  "targets": [
    {
      "target_name": "defrost_kernels",
      "sources": ["src/addon.cc", "src/kernels.cc", "src/adam.cc", "src/pooling.cc", "src/blas.cc", "src/trainer.cc", "src/trainer-napi.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-ffp-contract=off", "-fno-math-errno"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
