{
  "variables": {
    # Contributors on Linux: build the kqueue backend too, against a libkqueue
    # install prefix (TIGERIO_KQUEUE_PREFIX=/path npm run build:native).
    "tigerio_kqueue_prefix%": "<!(node -p \"process.env.TIGERIO_KQUEUE_PREFIX || ''\")"
  },
  "targets": [{
    "target_name": "tigerio",
    "sources": [
      "native/addon.cc",
      "native/attach.cc",
      "native/core/loop.cc",
      "native/core/events.cc",
      "native/core/signals.cc",
      "native/core/fd_owners.cc",
      "native/core/thread_pool.cc",
      "native/core/buffer_pools.cc",
      "native/backend/registry.cc",
      "native/backend/ip_address.cc",
      "native/backend/simulation.cc",
      "native/backend/sim_world.cc",
      "native/backend/sim_network.cc",
      "native/backend/sim_datagrams.cc",
      "native/backend/sim_disk.cc",
      "native/backend/sim_names.cc",
      "native/simulation_addon.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
    # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error thrown while the
    # environment is terminating (a worker's terminate() with a flush still
    # queued in a microtask) is dropped, not turned into a fatal error.
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
    "conditions": [
      ["OS=='linux'", {
        "sources": [
          "native/backend/posix.cc",
          "native/backend/posix_paths.cc",
          "native/backend/signals_posix.cc",
          "native/backend/readiness.cc",
          "native/backend/epoll.cc",
          "native/backend/io_uring.cc",
          "native/backend/io_uring_accept.cc",
          "native/backend/io_uring_buffers.cc"
        ]
      }],
      ["OS=='linux' and tigerio_kqueue_prefix!=''", {
        "sources": ["native/backend/kqueue.cc"],
        "defines": ["TIGERIO_KQUEUE=1"],
        "include_dirs": ["<(tigerio_kqueue_prefix)/include/kqueue"],
        "libraries": ["<(tigerio_kqueue_prefix)/lib/libkqueue.a", "-lpthread"]
      }],
      ["OS=='mac'", {
        "sources": [
          "native/backend/posix.cc",
          "native/backend/posix_paths.cc",
          "native/backend/signals_posix.cc",
          "native/backend/readiness.cc",
          "native/backend/kqueue.cc"
        ],
        "xcode_settings": {
          "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
          "MACOSX_DEPLOYMENT_TARGET": "11.0",
          "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra"]
        }
      }],
      ["OS=='freebsd'", {
        "sources": [
          "native/backend/posix.cc",
          "native/backend/posix_paths.cc",
          "native/backend/signals_posix.cc",
          "native/backend/readiness.cc",
          "native/backend/kqueue.cc"
        ]
      }],
      ["OS=='win'", {
        # test/windows/build.sh cross-builds these same sources with mingw-w64.
        "sources": [
          "native/attach_windows.cc",
          "native/backend/win32.cc",
          "native/backend/signals_win32.cc",
          "native/backend/win32_files.cc",
          "native/backend/win32_paths.cc",
          "native/backend/iocp.cc"
        ],
        "sources!": ["native/attach.cc"],
        "libraries": ["-lws2_32", "-lmswsock"],
        "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] } }
      }]
    ]
  }]
}
