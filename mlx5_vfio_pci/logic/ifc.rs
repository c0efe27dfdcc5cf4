// SPDX-License-Identifier: GPL-2.0

//! Fields of mlx5 command layouts, read and written in big-endian buffers
//! (`MLX5_SET()`, `MLX5_GET()`, `MLX5_SET64()`, `MLX5_GET64()`).
//!
//! `include/linux/mlx5/mlx5_ifc.h` declares each layout as a structure of
//! `u8 name[bits]` arrays, one byte per bit, which bindgen turns into
//! `[u8; bits]`.  So the byte offset of a field in the generated structure
//! is its bit offset in the command, and the size of its type is its width:
//! [`ifc_field!`] reads both at compile time, and [`Field::new`] refuses, at
//! compile time too, a field that `MLX5_SET()` could not write (one that
//! crosses a 32-bit word, or a 64-bit field that is not 64-bit aligned).
//!
//! An [`Ifc`] is a byte buffer checked once to be as long as its layout, so
//! that every access through a [`Field`] of that layout is in bounds.

use core::marker::PhantomData;

/// A field of the mlx5_ifc layout `L`: bit offset and width.
///
/// # Invariants
///
/// `bit_off + width <= size_of::<L>()` (the layout's size in bits); either
/// `width <= 32` and the field lies in one big-endian 32-bit word, or
/// `width == 64` and `bit_off` is a multiple of 64.
pub(crate) struct Field<L> {
    bit_off: usize,
    width: usize,
    _layout: PhantomData<fn() -> L>,
}

impl<L> Clone for Field<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for Field<L> {}

impl<L> Field<L> {
    /// The field at `bit_off` that is `width` bits wide.
    ///
    /// Meant for constant evaluation ([`ifc_field!`] does that): a field
    /// that breaks the invariants fails the build.
    pub(crate) const fn new(bit_off: usize, width: usize) -> Self {
        assert!(bit_off + width <= size_of::<L>(), "field beyond its layout");
        assert!(
            (width >= 1 && width <= 32 && bit_off % 32 + width <= 32)
                || (width == 64 && bit_off % 64 == 0),
            "field crosses a 32-bit word or is a misaligned 64-bit field"
        );
        // INVARIANT: Checked above.
        Self {
            bit_off,
            width,
            _layout: PhantomData,
        }
    }

    /// This field, a field of the sub-layout at `at` of the outer layout
    /// `O` (`MLX5_ADDR_OF()` followed by an access in the sub-layout).
    pub(crate) const fn within<O>(self, at: Field<O>) -> Field<O> {
        Field::new(at.bit_off + self.bit_off, self.width)
    }

    /// The bit offset (`__mlx5_bit_off()`).
    pub(crate) const fn bit_off(self) -> usize {
        self.bit_off
    }

    /// The width in bits (`__mlx5_bit_sz()`).
    pub(crate) const fn width(self) -> usize {
        self.width
    }

    /// The largest value the field holds.
    pub(crate) const fn max(self) -> u64 {
        if self.width == 64 {
            u64::MAX
        } else {
            (1u64 << self.width) - 1
        }
    }
}

/// The sub-layout that a field of `L` holds: its bit offset, as a [`Field`]
/// of `L` that [`Field::within`] accepts.  The width does not matter for a
/// sub-layout; it is recorded as 1.
pub(crate) const fn sub_layout<L>(bit_off: usize) -> Field<L> {
    Field::new(bit_off, 1)
}

/// The size of the pointee of a field projection; only its type is used.
#[doc(hidden)]
pub(crate) const fn field_size<T, F>(_projection: fn(*const T) -> *const F) -> usize {
    size_of::<F>()
}

/// The size of layout `L` in bytes (`MLX5_ST_SZ_BYTES()`).
pub(crate) const fn layout_bytes<L>() -> usize {
    size_of::<L>() / 8
}

/// `ifc_field!(Layout, field)`: the [`Field`] `field` of the generated
/// layout `Layout`, computed at compile time.
///
/// `field` may be a nested path (`a.b`) through sub-structures; for a field
/// inside a union member use [`Field::within`].  The caller imports
/// [`Field`] and [`field_size`] (the macro is used both in the module and in
/// the host tests, where this file sits at another path).
macro_rules! ifc_field {
    ($layout:ty, $($field:tt)+) => {
        const {
            Field::<$layout>::new(
                ::core::mem::offset_of!($layout, $($field)+),
                field_size(|p: *const $layout| {
                    // SAFETY: Never called: the projection only names the field's type.
                    unsafe { &raw const (*p).$($field)+ }
                }),
            )
        }
    };
}
pub(crate) use ifc_field;

