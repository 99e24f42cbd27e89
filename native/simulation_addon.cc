// NativeWorld: a simulated world as JS sees it: argument checks and
// conversion only. The world itself is backend/sim_world.h; an IO joins it
// through the backend name "simulation:<id>".
#include "simulation_addon.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "backend/sim_faults.h"
#include "backend/sim_world.h"

namespace tigerio {

namespace {

constexpr double kNsMax = 9007199254740991.0;  // 2^53 - 1: exact in a JS number

// The Faults fields, in the order io/simulation.ts writes them: parts per
// million (rates) or nanoseconds (distributions).
bool ReadFaults(const Napi::Float64Array& values, sim::Faults* faults) {
  if (values.ElementLength() != sim::Faults::kFieldCount) return false;
  uint32_t* const rates[] = {&faults->partial_send_ppm, &faults->short_recv_ppm, &faults->reset_ppm,
                             &faults->connect_refused_ppm, &faults->accept_emfile_ppm, &faults->partition_ppm,
                             &faults->clog_ppm, &faults->read_error_ppm, &faults->write_error_ppm,
                             &faults->crash_lost_ppm, &faults->sync_error_ppm, &faults->timer_late_ppm,
                             &faults->datagram_loss_ppm, &faults->datagram_duplicate_ppm,
                             &faults->crash_lost_name_ppm, &faults->cancel_lost_ppm, &faults->cancel_ignored_ppm};
  int64_t* const durations[] = {&faults->network_delay_min_ns, &faults->network_delay_mean_ns,
                                &faults->connect_delay_mean_ns, &faults->partition_min_ns,
                                &faults->partition_max_ns, &faults->clog_mean_ns, &faults->disk_latency_min_ns,
                                &faults->disk_latency_mean_ns, &faults->timer_late_mean_ns};
  static_assert(sizeof(rates) / sizeof(rates[0]) + sizeof(durations) / sizeof(durations[0]) ==
                    sim::Faults::kFieldCount,
                "every field read");
  size_t index = 0;
  for (uint32_t* rate : rates) {
    const double value = values[index++];
    if (!std::isfinite(value) || std::floor(value) != value || value < 0 || value > sim::Random::kMillion) return false;
    *rate = static_cast<uint32_t>(value);
  }
  for (int64_t* duration : durations) {
    const double value = values[index++];
    if (!std::isfinite(value) || std::floor(value) != value || value < 0 || value > kNsMax) return false;
    *duration = static_cast<int64_t>(value);
  }
  return faults->partition_max_ns >= faults->partition_min_ns;
}

class NativeWorld : public Napi::ObjectWrap<NativeWorld> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeWorld",
                       {
                           InstanceAccessor<&NativeWorld::Id>("id"),
                           InstanceMethod<&NativeWorld::NowNs>("nowNs"),
                           InstanceMethod<&NativeWorld::Step>("step"),
                           InstanceMethod<&NativeWorld::RunUntil>("runUntil"),
                           InstanceMethod<&NativeWorld::EndRound>("endRound"),
                           InstanceMethod<&NativeWorld::Trace>("trace"),
                           InstanceMethod<&NativeWorld::TraceEvents>("traceEvents"),
                           InstanceMethod<&NativeWorld::NodeCount>("nodeCount"),
                           InstanceMethod<&NativeWorld::OpenFds>("openFds"),
                           InstanceMethod<&NativeWorld::CancelsIgnored>("cancelsIgnored"),
                           InstanceMethod<&NativeWorld::Crash>("crash"),
                           InstanceMethod<&NativeWorld::Exists>("exists"),
                           InstanceMethod<&NativeWorld::Unlink>("unlink"),
                           // The length of the faults array the constructor takes (io/world.ts).
                           StaticValue("faultFields", Napi::Number::New(env, sim::Faults::kFieldCount)),
                       });
  }

  // new NativeWorld(seedHigh: uint32, seedLow: uint32, faults: Float64Array)
  explicit NativeWorld(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeWorld>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      Napi::TypeError::New(env, "tigerio: NativeWorld(seedHigh, seedLow, faults: Float64Array)")
          .ThrowAsJavaScriptException();
      return;
    }
    const double high = info[0].As<Napi::Number>().DoubleValue();
    const double low = info[1].As<Napi::Number>().DoubleValue();
    sim::Faults faults;
    if (!(high >= 0 && high <= 4294967295.0 && std::floor(high) == high && low >= 0 && low <= 4294967295.0 &&
          std::floor(low) == low) ||
        !ReadFaults(info[2].As<Napi::Float64Array>(), &faults)) {
      Napi::RangeError::New(env, "tigerio: simulation seed or faults out of range").ThrowAsJavaScriptException();
      return;
    }
    const uint64_t seed = (static_cast<uint64_t>(high) << 32) | static_cast<uint64_t>(low);
    world_ = std::make_shared<sim::World>(seed, faults);
    id_ = sim::world_register(world_);
  }

  ~NativeWorld() override {
    if (id_ != 0) sim::world_unregister(id_);  // its IOs keep the world itself alive
  }

 private:
  Napi::Value Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

  Napi::Value NowNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(world_->now_ns()));
  }

  // Argument `index` as a whole number of ns in [min_ns, max_ns] (a missing
  // or non-number one is -1): false, with a RangeError naming it, if not.
  static bool NsArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min_ns, double max_ns,
                    double* ns) {
    TIGERIO_ASSERT(min_ns >= -1 && min_ns <= max_ns && max_ns <= kNsMax);
    *ns = info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : -1;
    if (*ns >= min_ns && *ns <= max_ns && std::floor(*ns) == *ns) return true;
    Napi::RangeError::New(info.Env(), std::string("tigerio: ") + name + " out of range").ThrowAsJavaScriptException();
    return false;
  }

  // Argument `index` as a limit: -1 (none, also when missing) or a time in ns.
  static bool LimitArg(const Napi::CallbackInfo& info, size_t index, double* limit_ns) {
    if (!info[index].IsNumber() || info[index].As<Napi::Number>().DoubleValue() == -1) {
      *limit_ns = -1;
      return true;
    }
    return NsArg(info, index, "limitNs", 0, kNsMax, limit_ns);
  }

  // step(limitNs): -1 for no limit. See World::step.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    double limit = -1;
    if (!LimitArg(info, 0, &limit)) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), world_->step(static_cast<int64_t>(limit)));
  }

  // runUntil(atNs): every event up to atNs, then the clock stands there.
  Napi::Value RunUntil(const Napi::CallbackInfo& info) {
    double at = 0;
    if (!NsArg(info, 0, "atNs", static_cast<double>(world_->now_ns()), kNsMax, &at)) return info.Env().Undefined();
    world_->run_until(static_cast<int64_t>(at));
    return info.Env().Undefined();
  }

  // endRound(roundStartNs, limitNs): -1 for no limit. See World::end_round.
  Napi::Value EndRound(const Napi::CallbackInfo& info) {
    double start = 0, limit = -1;
    if (!NsArg(info, 0, "roundStartNs", 0, static_cast<double>(world_->now_ns()), &start)) return info.Env().Undefined();
    if (!LimitArg(info, 1, &limit)) return info.Env().Undefined();
    const int64_t next_start_ns = world_->end_round(static_cast<int64_t>(start), static_cast<int64_t>(limit));
    return Napi::Number::New(info.Env(), static_cast<double>(next_start_ns));
  }

  Napi::Value Trace(const Napi::CallbackInfo& info) {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(world_->trace().hash()));
    return Napi::String::New(info.Env(), text);
  }

  Napi::Value TraceEvents(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(world_->trace().events()));
  }

  Napi::Value NodeCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), world_->node_count()); }

  Napi::Value OpenFds(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), world_->fds_open()); }

  Napi::Value CancelsIgnored(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), world_->network().cancels_ignored());
  }

  Napi::Value Crash(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) {
      Napi::TypeError::New(info.Env(), "tigerio: node must be a number").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    const double node = info[0].As<Napi::Number>().DoubleValue();
    if (!(node >= 0 && node < world_->node_count() && std::floor(node) == node)) {
      Napi::RangeError::New(info.Env(), "tigerio: no such node").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    world_->crash(static_cast<uint32_t>(node));
    return info.Env().Undefined();
  }

  // exists(path) / unlink(path): the world's file namespace.
  Napi::Value Exists(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) {
      Napi::TypeError::New(info.Env(), "tigerio: path must be a string").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    return Napi::Boolean::New(info.Env(), world_->disk().exists(info[0].As<Napi::String>().Utf8Value()));
  }

  Napi::Value Unlink(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) {
      Napi::TypeError::New(info.Env(), "tigerio: path must be a string").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    return Napi::Boolean::New(info.Env(), world_->disk().unlink(info[0].As<Napi::String>().Utf8Value()));
  }

  std::shared_ptr<sim::World> world_;
  uint32_t id_ = 0;
};

}  // namespace

void register_simulation(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeWorld", NativeWorld::Define(env));
}

}  // namespace tigerio
