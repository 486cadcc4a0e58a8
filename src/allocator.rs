//! The global allocator: mimalloc, called through its plain entry points whenever they give
//! the alignment asked for.
//!
//! The `mimalloc` crate's allocator passes every request to `mi_malloc_aligned`. In mimalloc v3
//! that call takes its fast path only when the page at hand has a free block already aligned;
//! otherwise, unless the block size is a power of two, it over-allocates (a block of
//! `size + align - 1`, the page marked as holding interior pointers, which every later free on
//! it pays for). Nearly every Rust allocation asks for an alignment of 8 or less, which every
//! mimalloc block has: block sizes are whole machine words, and pages start aligned. Those go
//! to `mi_malloc`, `mi_zalloc` and `mi_realloc`; larger alignments keep the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment of every block mimalloc hands out: one machine word.
const WORD: usize = std::mem::size_of::<usize>();

/// mimalloc as the global allocator (see the module docs).
pub struct Mimalloc;

// SAFETY: every call passes the layout's size (and, above a word, its alignment) to the
// mimalloc function that honours both; memory comes back to `mi_free`, which frees blocks of
// either kind, and `mi_realloc`/`mi_realloc_aligned` keep the contents as `realloc` must.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions accept any size and alignment.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the block returned keeps the
        // alignment the layout asked for.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size from 1 to 4,200 bytes (small, medium and large blocks) at every alignment
    /// from 1 to 4,096, many of each so that pages run out and fresh ones are taken: each block
    /// is aligned, holds what was written, keeps it through a realloc, and is freed.
    #[test]
    fn every_block_has_the_alignment_asked_and_keeps_its_bytes() {
        let allocator = Mimalloc;
        let mut blocks = Vec::new();
        for size in (1..=4200).step_by(37) {
            for align in (0..=12).map(|shift| 1usize << shift) {
                let layout = Layout::from_size_align(size, align).unwrap();
                for round in 0..3u8 {
                    let zeroed = round == 1;
                    // SAFETY: a layout of non-zero size; the block is checked before use.
                    let ptr = unsafe {
                        if zeroed {
                            allocator.alloc_zeroed(layout)
                        } else {
                            allocator.alloc(layout)
                        }
                    };
                    assert!(!ptr.is_null(), "{size} bytes at {align}");
                    assert_eq!(ptr as usize % align, 0, "{size} bytes at {align}");
                    // SAFETY: `ptr` holds `size` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, size) };
                    if zeroed {
                        assert!(bytes.iter().all(|&b| b == 0), "{size} bytes at {align}");
                    }
                    bytes.fill(round.wrapping_add(size as u8));
                    blocks.push((ptr, layout, round));
                }
            }
        }
        for (ptr, layout, round) in blocks {
            let size = layout.size();
            let grown = size * 2 + 1;
            // SAFETY: `ptr` came from `allocator` with `layout`; the new block holds `grown`.
            let new = unsafe { allocator.realloc(ptr, layout, grown) };
            assert!(!new.is_null());
            assert_eq!(
                new as usize % layout.align(),
                0,
                "{size} grown at {}",
                layout.align()
            );
            // SAFETY: the first `size` bytes were kept by the realloc.
            let kept = unsafe { std::slice::from_raw_parts(new, size) };
            assert!(kept.iter().all(|&b| b == round.wrapping_add(size as u8)));
            let grown_layout = Layout::from_size_align(grown, layout.align()).unwrap();
            // SAFETY: `new` came from `allocator` with `grown_layout`.
            unsafe { allocator.dealloc(new, grown_layout) };
        }
    }
}
