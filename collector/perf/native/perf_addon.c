// flowscope_perf: the small native part of the kernel sources.
//  - PerfReader: libbpf perf_buffer over a BPF_MAP_TYPE_PERF_EVENT_ARRAY (pinned path or fd),
//    polled with libuv (uv_poll on perf_buffer__epoll_fd) on the JS thread. Each wake-up drains
//    every per-CPU ring with perf_buffer__consume and hands JS ONE Buffer holding many records:
//    [u32 size][u32 cpu][size bytes][pad to 8] ...  plus the lost counts seen in that pass.
//  - BPF objects: open/load/attach a compiled object (our probe, or the test emitter), map fds,
//    map updates, BPF_PROG_TEST_RUN.
//  - BTF: enum value names of the running kernel (skb_drop_reason differs between kernels).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <node_api.h>
#include <uv.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, NULL, "flowscope_perf: N-API call failed"); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

// libbpf's own messages: kept (last 4 KiB) so a failed load can say why.
static char last_log[4096];
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), fmt, args);
  if (n <= 0) return 0;
  size_t cur = strlen(last_log), add = strlen(line);
  if (add >= sizeof(last_log)) { line[sizeof(last_log) - 1] = 0; add = sizeof(last_log) - 1; }
  if (cur + add >= sizeof(last_log)) { // keep the tail: the verifier's reason is at the end
    size_t drop = cur + add - (sizeof(last_log) - 1);
    memmove(last_log, last_log + drop, cur - drop + 1);
    cur -= drop;
  }
  memcpy(last_log + cur, line, add + 1);
  return 0;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[4096 + 256];
  if (err < 0) err = -err;
  snprintf(msg, sizeof(msg), "%s: %s%s%s", what, strerror(err), last_log[0] ? "\n" : "", last_log);
  last_log[0] = 0;
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return -1;
  return n >= cap - 1 ? -1 : 0;
}

static int get_named_u32(napi_env env, napi_value obj, const char *name, uint32_t def, uint32_t *out) {
  bool has = false;
  *out = def;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_valuetype t;
  napi_get_named_property(env, obj, name, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok ? 0 : -1;
}

// ---------------------------------------------------------------------------------------------
// PerfReader

#define MAX_LOST_SLOTS 256

typedef struct {
  napi_env env;
  napi_ref self_ref; // keeps the JS wrapper alive while polling
  napi_ref cb_ref;   // onBatch(buffer, records, lostPairs|null)
  napi_async_context async_ctx;
  struct perf_buffer *pb;
  int map_fd;
  int own_fd;
  uv_poll_t poll;
  int poll_fd; // dup of perf_buffer__epoll_fd: libuv's handle outlives the perf buffer at close
  int polling;
  int closed;
  int poll_done;  // libuv has released the poll handle
  int consuming;  // inside perf_buffer__consume (JS may be called from a mid-pass flush)
  int close_pending; // close() was called from JS during a consume: finish it afterwards
  int finalized;  // the JS handle was garbage-collected
  uint8_t *batch;
  size_t len, cap, max_batch;
  uint32_t records;
  uint32_t lost_cpu[MAX_LOST_SLOTS];
  uint64_t lost_cnt[MAX_LOST_SLOTS];
  uint32_t lost_slots;
  uint64_t total_records, total_lost, wakeups, batches;
} reader_t;

static void reader_flush(reader_t *r);

static void on_sample(void *ctx, int cpu, void *data, __u32 size) {
  reader_t *r = ctx;
  size_t need = 8 + (((size_t)size + 7) & ~(size_t)7);
  if (r->len > 0 && r->len + need > r->max_batch) reader_flush(r); // JS gets at most max_batch bytes a call
  {
    if (r->len + need > r->cap) {
      size_t ncap = r->cap ? r->cap : 65536;
      while (ncap < r->len + need) ncap *= 2;
      uint8_t *nb = realloc(r->batch, ncap);
      if (!nb) { r->total_lost++; return; } // out of memory: count it as lost, never stall
      r->batch = nb;
      r->cap = ncap;
    }
  }
  uint8_t *p = r->batch + r->len;
  uint32_t s = size, c = (uint32_t)cpu;
  memcpy(p, &s, 4);
  memcpy(p + 4, &c, 4);
  memcpy(p + 8, data, size);
  if (need - 8 > size) memset(p + 8 + size, 0, need - 8 - size);
  r->len += need;
  r->records++;
  r->total_records++;
}

static void on_lost(void *ctx, int cpu, __u64 cnt) {
  reader_t *r = ctx;
  r->total_lost += cnt;
  for (uint32_t i = 0; i < r->lost_slots; i++) {
    if (r->lost_cpu[i] == (uint32_t)cpu) { r->lost_cnt[i] += cnt; return; }
  }
  if (r->lost_slots < MAX_LOST_SLOTS) {
    r->lost_cpu[r->lost_slots] = (uint32_t)cpu;
    r->lost_cnt[r->lost_slots] = cnt;
    r->lost_slots++;
  } else {
    r->lost_cnt[MAX_LOST_SLOTS - 1] += cnt;
  }
}

// Raw perf records (perf_buffer__new_raw, so the wake-up policy is ours to set).
static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *e) {
  if (e->type == PERF_RECORD_SAMPLE) {
    struct { struct perf_event_header h; __u32 size; char data[]; } *smp = (void *)e;
    on_sample(ctx, cpu, smp->data, smp->size);
  } else if (e->type == PERF_RECORD_LOST) {
    struct { struct perf_event_header h; __u64 id; __u64 lost; } *lost = (void *)e;
    on_lost(ctx, cpu, lost->lost);
  }
  return LIBBPF_PERF_EVENT_CONT;
}

