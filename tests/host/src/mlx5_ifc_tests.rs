// SPDX-License-Identifier: GPL-2.0

//! The mlx5_ifc field accessors against `MLX5_SET()`/`MLX5_GET()` on
//! layouts of the same shape as the generated ones (one byte per bit).

use crate::mlx5_logic::ifc::*;

/// `struct mlx5_ifc_query_vhca_migration_state_in_bits`, as bindgen emits it.
#[repr(C)]
struct QueryInBits {
    opcode: [u8; 0x10],
    uid: [u8; 0x10],
    reserved_at_20: [u8; 0x10],
    op_mod: [u8; 0x10],
    incremental: [u8; 0x1],
    chunk: [u8; 0x1],
    reserved_at_42: [u8; 0xe],
    vhca_id: [u8; 0x10],
    reserved_at_60: [u8; 0x20],
}

/// `struct mlx5_ifc_query_vhca_migration_state_out_bits`.
#[repr(C)]
struct QueryOutBits {
    status: [u8; 0x8],
    reserved_at_8: [u8; 0x18],
    syndrome: [u8; 0x20],
    reserved_at_40: [u8; 0x20],
    migration_state: [u8; 0x4],
    reserved_at_64: [u8; 0x1c],
    required_umem_size: [u8; 0x20],
    reserved_at_a0: [u8; 0x20],
    remaining_total_size: [u8; 0x40],
    reserved_at_100: [u8; 0x100],
}

/// A sub-layout, to check nesting (`capability.cmd_hca_cap.vhca_id`).
#[repr(C)]
struct CapBits {
    reserved_at_0: [u8; 0x20],
    vhca_id: [u8; 0x10],
    reserved_at_30: [u8; 0x10],
}

/// An outbox holding `CapBits` after a 0x80-bit header.
#[repr(C)]
struct CapOutBits {
    status: [u8; 0x8],
    reserved_at_8: [u8; 0x78],
    capability: CapBits,
}

#[test]
fn offsets_and_widths_come_from_the_layout() {
    let f = ifc_field!(QueryInBits, op_mod);
    assert_eq!((f.bit_off(), f.width()), (0x30, 0x10));
    let f = ifc_field!(QueryInBits, chunk);
    assert_eq!((f.bit_off(), f.width()), (0x41, 1));
    let f = ifc_field!(QueryOutBits, remaining_total_size);
    assert_eq!((f.bit_off(), f.width()), (0xc0, 0x40));
    assert_eq!(layout_bytes::<QueryInBits>(), 16);
    assert_eq!(layout_bytes::<QueryOutBits>(), 64);
}

#[test]
fn set_writes_big_endian_words_like_mlx5_set() {
    let mut buf = [0u8; 16];
    let mut ifc = Ifc::<QueryInBits>::new(&mut buf).unwrap();
    ifc.set(ifc_field!(QueryInBits, opcode), 0x117);
    ifc.set(ifc_field!(QueryInBits, op_mod), 0xabcd);
    ifc.set(ifc_field!(QueryInBits, incremental), 1);
    ifc.set(ifc_field!(QueryInBits, chunk), 1);
    ifc.set(ifc_field!(QueryInBits, vhca_id), 0x1234);
    assert_eq!(
        buf,
        [0x01, 0x17, 0, 0, 0, 0, 0xab, 0xcd, 0xc0, 0, 0x12, 0x34, 0, 0, 0, 0]
    );
}

#[test]
fn set_keeps_neighbours_and_truncates_to_width() {
    let mut buf = [0xffu8; 16];
    let mut ifc = Ifc::<QueryInBits>::new(&mut buf).unwrap();
    ifc.set(ifc_field!(QueryInBits, chunk), 0);
    // Only bit 0x41 cleared; a value wider than the field keeps its low bits.
    ifc.set(ifc_field!(QueryInBits, vhca_id), 0x5_0001);
    assert_eq!(buf[8..12], [0xbf, 0xff, 0x00, 0x01]);
    assert_eq!(buf[..8], [0xff; 8]);
}

#[test]
fn get_reads_what_firmware_wrote() {
    let mut buf = [0u8; 64];
    buf[0] = 0x05; // status
    buf[12] = 0x3f; // migration_state in the top 4 bits of dword 3
    buf[16..20].copy_from_slice(&[0x00, 0x10, 0x20, 0x30]);
    buf[24..32].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let out = IfcRef::<QueryOutBits>::new(&buf).unwrap();
    assert_eq!(out.get(ifc_field!(QueryOutBits, status)), 5);
    assert_eq!(out.get(ifc_field!(QueryOutBits, migration_state)), 3);
    assert_eq!(
        out.get(ifc_field!(QueryOutBits, required_umem_size)),
        0x0010_2030
    );
    assert_eq!(
        out.get(ifc_field!(QueryOutBits, remaining_total_size)),
        0x0102_0304_0506_0708
    );
}

#[test]
fn set64_then_get64_round_trips() {
    let mut buf = [0u8; 64];
    let mut ifc = Ifc::<QueryOutBits>::new(&mut buf).unwrap();
    let f = ifc_field!(QueryOutBits, remaining_total_size);
    ifc.set(f, u64::MAX - 1);
    assert_eq!(ifc.get(f), u64::MAX - 1);
    assert_eq!(
        buf[24..32],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]
    );
}

#[test]
fn nested_field_adds_the_sub_layout_offset() {
    let f = ifc_field!(CapBits, vhca_id).within(ifc_sub!(CapOutBits, capability));
    assert_eq!((f.bit_off(), f.width()), (0xa0, 0x10));
    let mut buf = [0u8; 24];
    buf[20] = 0x00;
    buf[21] = 0x07;
    assert_eq!(IfcRef::<CapOutBits>::new(&buf).unwrap().get(f), 7);
}

#[test]
fn short_buffers_are_refused() {
    let mut buf = [0u8; 15];
    assert!(Ifc::<QueryInBits>::new(&mut buf).is_none());
    assert!(IfcRef::<QueryOutBits>::new(&[0u8; 63]).is_none());
}
