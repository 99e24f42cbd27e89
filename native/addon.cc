// The Node-API boundary: argument checks and JS <-> C++ conversion, nothing
// else. io/ checks arguments first with friendlier messages; the checks here
// make the addon safe on its own (a wrong type is a TypeError, never a crash).
// Context-aware: no globals but the event registry, an env cleanup hook per IO.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "attach.h"
#include "backend/registry.h"
#include "core/errors.h"
#include "core/index_pool.h"
#include "core/layout.h"
#include "core/loop.h"
#include "core/thread_pool.h"
#include "core/signals.h"
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
bool IntegerValue(napi_env env, napi_value argument, const char* name, double min, double max, double* out) {
  double value = 0;
  // One Node-API call: napi_get_value_double refuses anything but a number.
  if (napi_get_value_double(env, argument, &value) != napi_ok) {
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

bool IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max,
                double* out) {
  return IntegerValue(info.Env(), info[index], name, min, max, out);
}

bool FdArg(const Napi::CallbackInfo& info, size_t index, int32_t* fd) {
  double value = 0;
  if (!IntegerArg(info, index, "fd", 0, 2147483647.0, &value)) return false;
  *fd = static_cast<int32_t>(value);
  return true;
}

// The bytes of a TypedArray or DataView, clamped to buffer_size_max; false
// if `value` is none, or is detached or empty (io/ checked it at the call:
// only a buffer touched before its callback, against the contract, fails here).
bool BufferOf(napi_env env, napi_value value, uint32_t buffer_size_max, uint8_t** data, uint32_t* length) {
  void* raw = nullptr;
  size_t byte_length = 0;
  napi_typedarray_type type;
  size_t element_count = 0;
  napi_value array_buffer;
  size_t byte_offset = 0;
  if (napi_get_typedarray_info(env, value, &type, &element_count, &raw, &array_buffer, &byte_offset) == napi_ok) {
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
  } else if (napi_get_dataview_info(env, value, &byte_length, &raw, &array_buffer, &byte_offset) != napi_ok) {
    return false;
  }
  if (raw == nullptr || byte_length == 0) return false;
  *data = static_cast<uint8_t*>(raw);
  *length = static_cast<uint32_t>(byte_length < buffer_size_max ? byte_length : buffer_size_max);
  TIGERIO_ASSERT(*length >= 1 && *length <= buffer_size_max);
  return true;
}

// The UTF-8 of a string `value` into out (NUL-terminated); false if it is not
// a string, has a NUL, or does not fit in out_size.
bool StringOf(napi_env env, napi_value value, char* out, size_t out_size, size_t* length) {
  TIGERIO_ASSERT(out != nullptr && out_size >= 1);
  if (napi_get_value_string_utf8(env, value, out, out_size, length) != napi_ok) return false;
  if (*length + 1 >= out_size) return false;  // cut short
  return std::memchr(out, 0, *length) == nullptr;
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
                           InstanceMethod<&NativeIO::Clock>("clock"),
                           InstanceMethod<&NativeIO::RegisterBuffer>("registerBuffer"),
                           InstanceMethod<&NativeIO::UnregisterBuffer>("unregisterBuffer"),
                           InstanceMethod<&NativeIO::Cancel>("cancel"),
                           InstanceMethod<&NativeIO::Attach>("attach"),
                           InstanceMethod<&NativeIO::Detach>("detach"),
                           InstanceMethod<&NativeIO::CancelAll>("cancelAll"),
                           InstanceMethod<&NativeIO::Destroy>("destroy"),
                           InstanceMethod<&NativeIO::Listen>("listen"),
                           InstanceMethod<&NativeIO::Socket>("socket"),
                           InstanceMethod<&NativeIO::LocalAddress>("localAddress"),
                           InstanceMethod<&NativeIO::RemoteAddress>("remoteAddress"),
                           InstanceMethod<&NativeIO::Shutdown>("shutdown"),
                           InstanceMethod<&NativeIO::SetCork>("setCork"),
                           InstanceMethod<&NativeIO::UdpSocket>("udpSocket"),
                           InstanceMethod<&NativeIO::Bind>("bind"),
                           InstanceMethod<&NativeIO::ListenUnix>("listenUnix"),
                           InstanceMethod<&NativeIO::UnixSocket>("unixSocket"),
                           InstanceMethod<&NativeIO::EventOpen>("eventOpen"),
                           InstanceMethod<&NativeIO::EventClose>("eventClose"),
                           InstanceMethod<&NativeIO::SimulateSignal>("simulateSignal"),
                           InstanceMethod<&NativeIO::PoolCreate>("poolCreate"),
                           InstanceMethod<&NativeIO::Abandoned>("abandoned"),
                       });
  }

  // new NativeIO(backend, entries, operationsMax, bufferSizeMax, fdsMax, completions: Int32Array,
  //              state: Int32Array, submissions: Int32Array, sides: Array, completionValues: Float64Array,
  //              fileThreads)
  explicit NativeIO(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIO>(info) {
    Napi::Env env = info.Env();
    std::string backend;
    double entries = 0, operations_max = 0, buffer_size_max = 0, fds_max = 0, file_threads = 0;
    if (!StringArg(info, 0, "backend", &backend) || !IntegerArg(info, 1, "entries", 1, kEntriesMax, &entries) ||
        !IntegerArg(info, 2, "operationsMax", 1, kOperationsMaxLimit, &operations_max) ||
        !IntegerArg(info, 3, "bufferSizeMax", 1, kBufferSizeMaxLimit, &buffer_size_max) ||
        !IntegerArg(info, 4, "fdsMax", 1, kFdsMaxLimit, &fds_max) ||
        !IntegerArg(info, 10, "fileThreads", 1, kFileThreadsMax, &file_threads)) {
      return;
    }
    if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        !info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      ThrowType(env, "completions and state must be Int32Arrays");
      return;
    }
    Napi::Int32Array completions = info[5].As<Napi::Int32Array>();
    Napi::Int32Array state = info[6].As<Napi::Int32Array>();
    if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[7].As<Napi::Int32Array>().ElementLength() != kSubmitQueueRecords * kSubmitRecordWords ||
        (reinterpret_cast<uintptr_t>(info[7].As<Napi::Int32Array>().Data()) % alignof(double)) != 0) {
      ThrowType(env, "submissions must be an 8-byte aligned Int32Array of the queue's size");
      return;
    }
    if (!info[8].IsArray()) {
      ThrowType(env, "sides must be an Array");
      return;
    }
    if (!info[9].IsTypedArray() || info[9].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[9].As<Napi::Float64Array>().ElementLength() != static_cast<size_t>(entries)) {
      ThrowType(env, "completionValues must be a Float64Array of entries float64s");
      return;
    }
    Napi::Float64Array completion_values = info[9].As<Napi::Float64Array>();
    submissions_array_ = Napi::Persistent(info[7].As<Napi::Int32Array>());
    submissions_ = info[7].As<Napi::Int32Array>().Data();
    sides_ = Napi::Persistent(info[8].As<Napi::Array>());
    slots_max_ = static_cast<uint32_t>(operations_max + entries);
    if (completions.ElementLength() != static_cast<size_t>(entries) * 2 || state.ElementLength() != kStateLength) {
      ThrowRange(env, "completions must hold entries * 2 and state " + std::to_string(kStateLength) + " words");
      return;
    }
    completions_ = Napi::Persistent(completions);
    state_ = Napi::Persistent(state);
    completion_values_ = Napi::Persistent(completion_values);
    LoopConfig config{};
    config.entries = static_cast<uint32_t>(entries);
    config.operations_max = static_cast<uint32_t>(operations_max);
    config.buffer_size_max = static_cast<uint32_t>(buffer_size_max);
    config.fds_max = static_cast<uint32_t>(fds_max);
    config.completions = completions.Data();
    config.state = state.Data();
    config.completion_values = completion_values.Data();
    config.file_threads = static_cast<uint32_t>(file_threads);
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
    // poll runs every tick, flush at every full queue and every microtask
    // of an attached IO. As own properties of this object, functions whose
    // data is this NativeIO, a call finds it with no napi_unwrap (a
    // private-symbol property lookup on the object: about 460 of the
    // 5,400 user-space instructions of a ping-pong tick on io_uring). io/
    // calls them on the object only, so they never outlive it.
    DefineEntry(env, info.This(), "poll", &NativeIO::PollEntry);
    DefineEntry(env, info.This(), "pollUntil", &NativeIO::PollUntilEntry);
    DefineEntry(env, info.This(), "flush", &NativeIO::FlushEntry);
  }

  ~NativeIO() override { Teardown(); }

 private:
  static void OnEnvironmentCleanup(void* data) { static_cast<NativeIO*>(data)->Teardown(); }

  // Frees everything native: the attachment, the backend, the fds the IO owns.
  void Teardown() {
    if (attachment_ != nullptr) attachment_->Close();
    loop_.reset();
    // The kernel wrote into the pools' memory only while an op was pending: none is now.
    pools_memory_.clear();
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

  Napi::Value Backend(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    return Napi::String::New(info.Env(), loop_->backend_name());
  }

  // Starts the `count` operations JS wrote into the submission queue (see
  // layout.h), in order.
  static_assert(static_cast<uint32_t>(OpKind::count) < kSubmitPoolRelease, "the canceled bit and the pool release are no kind's");
  void StartSubmissions(napi_env env, uint32_t count) {
    TIGERIO_ASSERT(loop_ && count <= kSubmitQueueRecords);
    napi_value sides = nullptr;
    for (uint32_t i = 0; i < count; i++) {
      const int32_t* record = submissions_ + i * kSubmitRecordWords;
      const double* numbers = reinterpret_cast<const double*>(record);
      const uint32_t kind_word = static_cast<uint32_t>(record[kSubmitKind]);
      if (kind_word == kSubmitPoolRelease) {
        const uint32_t pool = static_cast<uint32_t>(record[kSubmitInteger]);
        TIGERIO_ASSERT(pool < loop_->pool_count());
        // Free again, or back in the kernel's ring; a receive parked for a buffer is issued now.
        const int32_t released = loop_->pool_release(pool, static_cast<uint32_t>(record[kSubmitLength]));
        TIGERIO_ASSERT(released == 0);
        (void)released;
        continue;
      }
      const uint32_t kind_number = kind_word & ~kSubmitKindCanceled;
      const uint32_t slot = static_cast<uint32_t>(record[kSubmitSlot]);
      // io/ writes the queue: a bad record is a bug there, not bad user input.
      TIGERIO_ASSERT(kind_number < static_cast<uint32_t>(OpKind::count));
      TIGERIO_ASSERT(slot < slots_max_);
      const OpKind kind = static_cast<OpKind>(kind_number);
      Op* op = loop_->acquire(slot, kind, record[kSubmitFd]);
      if ((kind_word & kSubmitKindCanceled) != 0) {
        TIGERIO_ASSERT(kind != OpKind::close);  // io/ never cancels a close
        loop_->fail(op, kErrCanceled);
        continue;
      }
      napi_value side = nullptr;
      // Hosts, paths, and the rare buffer that is not registered (a SharedArrayBuffer's view).
      const bool transfer = kind == OpKind::recv || kind == OpKind::send || kind == OpKind::read || kind == OpKind::write;
      // A sendTo names its peer by host (in sides) or by an address object (NumberA >= 0: its offset).
      const bool host = kind == OpKind::send_to && numbers[kSubmitNumberA] < 0;
      if (kind == OpKind::connect || op_is_path_op(kind) || host || kind == OpKind::connect_unix ||
          (transfer && record[kSubmitBuffer] < 0)) {
        if (sides == nullptr) sides = sides_.Value();
        const bool got = napi_get_element(env, sides, slot, &side) == napi_ok;
        TIGERIO_ASSERT(got);
      }
      const int32_t failure = Arguments(env, op, record, numbers, side);
      if (failure < 0) {
        loop_->fail(op, failure);
      } else {
        loop_->start(op);
      }
    }
  }

  // Fills op's arguments from its record: 0, or a negative errno when they
  // are unusable (a buffer detached or emptied since the call: the caller
  // touched it before its callback).
  int32_t Arguments(napi_env env, Op* op, const int32_t* record, const double* numbers, napi_value side) {
    const uint32_t buffer_size_max = loop_->config().buffer_size_max;
    switch (op->kind) {
      case OpKind::accept:
      case OpKind::close:
        return 0;
      case OpKind::connect: {
        char host[64];
        size_t length = 0;
        if (!StringOf(env, side, host, sizeof(host), &length)) return kErrInvalid;
        const int port = record[kSubmitInteger];
        TIGERIO_ASSERT(port >= 1 && port <= 65535);
        return parse_ip_address(host, port, &op->args.connect.address) ? 0 : kErrInvalid;
      }
      case OpKind::recv:
      case OpKind::send: {
        TransferArgs& transfer = op->transfer();
        return Bytes(env, record, numbers, side, buffer_size_max, &transfer.buffer, &transfer.length) ? 0 : kErrInvalid;
      }
      case OpKind::read:
      case OpKind::write: {
        FileTransferArgs& file = op->file_transfer();
        file.position = static_cast<int64_t>(numbers[kSubmitNumberA]);
        TIGERIO_ASSERT(file.position >= -1);
        return Bytes(env, record, numbers, side, buffer_size_max, &file.buffer, &file.length) ? 0 : kErrInvalid;
      }
      case OpKind::timeout: {
        const double delay_ns = numbers[kSubmitNumberA];
        TIGERIO_ASSERT(delay_ns >= 0 && delay_ns <= kTimeoutNsMax);
        op->args.timeout.deadline_ns =
            loop_->deadline_ns(static_cast<int64_t>(delay_ns), static_cast<int64_t>(std::ceil(numbers[kSubmitNumberB])));
        op->args.timeout.delay_zero = delay_ns == 0;
        return 0;
      }
      case OpKind::open: {
        size_t length = 0;
        if (napi_get_value_string_utf8(env, side, nullptr, 0, &length) != napi_ok) return kErrInvalid;
        char* path = loop_->path_storage(op, length + 1);
        if (path == nullptr) return kErrNoMemory;
        size_t copied = 0;
        if (napi_get_value_string_utf8(env, side, path, length + 1, &copied) != napi_ok || copied != length ||
            std::memchr(path, 0, length) != nullptr) {
          return kErrInvalid;
        }
        op->args.open = OpenArgs{path, static_cast<uint32_t>(record[kSubmitInteger]),
                                 static_cast<uint32_t>(numbers[kSubmitNumberA])};
        return 0;
      }
      case OpKind::event_listen:
        op->args.event_listen.handle = static_cast<uint32_t>(numbers[kSubmitNumberA]);
        return 0;
      case OpKind::signal:
        op->args.signal.number = record[kSubmitInteger];
        TIGERIO_ASSERT(op->args.signal.number >= 1 && op->args.signal.number <= kSignalNumberMax);
        return 0;
      case OpKind::process_exit:
        op->args.process_exit.pid = record[kSubmitInteger];
        op->args.process_exit.handle = -1;
        op->args.process_exit.code_wide = -1;
        TIGERIO_ASSERT(op->args.process_exit.pid >= 1);
        return 0;
      case OpKind::fsync:
      case OpKind::fdatasync:
        return 0;
      case OpKind::file_size:
        op->args.file_size.size_bytes = 0;
        return 0;
      case OpKind::truncate: {
        const double length_bytes = numbers[kSubmitNumberA];
        TIGERIO_ASSERT(length_bytes >= 0 && length_bytes <= kFileBytesMax);
        op->args.truncate.length_bytes = static_cast<int64_t>(length_bytes);
        return 0;
      }
      case OpKind::allocate: {
        const double offset_bytes = numbers[kSubmitNumberA];
        const double length_bytes = numbers[kSubmitNumberB];
        // io/ checked both, and their sum, at the call.
        TIGERIO_ASSERT(offset_bytes >= 0 && length_bytes >= 1 && offset_bytes + length_bytes <= kFileBytesMax);
        op->args.allocate.offset_bytes = static_cast<int64_t>(offset_bytes);
        op->args.allocate.length_bytes = static_cast<int64_t>(length_bytes);
        return 0;
      }
      case OpKind::send_to:
      case OpKind::recv_from:
      case OpKind::connect_unix:
      case OpKind::send_file:
        return DatagramUnixFileArguments(env, op, record, numbers, side);
      case OpKind::rename:
      case OpKind::unlink:
      case OpKind::mkdir:
      case OpKind::open_directory:
        return PathArguments(env, op, record, numbers, side);
      case OpKind::recv_pooled: {
        const int32_t pool = record[kSubmitInteger];
        // io/ checked the pool is this IO's.
        TIGERIO_ASSERT(pool >= 0 && static_cast<uint32_t>(pool) < loop_->pool_count());
        op->args.recv_pooled = RecvPooledArgs{static_cast<uint32_t>(pool), kNoBuffer, nullptr, nullptr};
        return 0;
      }
      default:
        break;
    }
    TIGERIO_ASSERT(false && "a kind the submission queue does not carry");
    return kErrInvalid;
  }

  // rename, unlink, mkdir, openDirectory: the path (rename: "from\0to", io/
  // having refused a NUL in either) into the op's path storage, and the flags or mode.
  int32_t PathArguments(napi_env env, Op* op, const int32_t* record, const double* numbers, napi_value side) {
    size_t length = 0;
    if (napi_get_value_string_utf8(env, side, nullptr, 0, &length) != napi_ok) return kErrInvalid;
    char* path = loop_->path_storage(op, length + 1);
    if (path == nullptr) return kErrNoMemory;
    size_t copied = 0;
    if (napi_get_value_string_utf8(env, side, path, length + 1, &copied) != napi_ok || copied != length) {
      return kErrInvalid;
    }
    PathArgs args{path, nullptr, 0, 0};
    const char* nul = static_cast<const char*>(std::memchr(path, 0, length));
    if (op->kind == OpKind::rename) {
      if (nul == nullptr) return kErrInvalid;
      args.target = nul + 1;
      if (std::memchr(args.target, 0, length - static_cast<size_t>(args.target - path)) != nullptr) return kErrInvalid;
      args.flags = static_cast<uint32_t>(record[kSubmitInteger]);
      TIGERIO_ASSERT((args.flags & ~kRenameNoReplace) == 0);
    } else if (nul != nullptr) {
      return kErrInvalid;
    }
    if (op->kind == OpKind::mkdir) {
      const double mode = numbers[kSubmitNumberA];
      TIGERIO_ASSERT(mode >= 0 && mode <= 07777);
      args.mode = static_cast<uint32_t>(mode);
    }
    op->args.path = args;
    return 0;
  }

  // The datagram, Unix-socket and sendFile kinds (layout.h names each record's fields): sendTo, recvFrom,
  // connectUnix, sendFile.
  int32_t DatagramUnixFileArguments(napi_env env, Op* op, const int32_t* record, const double* numbers, napi_value side) {
    const uint32_t buffer_size_max = loop_->config().buffer_size_max;
    switch (op->kind) {
      case OpKind::send_to: {
        SendToArgs& args = op->args.send_to;
        AddressStorage address;
        if (numbers[kSubmitNumberA] >= 0) {
          // A reply to an address object recvFrom filled.
          uint8_t* object = nullptr;
          if (!RegisteredBytes(record[kSubmitInteger], numbers[kSubmitNumberA], kAddressBytes, &object) ||
              !parse_address_object(object, &address)) {
            return kErrInvalid;
          }
        } else {
          char host[64];
          size_t length = 0;
          if (!StringOf(env, side, host, sizeof(host), &length)) return kErrInvalid;
          const int port = record[kSubmitInteger];
          TIGERIO_ASSERT(port >= 1 && port <= 65535);
          if (!parse_ip_address(host, port, &address)) return kErrInvalid;
        }
        TIGERIO_ASSERT(address.length <= sizeof(args.address));
        std::memcpy(args.address, address.bytes, sizeof(args.address));
        return Bytes(env, record, numbers, nullptr, buffer_size_max, &args.buffer, &args.length) ? 0 : kErrInvalid;
      }
      case OpKind::recv_from: {
        RecvFromArgs& args = op->args.recv_from;
        if (!Bytes(env, record, numbers, nullptr, buffer_size_max, &args.buffer, &args.length)) return kErrInvalid;
        return RegisteredBytes(record[kSubmitInteger], numbers[kSubmitNumberA], kAddressBytes, &args.address)
                   ? 0
                   : kErrInvalid;
      }
      case OpKind::connect_unix: {
        size_t length = 0;
        if (napi_get_value_string_utf8(env, side, nullptr, 0, &length) != napi_ok) return kErrInvalid;
        if (length == 0 || length > unix_path_max()) return kErrInvalid;
        char* path = loop_->path_storage(op, length + 1);
        if (path == nullptr) return kErrNoMemory;
        size_t copied = 0;
        if (napi_get_value_string_utf8(env, side, path, length + 1, &copied) != napi_ok || copied != length) {
          return kErrInvalid;
        }
        op->args.connect_unix = ConnectUnixArgs{path, static_cast<uint32_t>(length)};
        return 0;
      }
      case OpKind::send_file: {
        SendFileArgs& args = op->args.send_file;
        args.file_fd = record[kSubmitInteger];
        args.offset = static_cast<int64_t>(numbers[kSubmitNumberA]);
        args.length = static_cast<uint32_t>(record[kSubmitLength]);
        TIGERIO_ASSERT(args.file_fd >= 0 && args.offset >= 0);
        TIGERIO_ASSERT(args.length >= 1 && args.length <= buffer_size_max);
        return 0;
      }
      default:
        break;
    }
    TIGERIO_ASSERT(false && "not a datagram, Unix-socket or sendFile kind");
    return kErrInvalid;
  }

  // `bytes` bytes at `offset` of registered ArrayBuffer `id`; false if they are not there any more.
  bool RegisteredBytes(int32_t id, double offset, uint32_t bytes, uint8_t** data) {
    TIGERIO_ASSERT(id >= 0 && static_cast<size_t>(id) < buffers_.size());
    const RegisteredBuffer& buffer = buffers_[static_cast<size_t>(id)];
    TIGERIO_ASSERT(buffer.data != nullptr && bytes >= 1);
    if (!(offset >= 0) || offset + bytes > static_cast<double>(buffer.byte_length)) return false;
    *data = buffer.data + static_cast<size_t>(offset);
    return true;
  }

  // The bytes of a transfer: from its registered ArrayBuffer (no Node-API
  // call), or its view in `sides`. False if they are not there any more.
  bool Bytes(napi_env env, const int32_t* record, const double* numbers, napi_value side, uint32_t buffer_size_max,
             uint8_t** data, uint32_t* length) {
    const int32_t id = record[kSubmitBuffer];
    if (id < 0) return BufferOf(env, side, buffer_size_max, data, length);
    TIGERIO_ASSERT(static_cast<size_t>(id) < buffers_.size() && buffers_[static_cast<size_t>(id)].data != nullptr);
    const RegisteredBuffer& buffer = buffers_[static_cast<size_t>(id)];
    const double offset = numbers[kSubmitNumberB];
    const uint32_t bytes = static_cast<uint32_t>(record[kSubmitLength]);
    TIGERIO_ASSERT(bytes >= 1 && bytes <= buffer_size_max);
    // io/ took offset and length from the view at the call; a view cannot
    // outgrow the ArrayBuffer it was registered with.
    if (!(offset >= 0) || offset + bytes > static_cast<double>(buffer.byte_length)) return false;
    *data = buffer.data + static_cast<size_t>(offset);
    *length = bytes;
    return true;
  }

  // registerBuffer(arrayBuffer): an id for the ArrayBuffer's memory, which
  // operations then name by number (io/ keeps the ArrayBuffer reachable
  // while an operation uses it, and unregisters it once it is collected).
  Napi::Value RegisterBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Live(env)) return env.Undefined();
    void* data = nullptr;
    size_t byte_length = 0;
    if (!info[0].IsArrayBuffer() || napi_get_arraybuffer_info(env, info[0], &data, &byte_length) != napi_ok) {
      return ThrowType(env, "registerBuffer takes an ArrayBuffer");
    }
    if (data == nullptr || byte_length == 0) return ThrowRange(env, "an empty or detached ArrayBuffer cannot be registered");
    uint32_t id = 0;
    if (!take_index(free_buffer_ids_, buffers_, kBuffersRegisteredMax, &id)) {
      return ThrowRange(env, "too many ArrayBuffers in use by this IO at once", "ERR_IO_FULL");
    }
    TIGERIO_ASSERT(buffers_[id].data == nullptr);
    buffers_[id] = RegisteredBuffer{static_cast<uint8_t*>(data), byte_length};
    return Napi::Number::New(env, id);
  }

  // unregisterBuffer(id): its ArrayBuffer was collected; the id is free again.
  Napi::Value UnregisterBuffer(const Napi::CallbackInfo& info) {
    double id = 0;
    if (!IntegerArg(info, 0, "id", 0, kBuffersRegisteredMax - 1, &id)) return info.Env().Undefined();
    const size_t index = static_cast<size_t>(id);
    if (index < buffers_.size() && buffers_[index].data != nullptr) {
      buffers_[index] = RegisteredBuffer{};
      free_buffer_ids_.push_back(static_cast<uint32_t>(index));
    }
    return info.Env().Undefined();
  }

  void DefineEntry(napi_env env, napi_value object, const char* name, napi_callback entry) {
    napi_value function = nullptr;
    napi_property_descriptor property{};
    property.utf8name = name;
    property.attributes = napi_default;  // not writable, enumerable or configurable
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, entry, this, &function) != napi_ok) return;
    property.value = function;
    napi_define_properties(env, object, 1, &property);
  }

  // The function's data is the NativeIO (DefineEntry); missing arguments are undefined.
  template <size_t kCount>
  static NativeIO* EntryArgs(napi_env env, napi_callback_info info, napi_value (&argv)[kCount]) {
    size_t argc = kCount;
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
    TIGERIO_ASSERT(data != nullptr);
    return static_cast<NativeIO*>(data);
  }

  static napi_value FlushEntry(napi_env env, napi_callback_info info) {
    napi_value argv[1];
    NativeIO* self = EntryArgs(env, info, argv);
    return self == nullptr ? nullptr : self->Flush(env, argv[0]);
  }

  static napi_value PollEntry(napi_env env, napi_callback_info info) {
    napi_value argv[2];
    NativeIO* self = EntryArgs(env, info, argv);
    return self == nullptr ? nullptr : self->Poll(env, argv[0], argv[1]);
  }

  static napi_value PollUntilEntry(napi_env env, napi_callback_info info) {
    napi_value argv[2];
    NativeIO* self = EntryArgs(env, info, argv);
    return self == nullptr ? nullptr : self->PollUntil(env, argv[0], argv[1]);
  }

  // flush(count): starts the queued submissions outside a poll (a cancel, a
  // full queue, an attached IO's microtask, a synchronous call after them).
  napi_value Flush(napi_env env, napi_value count_value) {
    double count = 0;
    if (!Live(env) || !IntegerValue(env, count_value, "count", 0, kSubmitQueueRecords, &count)) return nullptr;
    StartSubmissions(env, static_cast<uint32_t>(count));
    if (count > 0 && attachment_ != nullptr) attachment_->AfterSubmit();
    return nullptr;
  }

  // clock(): the backend's clock now, in ns (io/clock.ts relates JS's to it).
  Napi::Value Clock(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(loop_->now_ns()));
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    double slot = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 0, "slot", 0, slots_max_ - 1, &slot)) {
      return info.Env().Undefined();
    }
    const bool cancelled = loop_->cancel(static_cast<uint32_t>(slot));
    if (cancelled && attachment_ != nullptr) attachment_->AfterSubmit();
    return Napi::Boolean::New(info.Env(), cancelled);
  }

  // poll(timeoutNs, count): starts the `count` queued submissions, then
  // harvests completions (waiting up to timeoutNs): a tick's one crossing.
  // How many it harvested goes in the state array, which JS reads for free:
  // a returned number would be made for it on every tick.
  napi_value Poll(napi_env env, napi_value timeout_value, napi_value count_value) {
    double timeout_ns = 0, count = 0;
    if (!PollArguments(env, timeout_value, count_value, "poll(timeoutNs, count)", &timeout_ns, &count)) return nullptr;
    if (!(timeout_ns >= -1)) return ThrowRange(env, "poll arguments out of range");
    StartSubmissions(env, static_cast<uint32_t>(count));
    Harvest(timeout_ns > kTimeoutNsMax ? -1 : static_cast<int64_t>(timeout_ns));
    return nullptr;
  }

  // pollUntil(deadlineNs, count): poll() bounded by a deadline on the
  // backend's clock (the one clock() reads) instead of a timeout: runForNs'
  // round, which then reads no clock of its own (in JS, performance.now()
  // cost more than the rest of its loop). The clock is read here, after the
  // callbacks of the round before, so a slow callback shortens the wait. A
  // deadline already passed starts the submissions, waits for nothing and
  // harvests nothing: state[kStateHarvested] says -1.
  napi_value PollUntil(napi_env env, napi_value deadline_value, napi_value count_value) {
    double deadline_ns = 0, count = 0;
    if (!PollArguments(env, deadline_value, count_value, "pollUntil(deadlineNs, count)", &deadline_ns, &count)) return nullptr;
    if (!(deadline_ns >= 0)) return ThrowRange(env, "pollUntil arguments out of range");
    StartSubmissions(env, static_cast<uint32_t>(count));
    const double remaining_ns = std::ceil(deadline_ns - static_cast<double>(loop_->now_ns()));
    if (remaining_ns <= 0) {
      loop_->config().state[kStateHarvested] = -1;
      return nullptr;
    }
    Harvest(remaining_ns > kTimeoutNsMax ? -1 : static_cast<int64_t>(remaining_ns));
    return nullptr;
  }

  // The two numbers of a poll: plain reads (io/ computes both on the hot
  // path); the count's range is checked here, the first's by the caller.
  bool PollArguments(napi_env env, napi_value first_value, napi_value count_value, const char* signature, double* first,
                     double* count) {
    if (!Live(env)) return false;
    if (napi_get_value_double(env, first_value, first) != napi_ok ||
        napi_get_value_double(env, count_value, count) != napi_ok) {
      ThrowType(env, std::string(signature) + " takes two numbers");
      return false;
    }
    if (!(*count >= 0 && *count <= kSubmitQueueRecords) || std::floor(*count) != *count) {
      ThrowRange(env, std::string(signature) + ": count out of range");
      return false;
    }
    return true;
  }

  // One poll of the loop; how many it harvested goes in the state array.
  void Harvest(int64_t timeout_ns) {
    const uint32_t harvested = loop_->poll(timeout_ns);
    TIGERIO_ASSERT(harvested <= static_cast<uint32_t>(INT32_MAX));
    loop_->config().state[kStateHarvested] = static_cast<int32_t>(harvested);
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

  // setCork(fd, on): 0 or a negative errno.
  Napi::Value SetCork(const Napi::CallbackInfo& info) {
    int32_t fd = 0;
    if (!Live(info.Env()) || !FdArg(info, 0, &fd)) return info.Env().Undefined();
    if (!info[1].IsBoolean()) return ThrowType(info.Env(), "on must be a boolean");
    return Napi::Number::New(info.Env(), loop_->set_cork(fd, info[1].As<Napi::Boolean>().Value()));
  }

  // ---- Datagram and Unix-socket synchronous helpers: an fd (or 0) or a negative errno ----

  Napi::Value UdpSocket(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    if (!info[0].IsBoolean()) return ThrowType(info.Env(), "ipv6 must be a boolean");
    return Napi::Number::New(info.Env(), loop_->udp_socket(info[0].As<Napi::Boolean>().Value()));
  }

  Napi::Value Bind(const Napi::CallbackInfo& info) {
    int32_t fd = 0;
    std::string host;
    double port = 0;
    if (!Live(info.Env()) || !FdArg(info, 0, &fd) || !StringArg(info, 1, "host", &host) ||
        !IntegerArg(info, 2, "port", 0, 65535, &port)) {
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), loop_->bind(fd, host.c_str(), static_cast<int>(port)));
  }

  // listenUnix(path, backlog): the path may start with NUL (the abstract namespace).
  Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
    double backlog = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 1, "backlog", 1, 65535, &backlog)) return info.Env().Undefined();
    if (!info[0].IsString()) return ThrowType(info.Env(), "path must be a string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty() || path.size() > unix_path_max()) {
      return ThrowRange(info.Env(), "path must be 1.." + std::to_string(unix_path_max()) + " bytes");
    }
    const int fd = loop_->listen_unix(path.data(), static_cast<uint32_t>(path.size()), static_cast<int>(backlog));
    return Napi::Number::New(info.Env(), fd);
  }

  Napi::Value UnixSocket(const Napi::CallbackInfo& info) {
    if (!Live(info.Env())) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), loop_->unix_socket());
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

  // simulateSignal(number): a simulated world sends `number` to this IO
  // (io/simulation.ts checks that the IO is simulated and the number valid).
  Napi::Value SimulateSignal(const Napi::CallbackInfo& info) {
    double number = 0;
    if (!Live(info.Env()) || !IntegerArg(info, 0, "number", 1, kSignalNumberMax, &number)) return info.Env().Undefined();
    if (loop_->backend().receives_process_signals()) return ThrowType(info.Env(), "only a simulated IO is sent signals by its world");
    loop_->signal_arrived(static_cast<int32_t>(number));
    if (attachment_ != nullptr) attachment_->AfterSubmit();
    return info.Env().Undefined();
  }

  // poolCreate(arrayBuffer, count, size): a buffer pool over the
  // ArrayBuffer's memory (count * size bytes), kept reachable here until the
  // IO is freed. Returns its id.
  Napi::Value PoolCreate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Live(env)) return env.Undefined();
    double count = 0, size = 0;
    if (!IntegerArg(info, 1, "count", 1, kPoolBuffersMax, &count) ||
        !IntegerArg(info, 2, "size", 1, loop_->config().buffer_size_max, &size)) {
      return env.Undefined();
    }
    void* data = nullptr;
    size_t byte_length = 0;
    if (!info[0].IsArrayBuffer() || napi_get_arraybuffer_info(env, info[0], &data, &byte_length) != napi_ok) {
      return ThrowType(env, "poolCreate takes an ArrayBuffer");
    }
    if (data == nullptr || byte_length < static_cast<size_t>(count) * static_cast<size_t>(size)) {
      return ThrowRange(env, "the pool's ArrayBuffer is smaller than count * size");
    }
    if (loop_->pool_count() >= kPoolsPerIOMax) {
      return ThrowRange(env, "too many buffer pools on this IO (" + std::to_string(kPoolsPerIOMax) + " at most)",
                        "ERR_IO_FULL");
    }
    const int32_t id =
        loop_->pool_create(static_cast<uint8_t*>(data), static_cast<uint32_t>(count), static_cast<uint32_t>(size));
    if (id < 0) return ThrowRange(env, "could not create the buffer pool", "ERR_IO_FULL");
    pools_memory_.push_back(Napi::Persistent(info[0].As<Napi::ArrayBuffer>()));
    TIGERIO_ASSERT(pools_memory_.size() == loop_->pool_count());
    return Napi::Number::New(env, id);
  }

  // abandoned(): ops the core gave up on whose kernel has not answered yet
  // (their storage is out of reuse until it does); 0 once deinitialized.
  Napi::Value Abandoned(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), loop_ ? loop_->abandoned_count() : 0);
  }

  std::unique_ptr<Loop> loop_;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> pools_memory_;  // by pool id
  Napi::Reference<Napi::Int32Array> submissions_array_;
  const int32_t* submissions_ = nullptr;  // its data: JS writes, the flush reads
  Napi::Reference<Napi::Array> sides_;    // per slot: the buffer, host or path of the op
  uint32_t slots_max_ = 0;
  struct RegisteredBuffer {
    uint8_t* data = nullptr;
    size_t byte_length = 0;
  };
  std::vector<RegisteredBuffer> buffers_;  // by id
  std::vector<uint32_t> free_buffer_ids_;
  Napi::Reference<Napi::Int32Array> completions_;
  Napi::Reference<Napi::Int32Array> state_;
  Napi::Reference<Napi::Float64Array> completion_values_;
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

