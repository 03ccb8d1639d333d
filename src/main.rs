//! The shipped bundle: registers the `<wallet-checkout>` element when the page loads the module.

// A small free-list allocator instead of std's dlmalloc: the widget allocates little, and the
// module is what the shopper waits for. Sound here because wasm32 without atomics has one thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

fn main() {
    wallet_checkout::register();
}
