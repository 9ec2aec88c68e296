{
  "targets": [
    {
      "target_name": "flowscope_perf",
      "sources": ["collector/perf/native/perf_addon.c"],
      "cflags": ["-O2", "-Wall", "-Wno-unused-parameter"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