// Calls onBatch once with everything gathered since the last flush.
static void reader_flush(reader_t *r) {
  if ((r->records == 0 && r->lost_slots == 0) || r->cb_ref == NULL || r->close_pending) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[3], cb, recv, result;
  void *dst;
  napi_create_buffer_copy(env, r->len, r->batch, &dst, &argv[0]);
  napi_create_uint32(env, r->records, &argv[1]);
  if (r->lost_slots > 0) {
    napi_create_array_with_length(env, r->lost_slots * 2, &argv[2]);
    for (uint32_t i = 0; i < r->lost_slots; i++) {
      napi_value c, n;
      napi_create_uint32(env, r->lost_cpu[i], &c);
      napi_create_double(env, (double)r->lost_cnt[i], &n);
      napi_set_element(env, argv[2], i * 2, c);
      napi_set_element(env, argv[2], i * 2 + 1, n);
    }
  } else {
    napi_get_null(env, &argv[2]);
  }
  r->len = 0;
  r->records = 0;
  r->lost_slots = 0;
  r->batches++;
  napi_get_reference_value(env, r->cb_ref, &cb);
  napi_get_global(env, &recv);
  // make_callback runs microtasks after the call, like any libuv-driven callback in Node.
  napi_status st = napi_make_callback(env, r->async_ctx, recv, cb, 3, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void reader_close(napi_env env, reader_t *r);

static void reader_consume(reader_t *r) {
  if (r->closed || r->consuming) return; // a consume() from inside onBatch is a no-op
  r->consuming = 1;
  int err = perf_buffer__consume(r->pb);
  (void)err; // -errno from a ring only means that ring had nothing valid; the others were read
  reader_flush(r);
  r->consuming = 0;
  if (r->close_pending) reader_close(r->env, r);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status; (void)events;
  reader_t *r = h->data;
  r->wakeups++;
  reader_consume(r);
}

static void on_poll_closed(uv_handle_t *h) {
  reader_t *r = h->data;
  if (r->poll_fd >= 0) close(r->poll_fd);
  r->poll_fd = -1;
  free(r->batch);
  r->batch = NULL;
  r->poll_done = 1;
  if (r->finalized) free(r);
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  reader_t *r = data;
  r->finalized = 1;
  if (r->poll_done) free(r);
}

static void reader_close(napi_env env, reader_t *r) {
  if (r->closed) return;
  if (r->consuming) { r->close_pending = 1; return; } // freeing the buffer mid-consume would crash
  r->closed = 1;
  // Free the perf buffer now, while the map fd is still the caller's: perf_buffer__free clears
  // the map's CPU slots through it, and a caller may close that fd right after this returns.
  if (r->pb) perf_buffer__free(r->pb);
  r->pb = NULL;
  if (r->own_fd && r->map_fd >= 0) close(r->map_fd);
  r->map_fd = -1;
  if (r->cb_ref) { napi_delete_reference(env, r->cb_ref); r->cb_ref = NULL; }
  if (r->self_ref) { napi_delete_reference(env, r->self_ref); r->self_ref = NULL; }
  napi_async_destroy(env, r->async_ctx);
  if (r->polling) {
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_poll_closed);
  } else {
    on_poll_closed((uv_handle_t *)&r->poll);
  }
}

static reader_t *unwrap_reader(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "expected a perf reader handle");
    return NULL;
  }
  if (((reader_t *)p)->closed) {
    napi_throw_error(env, NULL, "perf reader is closed");
    return NULL;
  }
  return p;
}