// defaultBackendFallback(): why the OS's best backend is unavailable here
// (io_uring turned off: the default is epoll), or null.
Napi::Value DefaultBackendFallback(const Napi::CallbackInfo& info) {
  const char* reason = default_backend_fallback_reason();
  if (reason == nullptr) return info.Env().Null();
  return Napi::String::New(info.Env(), reason);
}

Napi::Value EventTrigger(const Napi::CallbackInfo& info) {
  double handle = 0;
  if (!IntegerArg(info, 0, "handle", 1, 4294967295.0, &handle)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), Loop::event_trigger(static_cast<uint32_t>(handle)));
}

// signalNodeListeners(number, count): io/signals.ts tells that Node now has
// `count` listeners of its own for the signal (process.on), after Node
// installed or removed its handler, so that ours is put back in front.
Napi::Value SignalNodeListeners(const Napi::CallbackInfo& info) {
  double number = 0, count = 0;
  if (!IntegerArg(info, 0, "number", 1, kSignalNumberMax, &number) ||
      !IntegerArg(info, 1, "count", 0, 2147483647.0, &count)) {
    return info.Env().Undefined();
  }
  signal_os_node_listeners(static_cast<int32_t>(number), static_cast<int32_t>(count));
  return info.Env().Undefined();
}

// unixSocketsAvailable(): false where the OS has no AF_UNIX at all (a
// Windows without the provider); io/ asks only to word an error.
Napi::Value UnixSocketsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unix_sockets_available());
}

