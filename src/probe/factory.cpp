// Which backends this build has. The CUDA factory lives in src/probe/cuda/ and is compiled only
// when the toolkit was found (KVPLAN_HAVE_CUDA).
#include "kvplan/probe/probe.hpp"

namespace kvplan::probe {

#ifdef KVPLAN_HAVE_CUDA
std::unique_ptr<Probe> make_cuda_probe_impl(int device);
bool cuda_built() { return true; }
std::unique_ptr<Probe> make_cuda_probe(int device) { return make_cuda_probe_impl(device); }
#else
bool cuda_built() { return false; }
std::unique_ptr<Probe> make_cuda_probe(int) {
  throw Unavailable(
      "CUDA probe unavailable: this kvplan was built without CUDA (configure with -DKVPLAN_CUDA=ON on a machine "
      "with the CUDA toolkit, or use scripts/build-portable.sh)");
}
#endif

}  // namespace kvplan::probe
