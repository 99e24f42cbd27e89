// The Node-API boundary: argument checks and JS <-> C++ conversion, nothing
// else. io/ checks arguments first with friendlier messages; the checks here
// make the addon safe on its own (a wrong type is a TypeError, never a crash).
// Context-aware: no globals but the event registry, an env cleanup hook per IO.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "attach.h"
#include "backend/registry.h"
#include "core/errors.h"
#include "core/layout.h"
#include "core/loop.h"
#include "simulation_addon.h"

namespace tigerio {

namespace {

Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, "tigerio: " + message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowRange(Napi::Env env, const std::string& message, const char* code = nullptr) {
  Napi::Error error = Napi::RangeError::New(env, "tigerio: " + message);
  if (code != nullptr) error.Set("code", Napi::String::New(env, code));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

// A number that is an integer in [min, max].
bool IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max,
                double* out) {
  Napi::Env env = info.Env();
  double value = 0;
  // One Node-API call: napi_get_value_double refuses anything but a number.
  if (napi_get_value_double(env, info[index], &value) != napi_ok) {
    ThrowType(env, std::string(name) + " must be a number");
    return false;
  }
  if (!std::isfinite(value) || std::floor(value) != value || value < min || value > max) {
    ThrowRange(env, std::string(name) + " is out of range");
    return false;
  }
  *out = value;
  return true;
}

bool FdArg(const Napi::CallbackInfo& info, size_t index, int32_t* fd) {
  double value = 0;
  if (!IntegerArg(info, index, "fd", 0, 2147483647.0, &value)) return false;
  *fd = static_cast<int32_t>(value);
  return true;
}

// Any TypedArray or DataView, not detached and not empty; clamped to buffer_size_max.
bool BufferArg(const Napi::CallbackInfo& info, size_t index, uint32_t buffer_size_max, uint8_t** data,
               uint32_t* length) {
  napi_env env = info.Env();
  napi_value value = info[index];
  void* raw = nullptr;
  size_t byte_length = 0;
  bool is_typed_array = false;
  bool is_data_view = false;
  napi_is_typedarray(env, value, &is_typed_array);
  if (is_typed_array) {
    napi_typedarray_type type;
    size_t element_count = 0;
    napi_value array_buffer;
    size_t byte_offset = 0;
    if (napi_get_typedarray_info(env, value, &type, &element_count, &raw, &array_buffer, &byte_offset) != napi_ok) {
      ThrowType(info.Env(), "buffer could not be read");
      return false;
    }
    size_t element_size = 1;
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array:
        element_size = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        element_size = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        element_size = 8;
        break;
      default:
        break;
    }
    byte_length = element_count * element_size;
  } else {
    napi_is_dataview(env, value, &is_data_view);
    if (!is_data_view) {
      ThrowType(info.Env(), "buffer must be a Uint8Array or another ArrayBufferView");
      return false;
    }
    napi_value array_buffer;
    size_t byte_offset = 0;
    if (napi_get_dataview_info(env, value, &byte_length, &raw, &array_buffer, &byte_offset) != napi_ok) {
      ThrowType(info.Env(), "buffer could not be read");
      return false;
    }
  }
  if (raw == nullptr || byte_length == 0) {
    ThrowRange(info.Env(), "buffer must not be empty or detached");
    return false;
  }
  *data = static_cast<uint8_t*>(raw);
  *length = static_cast<uint32_t>(byte_length < buffer_size_max ? byte_length : buffer_size_max);
  return true;
}

bool StringArg(const Napi::CallbackInfo& info, size_t index, const char* name, std::string* out) {
  if (!info[index].IsString()) {
    ThrowType(info.Env(), std::string(name) + " must be a string");
    return false;
  }
  *out = info[index].As<Napi::String>().Utf8Value();
  if (std::memchr(out->data(), 0, out->size()) != nullptr) {
    ThrowType(info.Env(), std::string(name) + " must not contain NUL bytes");
    return false;
  }
  return true;
}

}  // namespace

