//! More of the infrastructure skip list (see `skip_list.rs`): library layers
//! that sit between the buggy caller and the place the bug is detected.
//! Each group says why its functions are never the culprit.

/// Matched like `skip_list::SKIP` (anywhere in the name unless anchored).
pub(crate) const SKIP_LIBS: &[&str] = &[
    // Sanitizer runtime entry points the compiler inserts into every
    // function (KMSAN, HWASAN), and the stack depot / leak detector they
    // record allocation stacks with. (Not KCOV's write_comp_data: a fault
    // there is titled after it.)
    "^__msan_",
    "^__hwasan_",
    "^stack_depot_",
    "^__stack_depot_",
    "^kmemleak_",
    "^__kmemleak",
    // Allocator entry points not covered by the main list.
    "^kvrealloc",
    "^mempool_",
    "^devm_k[mz]alloc",
    "^devm_kcalloc",
    "^devm_kfree",
    "^vmemdup_user",
    "^strndup_user",
    // Sleeping locks' slow paths and reader/writer helpers.
    "^__down",
    "^down_interruptible",
    "^down_killable",
    "^down_timeout",
    "^__up_(?:read|write)",
    "^__up$",
    "^percpu_ref_",
    "^__percpu_ref_",
    // Lock-less lists (same role as list helpers). Not timerqueue_*: a
    // fault there is the well-known title for a corrupted hrtimer.
    "^llist_",
    "^__llist_",
    // String helpers and parsers: they read what the caller handed them.
    "^strl?n?cat$",
    "^strspn$",
    "^strcspn$",
    "^strpbrk$",
    "^kstrto",
    "^_kstrto",
    "^simple_strto",
    // Dynamic debug and netdev printing wrappers.
    "^__dynamic_",
    "^netdev_(?:err|warn|info|notice|crit|alert|emerg)$",
    // User copies: x86 string-move fallbacks and structured copies.
    "^rep_movs_alternative",
    "^rep_stos_alternative",
    "^copy_user_",
    "^__copy_user",
    "^copy_struct_from_user",
    "^check_zeroed_user",
    // Workqueue plumbing: queueing and the delayed-work timer.
    "^queue_delayed_work",
    "^__queue_delayed_work",
    "^mod_delayed_work",
    "^delayed_work_timer_fn",
    // Crypto: the API wrappers and the algorithm implementations only
    // process what the caller gave them (KMSAN reports uninit data deep in
    // an AES round; the bug is whoever passed the key or buffer).
    "^crypto_",
    "^__crypto_",
    "^cipher_crypt_one",
    "^aes_(?:encrypt|decrypt|expandkey)",
    "^aesti_",
    "^aesni_",
    "^aesbs_",
    "^xts_(?:encrypt|decrypt|crypt)",
    "^ecb_(?:encrypt|decrypt|crypt)",
    "^cbc_(?:encrypt|decrypt)",
    "^ctr_(?:encrypt|crypt)",
    "^drbg_",
    "^rng_setkey",
    "^sha[0-9]+_(?:update|final|finup|base|generic|transform|block)",
    "^sha3_",
    "^blake2s_",
    "^chacha_",
    "^chacha20_",
    "^poly1305_",
    "^skcipher_walk",
    "^shash_",
    "^ahash_",
    "^scatterwalk_",
];