// openPerfReader({ path?: string, fd?: number, pages: number, maxBatchBytes?: number, wakeupBytes?: number }, onBatch)
static napi_value open_perf_reader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) { napi_throw_type_error(env, NULL, "openPerfReader(options, onBatch)"); return NULL; }
  uint32_t pages, fd_in, max_batch;
  if (get_named_u32(env, argv[0], "pages", 64, &pages) || pages == 0 || (pages & (pages - 1)) != 0) {
    napi_throw_range_error(env, NULL, "pages must be a power of two");
    return NULL;
  }
  get_named_u32(env, argv[0], "maxBatchBytes", 1 << 20, &max_batch);
  get_named_u32(env, argv[0], "fd", 0xffffffff, &fd_in);
  uint32_t wakeup_bytes;
  get_named_u32(env, argv[0], "wakeupBytes", 0, &wakeup_bytes);
  if (wakeup_bytes >= (uint64_t)pages * 4096) {
    napi_throw_range_error(env, NULL, "wakeupBytes must be smaller than the ring (pages * 4096)");
    return NULL;
  }
  int map_fd = -1, own_fd = 0;
  bool has_path = false;
  napi_has_named_property(env, argv[0], "path", &has_path);
  if (has_path) {
    napi_value pv;
    napi_valuetype t;
    napi_get_named_property(env, argv[0], "path", &pv);
    napi_typeof(env, pv, &t);
    if (t == napi_string) {
      char path[4096];
      if (get_string(env, pv, path, sizeof(path))) { napi_throw_range_error(env, NULL, "path too long"); return NULL; }
      map_fd = bpf_obj_get(path);
      if (map_fd < 0) {
        char what[4200];
        snprintf(what, sizeof(what), "cannot open pinned map %s", path);
        return throw_errno(env, what, errno);
      }
      own_fd = 1;
    }
  }
  if (map_fd < 0) {
    if (fd_in == 0xffffffff) { napi_throw_type_error(env, NULL, "openPerfReader needs path or fd"); return NULL; }
    map_fd = (int)fd_in;
  }
  struct bpf_map_info minfo;
  __u32 ilen = sizeof(minfo);
  memset(&minfo, 0, sizeof(minfo));
  if (bpf_obj_get_info_by_fd(map_fd, &minfo, &ilen) == 0 && minfo.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
    if (own_fd) close(map_fd);
    napi_throw_error(env, NULL, "map is not a BPF_MAP_TYPE_PERF_EVENT_ARRAY");
    return NULL;
  }
  reader_t *r = calloc(1, sizeof(*r));
  if (!r) { if (own_fd) close(map_fd); napi_throw_error(env, NULL, "out of memory"); return NULL; }
  r->env = env;
  r->poll_fd = -1;
  r->map_fd = map_fd;
  r->own_fd = own_fd;
  r->max_batch = max_batch < 4096 ? 4096 : max_batch;
  // wakeupBytes 0: the kernel wakes the reader on every sample (what libbpf and Cilium do).
  // > 0: only once that many bytes wait in a ring; the JS side drains on a timer as well so a
  // quiet ring is never left holding records (docs/kernel-probe.md has the measurements).
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  if (wakeup_bytes > 0) {
    attr.watermark = 1;
    attr.wakeup_watermark = wakeup_bytes;
  } else {
    attr.wakeup_events = 1;
  }
  r->pb = perf_buffer__new_raw(map_fd, pages, &attr, on_event, r, NULL);
  if (!r->pb) {
    int err = errno;
    if (own_fd) close(map_fd);
    free(r);
    return throw_errno(env, "perf_buffer__new", err);
  }
  napi_value name, handle;
  napi_create_string_utf8(env, "flowscope.perf", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->async_ctx);
  napi_create_reference(env, argv[1], 1, &r->cb_ref);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  r->poll.data = r;
  r->poll_fd = fcntl(perf_buffer__epoll_fd(r->pb), F_DUPFD_CLOEXEC, 0);
  if (r->poll_fd >= 0 && uv_poll_init(loop, &r->poll, r->poll_fd) == 0) r->polling = 1;
  if (!r->polling || uv_poll_start(&r->poll, UV_READABLE, on_poll) != 0) {
    r->finalized = 1; // no JS handle will ever own it
    reader_close(env, r);
    napi_throw_error(env, NULL, "uv_poll on the perf buffer failed");
    return NULL;
  }
  CHECK(napi_create_external(env, r, reader_finalize, NULL, &handle));
  napi_create_reference(env, handle, 1, &r->self_ref);
  return handle;
}