/// `ifc_sub!(Layout, field)`: the sub-layout held by `field` of `Layout`
/// (a nested structure or union), for [`Field::within`].  The caller
/// imports [`sub_layout`].
macro_rules! ifc_sub {
    ($layout:ty, $($field:tt)+) => {
        const {
            sub_layout::<$layout>(::core::mem::offset_of!($layout, $($field)+))
        }
    };
}
pub(crate) use ifc_sub;

/// `MLX5_GET()` / `MLX5_GET64()` of `f` in `buf`, which covers its layout.
fn get_in<L>(buf: &[u8], f: Field<L>) -> u64 {
    // PANIC: In bounds: the field lies in its layout (invariant of `Field`), which the
    // callers' buffers cover (invariants of `Ifc` and `IfcRef`).
    if f.width == 64 {
        let at = f.bit_off / 8;
        let mut q = [0u8; 8];
        q.copy_from_slice(&buf[at..at + 8]);
        return u64::from_be_bytes(q);
    }
    let at = f.bit_off / 32 * 4;
    let mut w = [0u8; 4];
    w.copy_from_slice(&buf[at..at + 4]);
    let shift = 32 - f.width - f.bit_off % 32;
    u64::from(u32::from_be_bytes(w) >> shift) & f.max()
}

/// `MLX5_SET()` / `MLX5_SET64()` of `f` in `buf`, which covers its layout.
fn set_in<L>(buf: &mut [u8], f: Field<L>, v: u64) {
    // PANIC: In bounds, as in `get_in`.
    if f.width == 64 {
        let at = f.bit_off / 8;
        buf[at..at + 8].copy_from_slice(&v.to_be_bytes());
        return;
    }
    let at = f.bit_off / 32 * 4;
    let mut w = [0u8; 4];
    w.copy_from_slice(&buf[at..at + 4]);
    let shift = 32 - f.width - f.bit_off % 32;
    // CAST: With `width <= 32`, `f.max()` and the masked value fit in 32 bits.
    let mask = (f.max() as u32) << shift;
    let val = ((v & f.max()) as u32) << shift;
    let w = (u32::from_be_bytes(w) & !mask) | val;
    buf[at..at + 4].copy_from_slice(&w.to_be_bytes());
}

/// A big-endian command buffer laid out as `L` (an inbox, or an outbox
/// being filled).
///
/// # Invariants
///
/// `buf.len() >= layout_bytes::<L>()`.
pub(crate) struct Ifc<'a, L> {
    buf: &'a mut [u8],
    _layout: PhantomData<fn() -> L>,
}

impl<'a, L> Ifc<'a, L> {
    /// Views `buf` as layout `L`; `None` if it is too short.
    pub(crate) fn new(buf: &'a mut [u8]) -> Option<Self> {
        if buf.len() < layout_bytes::<L>() {
            return None;
        }
        // INVARIANT: Checked above.
        Some(Self {
            buf,
            _layout: PhantomData,
        })
    }

    /// The whole buffer, which may extend past the layout (an inbox with a
    /// trailing array such as `klm_pas_mtt`).
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.buf
    }

    /// `MLX5_SET()` / `MLX5_SET64()`: writes the low bits of `v` into `f`
    /// (the bits above its width are dropped, as the C macros do).
    pub(crate) fn set(&mut self, f: Field<L>, v: u64) {
        set_in(self.buf, f, v)
    }

    /// `MLX5_GET()` / `MLX5_GET64()`.
    pub(crate) fn get(&self, f: Field<L>) -> u64 {
        get_in(self.buf, f)
    }
}

/// A read-only big-endian buffer laid out as `L` (a command's outbox, a
/// capability page).
///
/// # Invariants
///
/// `buf.len() >= layout_bytes::<L>()`.
pub(crate) struct IfcRef<'a, L> {
    buf: &'a [u8],
    _layout: PhantomData<fn() -> L>,
}

impl<'a, L> IfcRef<'a, L> {
    /// Views `buf` as layout `L`; `None` if it is too short.
    pub(crate) fn new(buf: &'a [u8]) -> Option<Self> {
        if buf.len() < layout_bytes::<L>() {
            return None;
        }
        // INVARIANT: Checked above.
        Some(Self {
            buf,
            _layout: PhantomData,
        })
    }

    /// `MLX5_GET()` / `MLX5_GET64()`.
    pub(crate) fn get(&self, f: Field<L>) -> u64 {
        get_in(self.buf, f)
    }
}
