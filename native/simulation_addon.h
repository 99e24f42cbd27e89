// The Node-API side of simulated worlds (io/simulation.ts): kept apart from
// addon.cc, which only gains the one call that registers it.
#pragma once

#include <napi.h>

namespace tigerio {

// Adds `NativeWorld` to the addon's exports.
void register_simulation(Napi::Env env, Napi::Object exports);

}  // namespace tigerio