// consume(handle): drains now (tests, benchmarks, shutdown), delivering through onBatch.
static napi_value reader_consume_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap_reader(env, argv[0]);
  if (!r) return NULL;
  reader_consume(r);
  return NULL;
}

static napi_value reader_stats_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap_reader(env, argv[0]);
  if (!r) return NULL;
  napi_create_object(env, &out);
  napi_create_double(env, (double)r->total_records, &v); napi_set_named_property(env, out, "records", v);
  napi_create_double(env, (double)r->total_lost, &v); napi_set_named_property(env, out, "lost", v);
  napi_create_double(env, (double)r->wakeups, &v); napi_set_named_property(env, out, "wakeups", v);
  napi_create_double(env, (double)r->batches, &v); napi_set_named_property(env, out, "batches", v);
  napi_create_uint32(env, r->pb ? (uint32_t)perf_buffer__buffer_cnt(r->pb) : 0, &v); napi_set_named_property(env, out, "rings", v);
  return out;
}

static napi_value reader_close_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = unwrap_reader(env, argv[0]);
  if (!r) return NULL;
  reader_close(env, r);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// BPF objects

#define MAX_LINKS 32

typedef struct {
  struct bpf_object *obj;
  struct bpf_link *links[MAX_LINKS];
  int nlinks;
} object_t;

static object_t *unwrap_object(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL || ((object_t *)p)->obj == NULL) {
    napi_throw_type_error(env, NULL, "expected an open BPF object handle");
    return NULL;
  }
  return p;
}

// openObject(path, pins: {mapName: pinPath}) → handle. Loads (verifies) every program.
static napi_value open_object(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  if (argc < 1 || get_string(env, argv[0], path, sizeof(path))) { napi_throw_type_error(env, NULL, "openObject(path, pins)"); return NULL; }
  last_log[0] = 0;
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  if (!obj) return throw_errno(env, "bpf_object__open_file", errno);
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_object) {
      napi_value keys;
      uint32_t n;
      napi_get_property_names(env, argv[1], &keys);
      napi_get_array_length(env, keys, &n);
      for (uint32_t i = 0; i < n; i++) {
        napi_value k, v;
        char mname[256], pin[4096];
        napi_get_element(env, keys, i, &k);
        napi_get_property(env, argv[1], k, &v);
        if (get_string(env, k, mname, sizeof(mname)) || get_string(env, v, pin, sizeof(pin))) continue;
        struct bpf_map *m = bpf_object__find_map_by_name(obj, mname);
        if (!m) { bpf_object__close(obj); napi_throw_error(env, NULL, "pinned map name not in object"); return NULL; }
        int err = bpf_map__set_pin_path(m, pin);
        if (err) { bpf_object__close(obj); return throw_errno(env, "bpf_map__set_pin_path", err); }
      }
    }
  }
  int err = bpf_object__load(obj);
  if (err) { bpf_object__close(obj); return throw_errno(env, "bpf_object__load", err); }
  object_t *o = calloc(1, sizeof(*o));
  o->obj = obj;
  napi_value handle;
  CHECK(napi_create_external(env, o, NULL, NULL, &handle));
  return handle;
}