// alignmentOffset(arrayBuffer): bytes from the start of its memory to the
// first address that is a multiple of the direct alignment (0 if it starts
// on one). An ArrayBuffer's memory never moves, so io/ asks once per buffer.
Napi::Value AlignmentOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  size_t byte_length = 0;
  if (!info[0].IsArrayBuffer() || napi_get_arraybuffer_info(env, info[0], &data, &byte_length) != napi_ok) {
    return ThrowType(env, "alignmentOffset takes an ArrayBuffer");
  }
  if (data == nullptr || byte_length == 0) return ThrowRange(env, "an empty or detached ArrayBuffer has no address");
  const uintptr_t misalignment = reinterpret_cast<uintptr_t>(data) % kDirectAlignmentBytes;
  const uint32_t offset = misalignment == 0 ? 0 : static_cast<uint32_t>(kDirectAlignmentBytes - misalignment);
  TIGERIO_ASSERT(offset < kDirectAlignmentBytes);
  TIGERIO_ASSERT((reinterpret_cast<uintptr_t>(data) + offset) % kDirectAlignmentBytes == 0);
  return Napi::Number::New(env, offset);
}

Napi::Object Layout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("slotBits", kSlotBits);
  layout.Set("entriesMax", kEntriesMax);
  layout.Set("signalNumberMax", kSignalNumberMax);
  layout.Set("exitSignaled", kExitSignaled);
  layout.Set("exitUnknown", kExitUnknown);
  layout.Set("exitCodeWide", kExitCodeWide);
  layout.Set("entriesDefault", kEntriesDefault);
  layout.Set("operationsMaxLimit", kOperationsMaxLimit);
  layout.Set("operationsMaxDefault", kOperationsMaxDefault);
  layout.Set("bufferSizeMaxLimit", kBufferSizeMaxLimit);
  layout.Set("bufferSizeMaxDefault", kBufferSizeMaxDefault);
  layout.Set("fdsMaxLimit", kFdsMaxLimit);
  layout.Set("fdsMaxDefault", kFdsMaxDefault);
  layout.Set("fileThreadsMax", kFileThreadsMax);
  layout.Set("fileThreadsDefault", kFileThreadsDefault);
  layout.Set("eventsPerIOMax", kEventsPerIOMax);
  layout.Set("poolsPerIOMax", kPoolsPerIOMax);
  layout.Set("poolBuffersMax", kPoolBuffersMax);
  layout.Set("timeoutNsMax", kTimeoutNsMax);
  layout.Set("kindShift", kKindShift);
  layout.Set("stateInflight", kStateInflight);
  layout.Set("stateUndelivered", kStateUndelivered);
  layout.Set("stateHarvested", kStateHarvested);
  layout.Set("stateLength", kStateLength);
  layout.Set("submitRecordWords", kSubmitRecordWords);
  layout.Set("submitKind", kSubmitKind);
  layout.Set("submitSlot", kSubmitSlot);
  layout.Set("submitFd", kSubmitFd);
  layout.Set("submitInteger", kSubmitInteger);
  layout.Set("submitBuffer", kSubmitBuffer);
  layout.Set("submitLength", kSubmitLength);
  layout.Set("submitKindCanceled", kSubmitKindCanceled);
  layout.Set("submitPoolRelease", kSubmitPoolRelease);
  layout.Set("submitNumberA", kSubmitNumberA);
  layout.Set("submitNumberB", kSubmitNumberB);
  layout.Set("submitQueueRecords", kSubmitQueueRecords);
  layout.Set("idGenerationBits", kIdGenerationBits);
  layout.Set("openRead", kOpenRead);
  layout.Set("openWrite", kOpenWrite);
  layout.Set("openCreate", kOpenCreate);
  layout.Set("openTruncate", kOpenTruncate);
  layout.Set("openAppend", kOpenAppend);
  layout.Set("openExclusive", kOpenExclusive);
  layout.Set("openDirect", kOpenDirect);
  layout.Set("directAlignment", kDirectAlignmentBytes);
  layout.Set("fileBytesMax", kFileBytesMax);
  layout.Set("completionValueFlag", kCompletionValueFlag);
  layout.Set("completionAbandonedFlag", kCompletionAbandonedFlag);
  layout.Set("addressBytes", kAddressBytes);
  layout.Set("addressFamily", kAddressFamily);
  layout.Set("addressPort", kAddressPort);
  layout.Set("addressScope", kAddressScope);
  layout.Set("addressIp", kAddressIp);
  layout.Set("datagramIpv4Max", kDatagramIpv4Max);
  layout.Set("datagramIpv6Max", kDatagramIpv6Max);
  layout.Set("unixPathMax", unix_path_max());
  layout.Set("unixAbstractNamespace", unix_abstract_namespace());
  const uint32_t kinds = static_cast<uint32_t>(OpKind::count);
  Napi::Array names = Napi::Array::New(env, kinds);
  for (uint32_t i = 0; i < kinds; i++) names.Set(i, Napi::String::New(env, op_kind_name(static_cast<OpKind>(i))));
  layout.Set("operationNames", names);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeIO", NativeIO::Define(env));
  exports.Set("backends", Napi::Function::New(env, Backends, "backends"));
  exports.Set("defaultBackendFallback", Napi::Function::New(env, DefaultBackendFallback, "defaultBackendFallback"));
  exports.Set("eventTrigger", Napi::Function::New(env, EventTrigger, "eventTrigger"));
  exports.Set("signalNodeListeners", Napi::Function::New(env, SignalNodeListeners, "signalNodeListeners"));
  exports.Set("alignmentOffset", Napi::Function::New(env, AlignmentOffset, "alignmentOffset"));
  exports.Set("unixSocketsAvailable", Napi::Function::New(env, UnixSocketsAvailable, "unixSocketsAvailable"));
  exports.Set("layout", Layout(env));
  register_simulation(env, exports);
  return exports;
}

}  // namespace

}  // namespace tigerio

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tigerio::Init(env, exports); }

NODE_API_MODULE(tigerio, InitModule)