class NativeIO : public Napi::ObjectWrap<NativeIO> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIO",
                       {
                           InstanceAccessor<&NativeIO::Backend>("backend"),
                           InstanceMethod<&NativeIO::Accept>("accept"),
                           InstanceMethod<&NativeIO::Connect>("connect"),
                           InstanceMethod<&NativeIO::Recv>("recv"),
                           InstanceMethod<&NativeIO::Send>("send"),
                           InstanceMethod<&NativeIO::Timeout>("timeout"),
                           InstanceMethod<&NativeIO::Close>("close"),
                           InstanceMethod<&NativeIO::Open>("open"),
                           InstanceMethod<&NativeIO::Read>("read"),
                           InstanceMethod<&NativeIO::Write>("write"),
                           InstanceMethod<&NativeIO::EventListen>("eventListen"),
                           InstanceMethod<&NativeIO::Cancel>("cancel"),
                           InstanceMethod<&NativeIO::Poll>("poll"),
                           InstanceMethod<&NativeIO::Attach>("attach"),
                           InstanceMethod<&NativeIO::Detach>("detach"),
                           InstanceMethod<&NativeIO::CancelAll>("cancelAll"),
                           InstanceMethod<&NativeIO::Destroy>("destroy"),
                           InstanceMethod<&NativeIO::Listen>("listen"),
                           InstanceMethod<&NativeIO::Socket>("socket"),
                           InstanceMethod<&NativeIO::LocalAddress>("localAddress"),
                           InstanceMethod<&NativeIO::RemoteAddress>("remoteAddress"),
                           InstanceMethod<&NativeIO::Shutdown>("shutdown"),
                           InstanceMethod<&NativeIO::EventOpen>("eventOpen"),
                           InstanceMethod<&NativeIO::EventClose>("eventClose"),
                       });
  }

  // new NativeIO(backend, entries, operationsMax, bufferSizeMax, fdsMax, completions: Int32Array, state: Int32Array)
  explicit NativeIO(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIO>(info) {
    Napi::Env env = info.Env();
    std::string backend;
    double entries = 0, operations_max = 0, buffer_size_max = 0, fds_max = 0;
    if (!StringArg(info, 0, "backend", &backend) || !IntegerArg(info, 1, "entries", 1, kEntriesMax, &entries) ||
        !IntegerArg(info, 2, "operationsMax", 1, kOperationsMaxLimit, &operations_max) ||
        !IntegerArg(info, 3, "bufferSizeMax", 1, kBufferSizeMaxLimit, &buffer_size_max) ||
        !IntegerArg(info, 4, "fdsMax", 1, kFdsMaxLimit, &fds_max)) {
      return;
    }
    if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        !info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      ThrowType(env, "completions and state must be Int32Arrays");
      return;
    }
    Napi::Int32Array completions = info[5].As<Napi::Int32Array>();
    Napi::Int32Array state = info[6].As<Napi::Int32Array>();
    if (completions.ElementLength() != static_cast<size_t>(entries) * 2 || state.ElementLength() != kStateLength) {
      ThrowRange(env, "completions must hold entries * 2 and state " + std::to_string(kStateLength) + " words");
      return;
    }
    completions_ = Napi::Persistent(completions);
    state_ = Napi::Persistent(state);
    LoopConfig config{};
    config.entries = static_cast<uint32_t>(entries);
    config.operations_max = static_cast<uint32_t>(operations_max);
    config.buffer_size_max = static_cast<uint32_t>(buffer_size_max);
    config.fds_max = static_cast<uint32_t>(fds_max);
    config.completions = completions.Data();
    config.state = state.Data();
    int error = 0;
    loop_ = Loop::create(backend, config, create_backend, &error);
    if (!loop_) {
      Napi::Error failure = Napi::Error::New(env, "tigerio: could not create the " + backend + " backend");
      failure.Set("errno", Napi::Number::New(env, error));
      failure.ThrowAsJavaScriptException();
      return;
    }
    napi_add_env_cleanup_hook(env, OnEnvironmentCleanup, this);
    cleanup_registered_ = true;
  }

  ~NativeIO() override { Teardown(); }

 private:
  static void OnEnvironmentCleanup(void* data) { static_cast<NativeIO*>(data)->Teardown(); }

  // Frees everything native: the attachment, the backend, the fds the IO owns.
  void Teardown() {
    if (attachment_ != nullptr) attachment_->Close();
    loop_.reset();
    if (cleanup_registered_) {
      napi_remove_env_cleanup_hook(Env(), OnEnvironmentCleanup, this);
      cleanup_registered_ = false;
    }
  }

  bool Live(Napi::Env env) {
    if (loop_) return true;
    Napi::Error error = Napi::TypeError::New(env, "tigerio: this IO has been deinitialized");
    error.Set("code", Napi::String::New(env, "ERR_IO_DEINITIALIZED"));
    error.ThrowAsJavaScriptException();
    return false;
  }

  Op* Acquire(Napi::Env env, OpKind kind, int32_t fd) {
    if (!Live(env)) return nullptr;
    Op* op = loop_->acquire(kind, fd);
    if (op == nullptr) {
      ThrowRange(env,
                 "too many operations in flight (operationsMax is " +
                     std::to_string(loop_->config().operations_max) + "); nothing was submitted",
                 "ERR_IO_FULL");
    }
    return op;
  }

  Napi::Value Submit(Napi::Env env, Op* op) {
    loop_->start(op);
    if (attachment_ != nullptr) attachment_->AfterSubmit();
    return Napi::Number::New(env, static_cast<double>(op->id()));
  }

  Napi::Value Backend(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    return Napi::String::New(info.Env(), loop_->backend_name());
  }

  // An operation whose only argument is its fd: accept, close.
  Napi::Value FdOnly(const Napi::CallbackInfo& info, OpKind kind) {
    int32_t fd = 0;
    if (!FdArg(info, 0, &fd)) return info.Env().Undefined();
    Op* op = Acquire(info.Env(), kind, fd);
    return op == nullptr ? info.Env().Undefined() : Submit(info.Env(), op);
  }

  Napi::Value Accept(const Napi::CallbackInfo& info) { return FdOnly(info, OpKind::accept); }

  Napi::Value Connect(const Napi::CallbackInfo& info) {
    int32_t fd = 0;
    std::string host;
    double port = 0;
    if (!FdArg(info, 0, &fd) || !StringArg(info, 1, "host", &host) || !IntegerArg(info, 2, "port", 1, 65535, &port)) {
      return info.Env().Undefined();
    }
    AddressStorage address;
    if (!parse_ip_address(host.c_str(), static_cast<int>(port), &address)) {
      return ThrowType(info.Env(), "host must be an IP literal");
    }
    Op* op = Acquire(info.Env(), OpKind::connect, fd);
    if (op == nullptr) return info.Env().Undefined();
    op->args.connect.address = address;
    return Submit(info.Env(), op);
  }

  Napi::Value Transfer(const Napi::CallbackInfo& info, OpKind kind, bool positioned) {
    Napi::Env env = info.Env();
    int32_t fd = 0;
    uint8_t* data = nullptr;
    uint32_t length = 0;
    double position = -1;
    if (!Live(env) || !FdArg(info, 0, &fd) || !BufferArg(info, 1, loop_->config().buffer_size_max, &data, &length)) {
      return env.Undefined();
    }
    if (positioned && !IntegerArg(info, 2, "position", -1, 9007199254740991.0, &position)) return env.Undefined();
    Op* op = Acquire(env, kind, fd);
    if (op == nullptr) return env.Undefined();
    if (positioned) {
      op->file_transfer() = FileTransferArgs{data, length, static_cast<int64_t>(position)};
    } else {
      op->transfer() = TransferArgs{data, length};
    }
    return Submit(env, op);
  }

  Napi::Value Recv(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::recv, false); }
  Napi::Value Send(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::send, false); }
  Napi::Value Read(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::read, true); }
  Napi::Value Write(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::write, true); }

  Napi::Value Timeout(const Napi::CallbackInfo& info) {
    double ns = 0;
    if (!IntegerArg(info, 0, "nanoseconds", 0, kTimeoutNsMax, &ns)) return info.Env().Undefined();
    Op* op = Acquire(info.Env(), OpKind::timeout, -1);
    if (op == nullptr) return info.Env().Undefined();
    // Measured from the call, on every backend (contract rule 8).
    op->args.timeout.deadline_ns = loop_->now_ns() + static_cast<int64_t>(ns);
    return Submit(info.Env(), op);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) { return FdOnly(info, OpKind::close); }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    std::string path;
    double flags = 0, mode = 0;
    if (!StringArg(info, 0, "path", &path) || !IntegerArg(info, 1, "flags", 0, 63, &flags) ||
        !IntegerArg(info, 2, "mode", 0, 07777, &mode)) {
      return info.Env().Undefined();
    }
    Op* op = Acquire(info.Env(), OpKind::open, -1);
    if (op == nullptr) return info.Env().Undefined();
    op->path_storage.reset(new char[path.size() + 1]);
    std::memcpy(op->path_storage.get(), path.c_str(), path.size() + 1);
    op->args.open = OpenArgs{op->path_storage.get(), static_cast<uint32_t>(flags), static_cast<uint32_t>(mode)};
    return Submit(info.Env(), op);
  }

  Napi::Value EventListen(const Napi::CallbackInfo& info) {
    double handle = 0;
    if (!IntegerArg(info, 0, "handle", 1, 4294967295.0, &handle)) return info.Env().Undefined();
    Op* op = Acquire(info.Env(), OpKind::event_listen, -1);
    if (op == nullptr) return info.Env().Undefined();
    op->args.event_listen.handle = static_cast<uint32_t>(handle);
    return Submit(info.Env(), op);
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    double id = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 0, "operation", 0, 9007199254740991.0, &id)) {
      return info.Env().Undefined();
    }
    const bool cancelled = loop_->cancel(static_cast<uint64_t>(id));
    if (cancelled && attachment_ != nullptr) attachment_->AfterSubmit();
    return Napi::Boolean::New(info.Env(), cancelled);
  }

  Napi::Value Poll(const Napi::CallbackInfo& info) {
    double timeout_ns = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 0, "timeoutNs", -1, 9007199254740991.0, &timeout_ns)) {
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), loop_->poll(static_cast<int64_t>(timeout_ns)));
  }

  Napi::Value Attach(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    if (!info[0].IsFunction()) return ThrowType(info.Env(), "dispatch must be a function");
    if (attachment_ == nullptr) {
      attachment_ = Attachment::Start(info.Env(), loop_.get(), info[0], Value(), &attachment_);
    }
    return info.Env().Undefined();
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    if (attachment_ != nullptr) attachment_->Close();
    return info.Env().Undefined();
  }

  Napi::Value CancelAll(const Napi::CallbackInfo& info) {
    if (Live(info.Env())) loop_->cancel_all();
    return info.Env().Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    std::string host;
    double port = 0, backlog = 0;
    if (!Live(info.Env()) || !StringArg(info, 0, "host", &host) || !IntegerArg(info, 1, "port", 0, 65535, &port) ||
        !IntegerArg(info, 2, "backlog", 1, 65535, &backlog)) {
      return info.Env().Undefined();
    }
    if (!info[3].IsBoolean()) return ThrowType(info.Env(), "reusePort must be a boolean");
    const int fd = loop_->listen(host.c_str(), static_cast<int>(port), static_cast<int>(backlog),
                                           info[3].As<Napi::Boolean>().Value());
    return Napi::Number::New(info.Env(), fd);
  }

  Napi::Value Socket(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    if (!info[0].IsBoolean()) return ThrowType(info.Env(), "ipv6 must be a boolean");
    return Napi::Number::New(info.Env(), loop_->socket(info[0].As<Napi::Boolean>().Value()));
  }

  Napi::Value Address(const Napi::CallbackInfo& info, bool peer) {
    Napi::Env env = info.Env();
    int32_t fd = 0;
    if (!Live(env) || !FdArg(info, 0, &fd)) return env.Undefined();
    char address[64] = {0};
    int port = 0, family = 0;
    const int rc = loop_->address(fd, peer, address, sizeof(address), &port, &family);
    Napi::Array result = Napi::Array::New(env, 3);
    result.Set(0u, Napi::String::New(env, rc < 0 ? "" : address));
    result.Set(1u, Napi::Number::New(env, port));
    result.Set(2u, Napi::Number::New(env, rc < 0 ? rc : family));
    return result;
  }

  Napi::Value LocalAddress(const Napi::CallbackInfo& info) { return Address(info, false); }
  Napi::Value RemoteAddress(const Napi::CallbackInfo& info) { return Address(info, true); }

  // shutdown(fd, how): how 1 = send, 2 = receive, 3 = both. 0 or a negative errno.
  Napi::Value Shutdown(const Napi::CallbackInfo& info) {
    int32_t fd = 0;
    double how = 0;
    if (!Live(info.Env()) || !FdArg(info, 0, &fd) || !IntegerArg(info, 1, "how", 1, 3, &how)) {
      return info.Env().Undefined();
    }
    const int bits = static_cast<int>(how);
    return Napi::Number::New(info.Env(), loop_->shutdown(fd, (bits & 1) != 0, (bits & 2) != 0));
  }

  Napi::Value EventOpen(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    const int64_t handle = loop_->event_open();
    if (handle < 0) {
      return ThrowRange(info.Env(), "too many events open on this IO (" + std::to_string(kEventsPerIOMax) + " at most)",
                        "ERR_IO_FULL");
    }
    return Napi::Number::New(info.Env(), static_cast<double>(handle));
  }

  Napi::Value EventClose(const Napi::CallbackInfo& info) {
    double handle = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 0, "handle", 1, 4294967295.0, &handle)) return info.Env().Undefined();
    if (!loop_->event_close(static_cast<uint32_t>(handle))) {
      return ThrowRange(info.Env(), "no such event on this IO");
    }
    if (attachment_ != nullptr) attachment_->AfterSubmit();
    return info.Env().Undefined();
  }

  std::unique_ptr<Loop> loop_;
  Napi::Reference<Napi::Int32Array> completions_;
  Napi::Reference<Napi::Int32Array> state_;
  Attachment* attachment_ = nullptr;
  bool cleanup_registered_ = false;
};