// attach(handle, cgroupPath|null): attaches every program whose section libbpf can auto-attach
// (tracepoints, fentry...) and cgroup_skb programs to the given cgroup v2 directory.
static napi_value object_attach(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  object_t *o = unwrap_object(env, argv[0]);
  if (!o) return NULL;
  char cg[4096] = "";
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t == napi_string && get_string(env, argv[1], cg, sizeof(cg))) { napi_throw_range_error(env, NULL, "cgroup path too long"); return NULL; }
  int cgfd = -1;
  struct bpf_program *prog;
  last_log[0] = 0;
  bpf_object__for_each_program(prog, o->obj) {
    const char *sec = bpf_program__section_name(prog);
    struct bpf_link *link = NULL;
    if (strncmp(sec, "cgroup_skb/", 11) == 0) {
      if (!cg[0]) continue;
      if (cgfd < 0) {
        cgfd = open(cg, O_RDONLY | O_DIRECTORY);
        if (cgfd < 0) return throw_errno(env, "open cgroup v2 directory", errno);
      }
      link = bpf_program__attach_cgroup(prog, cgfd);
    } else if (strncmp(sec, "tc", 2) == 0 || strncmp(sec, "classifier", 10) == 0 || strncmp(sec, "socket", 6) == 0) {
      continue; // run through BPF_PROG_TEST_RUN only
    } else {
      link = bpf_program__attach(prog);
    }
    if (!link) {
      int err = errno;
      if (cgfd >= 0) close(cgfd);
      char what[512];
      snprintf(what, sizeof(what), "attach %s (%s)", bpf_program__name(prog), sec);
      return throw_errno(env, what, err);
    }
    if (o->nlinks < MAX_LINKS) o->links[o->nlinks++] = link;
  }
  if (cgfd >= 0) close(cgfd);
  napi_value n;
  napi_create_int32(env, o->nlinks, &n);
  return n;
}

static napi_value object_map_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  object_t *o = unwrap_object(env, argv[0]);
  if (!o) return NULL;
  char name[256];
  if (get_string(env, argv[1], name, sizeof(name))) { napi_throw_type_error(env, NULL, "map name"); return NULL; }
  struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);
  if (!m) { napi_throw_error(env, NULL, "no such map in object"); return NULL; }
  napi_create_int32(env, bpf_map__fd(m), &out);
  return out;
}

// mapUpdate(handle, mapName, key: Buffer, value: Buffer)
static napi_value object_map_update(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  object_t *o = unwrap_object(env, argv[0]);
  if (!o) return NULL;
  char name[256];
  if (get_string(env, argv[1], name, sizeof(name))) { napi_throw_type_error(env, NULL, "map name"); return NULL; }
  struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);
  if (!m) { napi_throw_error(env, NULL, "no such map in object"); return NULL; }
  void *k, *v;
  size_t kl, vl;
  if (napi_get_buffer_info(env, argv[2], &k, &kl) != napi_ok || napi_get_buffer_info(env, argv[3], &v, &vl) != napi_ok) {
    napi_throw_type_error(env, NULL, "key and value must be Buffers");
    return NULL;
  }
  int err = bpf_map__update_elem(m, k, kl, v, vl, BPF_ANY);
  if (err) return throw_errno(env, "bpf_map_update_elem", err);
  return NULL;
}

