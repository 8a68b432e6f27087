// Locates libtorch for binding.gyp. Order: $LIBTORCH (a libtorch folder, or a pip torch folder
// with include/ and lib/), then Debian's libtorch-dev. Prints one gyp list for the asked part.
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

function multiarch() {
  try { return execSync('gcc -print-multiarch', { encoding: 'utf8' }).trim(); } catch { return 'x86_64-linux-gnu'; }
}

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const inc = path.join(root, 'include');
    const lib = path.join(root, 'lib');
    if (!fs.existsSync(path.join(inc, 'ATen', 'ATen.h')) || !fs.existsSync(lib)) {
      throw new Error(`LIBTORCH=${root} has no include/ATen/ATen.h and lib/: point it at a libtorch folder or a pip torch folder`);
    }
    return { includes: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')], libdir: lib, cxx11abi: abiOf(root) };
  }
  const inc = '/usr/include';
  if (!fs.existsSync(path.join(inc, 'torch', 'csrc', 'api', 'include'))) {
    throw new Error('libtorch not found: install Debian\'s libtorch-dev (scripts/setup.sh does) or set LIBTORCH');
  }
  return { includes: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')], libdir: `/usr/lib/${multiarch()}`, cxx11abi: 1 };
}

// Pre-2.x pip wheels were built with the old C++ ABI; TorchConfig.cmake records which.
function abiOf(root) {
  for (const rel of ['share/cmake/Torch/TorchConfig.cmake']) {
    const f = path.join(root, rel);
    if (fs.existsSync(f)) {
      const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(fs.readFileSync(f, 'utf8'));
      if (m) return Number(m[1]);
    }
  }
  return 1;
}

const t = locate();
const blasDir = `/usr/lib/${multiarch()}/openblas-openmp`;
const hasCuda = fs.existsSync(path.join(t.libdir, 'libtorch_cuda.so'));
// ATen's parallel_for is a header template: with an OpenMP libtorch it only runs in parallel when the
// addon itself is compiled with -fopenmp (the custom ops in src/ops use it).
const configH = t.includes.map((d) => path.join(d, 'ATen', 'Config.h')).find((f) => fs.existsSync(f));
const openmp = configH !== undefined && /#define AT_PARALLEL_OPENMP 1/.test(fs.readFileSync(configH, 'utf8'));
// c10d backends, each compiled in only when its headers are here: Gloo (Debian: libgloo-dev; the
// code is in libtorch_cpu) and, with a CUDA libtorch, NCCL (nccl.h from the CUDA toolkit, Debian's
// libnccl-dev or pip's nvidia-nccl wheel beside torch).
const findInclude = (dirs, rel) => dirs.find((d) => fs.existsSync(path.join(d, rel)));
const c10d = (name) => findInclude(t.includes, path.join('torch', 'csrc', 'distributed', 'c10d', name)) !== undefined;
const hasGloo = c10d('ProcessGroupGloo.hpp') && findInclude([...t.includes, '/usr/include'], path.join('gloo', 'config.h')) !== undefined;
const cudaHome = process.env.CUDA_HOME ?? process.env.CUDA_PATH ?? '/usr/local/cuda';
const cudaInc = hasCuda ? findInclude([path.join(cudaHome, 'include'), '/usr/include'], 'cuda_runtime_api.h') : undefined;
const ncclInc = hasCuda && c10d('ProcessGroupNCCL.hpp')
  ? findInclude([process.env.NCCL_INCLUDE_DIR ?? '', ...t.includes, path.join(cudaHome, 'include'), '/usr/include',
    path.join(t.libdir, '..', '..', 'nvidia', 'nccl', 'include')].filter(Boolean), 'nccl.h')
  : undefined;
const what = process.argv[2];
const out = {
  cflags: openmp ? ['-fopenmp'] : [],
  includes: [...t.includes, ...(cudaInc ? [cudaInc] : []), ...(ncclInc && ncclInc !== cudaInc ? [ncclInc] : [])],
  defines: [`_GLIBCXX_USE_CXX11_ABI=${t.cxx11abi}`].concat(hasCuda ? ['AHS_WITH_CUDA=1'] : [])
    .concat(hasGloo ? ['USE_C10D_GLOO', 'AHS_WITH_GLOO=1'] : [])
    .concat(ncclInc ? ['USE_C10D_NCCL', 'AHS_WITH_NCCL=1'] : []),
  // --no-as-needed keeps libtorch_cuda (its kernels register at load) and the OpenMP BLAS linked.
  // The OpenMP OpenBLAS is linked by path with a RUNPATH so that libtorch's libblas.so.3 resolves to
  // it without any system-wide alternatives change (see ../shared/design/engine-notes.md).
  libs: ['-Wl,--no-as-needed', `-L${t.libdir}`, `-Wl,-rpath,${t.libdir}`, '-ltorch', '-ltorch_cpu', '-lc10']
    .concat(hasCuda ? ['-ltorch_cuda', '-lc10_cuda'] : [])
    .concat(fs.existsSync(path.join(blasDir, 'libblas.so.3')) ? [`${blasDir}/libblas.so.3`, `-Wl,-rpath,${blasDir}`] : [])
    .concat(['-Wl,--as-needed']),
}[what];
if (!out) throw new Error(`usage: find-libtorch.cjs includes|defines|cflags|libs`);
process.stdout.write(out.join(' '));
