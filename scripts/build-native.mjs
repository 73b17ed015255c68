// Placeholder: the compute-backend owner replaces this with the OpenBLAS addon build.
console.log('native kernels: not built yet (plain wasm backend will be used)');
