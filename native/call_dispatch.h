// Calling JS's dispatch from Node's event loop, shared by both attachments
// (attach.cc: uv_poll; attach_windows.cc: a waiter thread). One call per
// round, through napi_make_callback so that its callback scope runs
// microtasks (promise reactions of the callbacks) before it returns. An
// exception goes where any callback's from the loop goes:
// 'uncaughtException', or exit.
#pragma once

#include <node_api.h>

namespace tigerio {

inline void CallDispatch(napi_env env, napi_async_context context, napi_ref dispatch_ref) {
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value dispatch = nullptr;
  napi_value receiver = nullptr;
  napi_get_reference_value(env, dispatch_ref, &dispatch);
  napi_get_global(env, &receiver);  // napi_make_callback needs an object receiver
  napi_value result;
  const napi_status status = napi_make_callback(env, context, receiver, dispatch, 0, nullptr, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (status != napi_ok || pending) {
    napi_value error = nullptr;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok && error != nullptr) {
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace tigerio