// ---- Module ----------------------------------------------------------------

namespace {

Napi::Value Backends(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = available_backends();
  Napi::Array result = Napi::Array::New(info.Env(), names.size());
  for (uint32_t i = 0; i < names.size(); i++) result.Set(i, Napi::String::New(info.Env(), names[i]));
  return result;
}

Napi::Value EventTrigger(const Napi::CallbackInfo& info) {
  double handle = 0;
  if (!IntegerArg(info, 0, "handle", 1, 4294967295.0, &handle)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), Loop::event_trigger(static_cast<uint32_t>(handle)));
}

Napi::Object Layout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("slotBits", kSlotBits);
  layout.Set("entriesMax", kEntriesMax);
  layout.Set("entriesDefault", kEntriesDefault);
  layout.Set("operationsMaxLimit", kOperationsMaxLimit);
  layout.Set("operationsMaxDefault", kOperationsMaxDefault);
  layout.Set("bufferSizeMaxLimit", kBufferSizeMaxLimit);
  layout.Set("bufferSizeMaxDefault", kBufferSizeMaxDefault);
  layout.Set("fdsMaxLimit", kFdsMaxLimit);
  layout.Set("fdsMaxDefault", kFdsMaxDefault);
  layout.Set("eventsPerIOMax", kEventsPerIOMax);
  layout.Set("timeoutNsMax", kTimeoutNsMax);
  layout.Set("kindShift", kKindShift);
  layout.Set("stateInflight", kStateInflight);
  layout.Set("stateUndelivered", kStateUndelivered);
  layout.Set("stateLength", kStateLength);
  layout.Set("openRead", kOpenRead);
  layout.Set("openWrite", kOpenWrite);
  layout.Set("openCreate", kOpenCreate);
  layout.Set("openTruncate", kOpenTruncate);
  layout.Set("openAppend", kOpenAppend);
  layout.Set("openExclusive", kOpenExclusive);
  const uint32_t kinds = static_cast<uint32_t>(OpKind::count);
  Napi::Array names = Napi::Array::New(env, kinds);
  for (uint32_t i = 0; i < kinds; i++) names.Set(i, Napi::String::New(env, op_kind_name(static_cast<OpKind>(i))));
  layout.Set("operationNames", names);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeIO", NativeIO::Define(env));
  exports.Set("backends", Napi::Function::New(env, Backends, "backends"));
  exports.Set("eventTrigger", Napi::Function::New(env, EventTrigger, "eventTrigger"));
  exports.Set("layout", Layout(env));
  register_simulation(env, exports);
  return exports;
}

}  // namespace

}  // namespace tigerio

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tigerio::Init(env, exports); }

NODE_API_MODULE(tigerio, InitModule)
