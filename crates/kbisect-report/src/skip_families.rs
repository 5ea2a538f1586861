//! Infrastructure by naming convention (see `skip_list.rs` for the list by
//! role and `infra_table.rs` for the list by defining file). The kernel names
//! wrappers and variants after what they wrap — `sock_kmalloc`,
//! `kmalloc_reserve`, `queued_read_lock_slowpath`, `__local_bh_enable_ip`,
//! `memcpy_orig` — so these match a family anywhere in the name, and cover
//! the spellings of kernels older and newer than the one the table came from.

/// Matched like `skip_list::SKIP` (anywhere in the name unless anchored).
pub(crate) const SKIP_FAMILIES: &[&str] = &[
    // Allocator front ends and their subsystem wrappers (include/linux/slab.h,
    // mm/slub.c, mm/vmalloc.c, mm/page_alloc.c; sock_kmalloc, bpf_map_kzalloc,
    // kmalloc_reserve, ...): they hand out what the caller asked for.
    "[mzc]alloc",
    "alloc_page",
    // The page cache's allocation helpers (mm/filemap.c, mm/folio-compat.c).
    "folio_alloc",
    "alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page",
    "kmem_cache_",
    "slab_",
    "allocate_slab",
    // The SLAB allocator of kernels before 6.8 (mm/slab.c): ____cache_alloc,
    // cache_alloc_refill, cache_grow_begin, __cache_free.
    "^_*cache_alloc",
    "^cache_grow",
    "^_*cache_free",
    "memdup",
    "kfree_skb",
    // Sanitizer checks of every other kind (HWASAN, SLUB debug's object
    // checks, hardened usercopy's heap check, READ_ONCE without KASAN).
    "hwasan",
    "check_object",
    "check_heap_object",
    "(?:read|write)_once_.*nocheck",
    // Fatal-error reporters: panic(), nmi_panic(), vpanic(), fortify_panic(),
    // and the filesystems' own X_panic() helpers. They report, never cause.
    "panic",
    // Spinning and sleeping locks in every spelling (kernel/locking/*.c,
    // include/linux/*lock*.h): queued_read_lock_slowpath, rt_read_lock,
    // __local_bh_disable_ip, rcu_lock_acquire, owner_on_cpu...
    "(?:read|write)_(?:try)?(?:un)?lock",
    "(?:^|_)down_(?:read|write)",
    "percpu_(?:down|up)_",
    "(?:^|_)up_(?:read|write)",
    "(?:^|_)bh_(?:enable|disable)",
    "(?:^|_)lock_(?:acquire|release)",
    "lockdep",
    "lock_class",
    "owner_on_cpu",
    "print_unlock",
    "imbalance_bug",
    "reacquire_held_locks",
    // Page and folio unlocks and the page lock (mm/filemap.c). (Not
    // folio_lock(): like console_lock(), a sleeping function called from an
    // atomic context is titled after it.)
    "^__?(?:un)?lock_page",
    "^__?folio_unlock",
    // Atomics and bit operations (include/linux/atomic/*, asm-generic/bitops):
    // arch_atomic_fetch_add, test_and_set_bit_lock, __clear_bit_unlock...
    "atomic(?:64|_long)?_(?:dec|inc|read|set|or|xor|and|andnot|add|sub|fetch|xchg|cmpxchg|try)",
    "(?:^|_)(?:set|clear|change|test)_bit",
    // Memory helpers in every spelling: __memcpy, memcpy_orig, memcpy_erms,
    // memcpy_toio, memset_io, memchr_inv...
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "memchr",
    // String helpers (lib/string.c, include/linux/fortify-string.h) and the
    // wrappers named after them (nla_strscpy, strscpy_pad, __strncpy...).
    "str(?:n?cmp|n?casecmp|r?chr|n?len|n?cpy|lcpy|scpy|n?str|c?spn|sep|pbrk|n?cat|lcat)(?:_|$)",
    // seq_file's output helpers (fs/seq_file.c): printf for /proc files.
    "^seq_(?:v?printf|puts|putc|write|put_decimal_u?ll|put_hex_ll|pad|escape|hex_dump)",
    // Debug-objects entry points in every spelling (lib/debugobjects.c).
    "debug_object",
    // User copies: __put_user_nocheck_4, __get_user_8, csum_and_copy_to_iter,
    // copy_folio_to_iter, get_user_pages_fast (which only pins what the
    // caller asked for).
    "copy_(?:page_|folio_)?(?:to|from)_iter",
    "(?:^|_)put_user",
    "(?:^|_)get_user",
    "strnlen_user",
    "^extract_(?:user|iter)_to_sg",
    // Memory-mapped I/O accessors (include/asm-generic/io.h and the arch
    // versions, lib/logic_iomem.c): the device access the caller asked for.
    "(?:^|_)(?:read|write)[bwlq](?:_relaxed)?$",
    "^io(?:read|write)(?:8|16|32|64)",
    "^logic_(?:in|out)",
    // Debug-objects callbacks (struct debug_obj_descr: .is_static_object,
    // .fixup_init, ...), named `<type>_is_static_object`, `<type>_fixup_*`.
    "_is_static_object$",
    "_fixup_(?:init|activate|destroy|free|assert_init)$",
    // Workqueue plumbing in every spelling (kernel/workqueue.c). Not
    // flush_workqueue(): lockdep names it as the place the workqueue's
    // pseudo-lock is taken, and that is the title.
    "queue_work",
    "insert_work",
    "cancel_work_sync",
    "cancel_delayed_work",
    "del_timer",
    // Freeing an ID (lib/idr.c): ida_free()'s WARN flags the caller's
    // double free, like kfree() of a bad pointer.
    "^ida_(?:free|simple_remove|remove)$",
    // Inode references (fs/inode.c): the last iput() runs the filesystem's
    // eviction, the filesystem frame below is the story.
    "^iput_final$",
    "^ihold$",
    // The emulated USB host controller of USB fuzzing (dummy_hcd's
    // urb_enqueue): the URB the driver above submitted.
    "^dummy_urb_enqueue$",
    // Stack walking and tracing (kernel/stacktrace.c, tracepoints).
    "stack_trace_consume_entry",
    // Older kernels' spellings: save_stack_trace(), depot_save_stack().
    "save_stack",
    "^depot_",
    "(?:trace|lockdep)_(?:hard|soft)irqs?",
];