// testRun(handle, progName, data: Buffer, repeat, cpu?) → { retval, durationNs, cpu }
// With `cpu` (a CPU number, or -1 for the one the thread is on now) the calling thread is pinned
// to that CPU for the syscall: the kernel may reschedule a long repeated run, and without the pin
// a burst can migrate and spread over several per-CPU rings. The previous affinity is restored.
static napi_value object_test_run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  object_t *o = unwrap_object(env, argv[0]);
  if (!o) return NULL;
  char name[256];
  if (get_string(env, argv[1], name, sizeof(name))) { napi_throw_type_error(env, NULL, "program name"); return NULL; }
  struct bpf_program *p = bpf_object__find_program_by_name(o->obj, name);
  if (!p) { napi_throw_error(env, NULL, "no such program in object"); return NULL; }
  void *data;
  size_t dl;
  if (napi_get_buffer_info(env, argv[2], &data, &dl) != napi_ok) { napi_throw_type_error(env, NULL, "data must be a Buffer"); return NULL; }
  uint32_t repeat = 1;
  if (argc >= 4) napi_get_value_uint32(env, argv[3], &repeat);
  int32_t cpu = -2; // -2: not pinned
  if (argc >= 5) {
    napi_valuetype t;
    napi_typeof(env, argv[4], &t);
    if (t != napi_undefined && napi_get_value_int32(env, argv[4], &cpu) != napi_ok) { napi_throw_type_error(env, NULL, "cpu must be a number"); return NULL; }
  }
  cpu_set_t saved;
  int pinned = 0;
  if (cpu >= -1) {
    if (cpu == -1) cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE) return throw_errno(env, "testRun cpu", EINVAL);
    if (sched_getaffinity(0, sizeof(saved), &saved)) return throw_errno(env, "sched_getaffinity", errno);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one)) return throw_errno(env, "sched_setaffinity", errno);
    pinned = 1;
  }
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (__u32)dl, .repeat = repeat);
  int err = bpf_prog_test_run_opts(bpf_program__fd(p), &opts);
  int run_errno = errno;
  if (pinned) sched_setaffinity(0, sizeof(saved), &saved);
  if (err) return throw_errno(env, "BPF_PROG_TEST_RUN", run_errno);
  napi_create_object(env, &out);
  napi_create_uint32(env, opts.retval, &v); napi_set_named_property(env, out, "retval", v);
  napi_create_uint32(env, opts.duration, &v); napi_set_named_property(env, out, "durationNs", v);
  napi_create_int32(env, pinned ? cpu : -1, &v); napi_set_named_property(env, out, "cpu", v);
  return out;
}

static napi_value object_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) return NULL;
  object_t *o = p;
  for (int i = 0; i < o->nlinks; i++) bpf_link__destroy(o->links[i]);
  o->nlinks = 0;
  if (o->obj) bpf_object__close(o->obj); // pinned maps stay pinned; unpinning is the caller's job
  o->obj = NULL;
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// BTF: kernelEnum(name) → [[name, value], ...] from /sys/kernel/btf/vmlinux

static napi_value kernel_enum(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[256];
  if (get_string(env, argv[0], name, sizeof(name))) { napi_throw_type_error(env, NULL, "enum name"); return NULL; }
  struct btf *btf = btf__load_vmlinux_btf();
  if (!btf) return throw_errno(env, "btf__load_vmlinux_btf", errno);
  __s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);
  if (id < 0) { btf__free(btf); return throw_errno(env, "enum not in kernel BTF", ENOENT); }
  const struct btf_type *t = btf__type_by_id(btf, id);
  const struct btf_enum *e = btf_enum(t);
  int n = btf_vlen(t);
  napi_create_array_with_length(env, n, &out);
  for (int i = 0; i < n; i++) {
    napi_value pair, s, v;
    napi_create_array_with_length(env, 2, &pair);
    napi_create_string_utf8(env, btf__name_by_offset(btf, e[i].name_off), NAPI_AUTO_LENGTH, &s);
    napi_create_int64(env, e[i].val, &v);
    napi_set_element(env, pair, 0, s);
    napi_set_element(env, pair, 1, v);
    napi_set_element(env, out, i, pair);
  }
  btf__free(btf);
  return out;
}

static napi_value libbpf_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, libbpf_version_string(), NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  libbpf_set_print(libbpf_log);
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  napi_property_descriptor props[] = {
    {"openPerfReader", NULL, open_perf_reader, NULL, NULL, NULL, napi_default, NULL},
    {"consume", NULL, reader_consume_js, NULL, NULL, NULL, napi_default, NULL},
    {"readerStats", NULL, reader_stats_js, NULL, NULL, NULL, napi_default, NULL},
    {"closeReader", NULL, reader_close_js, NULL, NULL, NULL, napi_default, NULL},
    {"openObject", NULL, open_object, NULL, NULL, NULL, napi_default, NULL},
    {"attach", NULL, object_attach, NULL, NULL, NULL, napi_default, NULL},
    {"mapFd", NULL, object_map_fd, NULL, NULL, NULL, napi_default, NULL},
    {"mapUpdate", NULL, object_map_update, NULL, NULL, NULL, napi_default, NULL},
    {"testRun", NULL, object_test_run, NULL, NULL, NULL, napi_default, NULL},
    {"closeObject", NULL, object_close, NULL, NULL, NULL, napi_default, NULL},
    {"kernelEnum", NULL, kernel_enum, NULL, NULL, NULL, napi_default, NULL},
    {"libbpfVersion", NULL, libbpf_version, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
