// SPDX-License-Identifier: GPL-2.0

//! Virtualization of PCI config space for the user of a VFIO device.
//!
//! Ports the semantics of `drivers/vfio/pci/vfio_pci_config.c` of Linux 7.3:
//! the user may read every byte of config space, but what it reads and what
//! its writes change is decided per byte by the capability that owns the
//! byte ([`VirtConfig::pci_config_map`]) and that capability's permission
//! bits (`perm`): virtualized bits live in [`VirtConfig::vconfig`], the
//! others are the device's, and only writable bits change.
//!
//! The device is reached through [`PhysConfig`]; everything else the kernel
//! must do (take `memory_lock`, change the power state, reset the function,
//! mask INTx...) is returned as [`Effects`] or asked through [`RwHost`], so
//! that this file stays plain Rust, checked by `cargo test` on the host.
//!
//! How the kernel uses it:
//!
//! - `vfio_config_init()`: allocate a zeroed [`VirtConfig`] (all-zero bytes
//!   are a valid, empty value: every field is an integer, a `bool` or an
//!   array of them), or reuse the one of an earlier open, and call
//!   [`VirtConfig::init`]; log the [`InitNotes`].
//! - `vfio_pci_config_rw()`: call [`VirtConfig::rw`] with the in-region
//!   offset; it cuts the access like upstream and calls [`RwHost`] around
//!   and after each piece.  A variant driver that needs the pieces calls
//!   [`VirtConfig::rw_single`], bracketed by
//!   [`VirtConfig::memory_lock_for_write`], and performs the [`Effects`].
//! - `vfio_config_free()`: drop it.

use super::uapi::VFIO_PCI_MSI_IRQ_INDEX;
use core::sync::atomic::{
    AtomicBool,
    AtomicU8,
    Ordering::Relaxed, //
};

#[path = "config/bars.rs"]
mod bars;
#[path = "config/caps.rs"]
mod caps;
#[path = "config/handlers.rs"]
mod handlers;
#[path = "config/perm.rs"]
mod perm;
#[path = "config/regs.rs"]
pub mod regs;
#[path = "config/rw.rs"]
mod rw;

pub use rw::range_intersect_range;

use regs::*;

/// I/O error.
pub const EIO: i32 = 5;
/// No such device.
pub const ENODEV: i32 = 19;
/// Bad address: upstream's answer to an access outside config space.
pub const EFAULT: i32 = 14;
/// Invalid argument.
pub const EINVAL: i32 = 22;

/// Map value of the standard header (a fake capability ID).
pub const PCI_CAP_ID_BASIC: u8 = 0;
/// Map value of bytes outside any capability: raw access to the device.
pub const PCI_CAP_ID_INVALID: u8 = 0xff;
/// Map value of bytes a quirk virtualized entirely.
pub const PCI_CAP_ID_INVALID_VIRT: u8 = 0xfe;

/// Width of one config space access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 8 bits.
    Byte,
    /// 16 bits.
    Word,
    /// 32 bits.
    Dword,
}

impl Width {
    /// The width of an access of `count` bytes, if it is 1, 2 or 4.
    pub fn from_count(count: usize) -> Option<Self> {
        match count {
            1 => Some(Self::Byte),
            2 => Some(Self::Word),
            4 => Some(Self::Dword),
            _ => None,
        }
    }

    /// Number of bytes.
    pub fn bytes(self) -> usize {
        match self {
            Self::Byte => 1,
            Self::Word => 2,
            Self::Dword => 4,
        }
    }
}

/// The physical device's config space, as the kernel reaches it.
///
/// In the kernel: `pci_user_{read,write}_config_*()` (the init may use
/// `pci_read_config_*()`, as upstream does), errors as negative errnos
/// (`pcibios_err_to_errno()`).  Where upstream ignores an error of a read,
/// the logic uses all-ones, what `PCI_SET_ERROR_RESPONSE()` leaves.
pub trait PhysConfig {
    /// Reads `width` bytes at `pos`; the value is in the low bits.
    fn read(&mut self, pos: u16, width: Width) -> Result<u32, i32>;

    /// Writes the low `width` bytes of `val` at `pos`.
    fn write(&mut self, pos: u16, width: Width, val: u32) -> Result<(), i32>;

    /// `pci_read_vpd(pdev, addr, 4, buf)`: reads 4 bytes of VPD (bytes the
    /// device did not return stay zero); `Err` when it returned an error.
    fn read_vpd(&mut self, _addr: u16) -> Result<[u8; 4], i32> {
        Err(-ENODEV)
    }

    /// `pci_write_vpd(pdev, addr, 4, buf)`: `Err` unless all 4 bytes were
    /// written.
    fn write_vpd(&mut self, _addr: u16, _data: [u8; 4]) -> Result<(), i32> {
        Err(-ENODEV)
    }
}

/// A BAR resource as the PCI core assigned it (`pci_resource_*()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BarResource {
    /// `pci_resource_start()`: 0 means not assigned by the host, which the
    /// user sees as an unimplemented BAR.
    pub start: u64,
    /// `pci_resource_len()`.
    pub len: u64,
    /// `IORESOURCE_IO`.
    pub io: bool,
    /// `IORESOURCE_PREFETCH`.
    pub prefetch: bool,
    /// `IORESOURCE_MEM_64`.
    pub mem64: bool,
}

impl BarResource {
    /// A BAR the host did not assign (or that does not exist).
    pub const UNASSIGNED: Self = Self {
        start: 0,
        len: 0,
        io: false,
        prefetch: false,
        mem64: false,
    };
}

/// What [`VirtConfig::init`] needs to know of the device beyond its config
/// space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    /// `pdev->cfg_size`: 256 or 4096.
    pub cfg_size: u16,
    /// `pdev->vendor`.
    pub vendor: u16,
    /// `pdev->device`.
    pub device: u16,
    /// `pdev->is_virtfn`: an SR-IOV VF.
    pub is_virtfn: bool,
    /// `pdev->no_command_memory`: COMMAND has no memory enable bit.
    pub no_command_memory: bool,
    /// `vdev->nointx`: INTx hidden and kept disabled (broken masking).
    pub nointx: bool,
    /// `IS_ENABLED(CONFIG_VFIO_PCI_INTX) && pdev->irq && pdev->irq !=
    /// IRQ_NOTCONNECTED`: INTx can be offered to the user.
    pub intx_irq: bool,
    /// `pcie_caps_reg(pdev)`: flags of the PCIe capability, 0 if none.
    pub pcie_flags: u16,
    /// The six standard BARs.
    pub bars: [BarResource; PCI_STD_NUM_BARS],
    /// The expansion ROM BAR (`PCI_ROM_RESOURCE`; only `start` and `len`
    /// matter).
    pub rom: BarResource,
    /// `pdev->romlen` when `pdev->rom` is set (a shadow ROM), else 0.
    pub shadow_rom_len: u64,
}

/// State of the interrupt code that config writes depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RwContext {
    /// `vdev->irq_type`: the `VFIO_PCI_*_IRQ_INDEX` in use, or
    /// `VFIO_PCI_NUM_IRQS` for none.
    pub irq_type: u32,
    /// `vdev->msi_qmax`: log2 of the MSI vectors last enabled.
    pub msi_qmax: u8,
}

impl RwContext {
    fn msi_enabled(&self) -> bool {
        self.irq_type == VFIO_PCI_MSI_IRQ_INDEX
    }
}

/// A power state the user asked for through PMCSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    /// `PCI_D0`.
    D0,
    /// `PCI_D1`.
    D1,
    /// `PCI_D2`.
    D2,
    /// `PCI_D3hot`.
    D3Hot,
}

/// What to do with INTx after the user changed the virtual INTx disable bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntxAction {
    /// `vfio_pci_intx_mask()`.
    Mask,
    /// `vfio_pci_intx_unmask()`.
    Unmask,
}

/// How to take `memory_lock` (for write) around a write of COMMAND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLock {
    /// Memory decode is being turned off:
    /// `vfio_pci_zap_and_down_write_memory_lock()`, then
    /// `vfio_pci_dma_buf_move(vdev, true)`.
    Zap,
    /// `down_write(&vdev->memory_lock)`.
    Plain,
}

/// What the kernel must do after one piece of a config access, because
/// upstream does it there and it is not config space logic.
///
/// Perform them in field order; at most a few are set at once, all by the
/// same capability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// `vfio_bar_restore()` rewrote the BARs from `rbar` (already done
    /// through [`PhysConfig`]): log "reset recovery - restoring BARs".
    pub bars_restored: bool,
    /// The virtual INTx disable bit changed: mask or unmask INTx (mirror
    /// [`VirtConfig::virq_disabled`] where the IRQ handler reads it).
    pub intx: Option<IntxAction>,
    /// PMCSR was written: `vfio_lock_and_set_power_state(vdev, state)`
    /// (even if the state is the current one, as upstream).
    pub power_state: Option<PowerState>,
    /// FLR through PCIe DEVCTL or AF control on a device that supports it:
    /// under `vfio_pci_zap_and_down_write_memory_lock()` and
    /// `vfio_pci_dma_buf_move(vdev, true)`, `pci_try_reset_function()`,
    /// then `dma_buf_move(vdev, false)` if memory is enabled, `up_write`.
    pub reset_function: bool,
    /// The user changed Max_Read_Request_Size: after the reset above,
    /// `pcie_set_readrq(pdev, max(readrq, pcie_get_mps(pdev)))`, in
    /// bytes (at most 128 << 7).
    ///
    /// A `u16`, so that `Result<Effects, i32>` fits in one register and
    /// the write handlers return it there rather than through memory.
    pub readrq: Option<u16>,
}

impl Effects {
    /// Nothing to do.
    pub const NONE: Self = Self {
        bars_restored: false,
        intx: None,
        power_state: None,
        reset_function: false,
        readrq: None,
    };

    /// Whether there is nothing to do.
    #[inline]
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

// The write handlers' result fits in a register (see `Effects::readrq`).
const _: () = assert!(core::mem::size_of::<Result<Effects, i32>>() <= 8);

/// Two capabilities claim the same byte (upstream warns "PCI config
/// conflict" for each byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// The byte.
    pub pos: u16,
    /// The map value it had.
    pub was: u8,
    /// The ID of the capability that takes it over.
    pub now: u16,
}

/// What upstream logs while it initializes, for the kernel to log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitNotes {
    /// "Hardware bug: VF reports bogus INTx pin %d" (a VF with a pin that
    /// is not on the known list).
    pub bogus_vf_intx_pin: Option<u8>,
    /// The first byte claimed twice by capabilities.
    pub first_overlap: Option<Overlap>,
    /// How many bytes were claimed twice.
    pub overlaps: u32,
}

/// Services of the kernel that [`VirtConfig::rw`] calls around each piece.
pub trait RwHost: PhysConfig {
    /// A piece that writes COMMAND starts: take `memory_lock` for write.
    fn memory_lock(&mut self, mode: MemoryLock);

    /// That piece ended: `memory_enabled` is `Some` after a successful
    /// write (then, if the device is below D3hot and this is true,
    /// `vfio_pci_dma_buf_move(vdev, false)`), `None` after a failed one;
    /// release `memory_lock`.
    fn memory_unlock(&mut self, memory_enabled: Option<bool>);

    /// Performs the [`Effects`] of a piece (never called with none).
    fn perform(&mut self, effects: Effects);
}

/// The virtual config space of one open device.
///
/// [`VirtConfig::init`] takes `&mut self`; afterwards every access takes
/// `&self`, so that reads need no lock, as upstream's (whose `vconfig` is
/// read without one).  What an access may change after init (`vconfig`,
/// `bardirty`, `virq_disabled`) is atomic, byte by byte: a reader racing
/// with a writer sees each byte before or after the write, never a torn
/// byte, which is what upstream's readers see.  Writers need not be
/// serialized for memory safety; two writes racing on the same bytes (a
/// read-modify-write of `vconfig` each) leave one of them, as upstream's.
///
/// # Invariants
///
/// `facts.cfg_size` is 0 (not initialized: every access is refused) or a
/// multiple of 4 between [`PCI_STD_HEADER_SIZEOF`] and
/// [`PCI_CFG_SPACE_EXP_SIZE`].
pub struct VirtConfig {
    /// Shadow of config space: the virtualized bits the user reads.
    vconfig: [AtomicU8; PCI_CFG_SPACE_EXP_SIZE],
    /// Per byte, the capability owning it (standard or extended ID, or
    /// [`PCI_CAP_ID_BASIC`], [`PCI_CAP_ID_INVALID`],
    /// [`PCI_CAP_ID_INVALID_VIRT`]).
    pci_config_map: [u8; PCI_CFG_SPACE_EXP_SIZE],
    /// The BARs were written since the last sizing fixup.
    bardirty: AtomicBool,
    /// BARs 0-5 and the ROM BAR as found at init, to restore after a reset.
    rbar: [u32; 7],
    /// `msi_perm` was chosen (from the first MSI capability).
    has_msi_perm: bool,
    /// Flags of that MSI capability.
    msi_flags: u16,
    /// The bytes from the first byte given to an MSI capability to the
    /// last, for [`VirtConfig::needs_irq_context`] (empty with no MSI
    /// capability).  With two MSI capabilities, as a broken device may
    /// have, it also holds the bytes between them, and bytes that a later
    /// capability took back stay in it: that only costs those accesses
    /// the interrupt lock.
    msi_span: (u16, u16),
    /// The device has extended capabilities to walk.
    extended_caps: bool,
    /// The user disabled INTx through the virtual COMMAND bit.
    virq_disabled: AtomicBool,
    /// Every byte of the standard header is [`PCI_CAP_ID_BASIC`]'s in the
    /// map, as on any device whose capability pointers all point past the
    /// header: accesses there skip the map.
    header_basic: bool,
    /// What the init was told.
    facts: DeviceFacts,
}

impl Default for VirtConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtConfig {
    /// An empty, uninitialized config (all zeroes): every access fails
    /// with `EFAULT` until [`VirtConfig::init`].
    pub const fn new() -> Self {
        Self {
            vconfig: [const { AtomicU8::new(0) }; PCI_CFG_SPACE_EXP_SIZE],
            pci_config_map: [0; PCI_CFG_SPACE_EXP_SIZE],
            bardirty: AtomicBool::new(false),
            rbar: [0; 7],
            has_msi_perm: false,
            msi_flags: 0,
            msi_span: (0, 0),
            extended_caps: false,
            virq_disabled: AtomicBool::new(false),
            header_basic: false,
            facts: DeviceFacts {
                cfg_size: 0,
                vendor: 0,
                device: 0,
                is_virtfn: false,
                no_command_memory: false,
                nointx: false,
                intx_irq: false,
                pcie_flags: 0,
                bars: [BarResource::UNASSIGNED; PCI_STD_NUM_BARS],
                rom: BarResource::UNASSIGNED,
                shadow_rom_len: 0,
            },
        }
    }

    /// Size of the device's config space (0 before init).
    #[inline]
    pub fn cfg_size(&self) -> usize {
        usize::from(self.facts.cfg_size)
    }

    /// The byte at `pos` of the virtual config space (`None` past
    /// `cfg_size`).
    pub fn vconfig_byte(&self, pos: usize) -> Option<u8> {
        self.vconfig
            .get(..self.cfg_size())
            .and_then(|v| v.get(pos))
            .map(|b| b.load(Relaxed))
    }

    /// The owner of each byte, `cfg_size` bytes.
    pub fn pci_config_map(&self) -> &[u8] {
        self.pci_config_map.get(..self.cfg_size()).unwrap_or(&[])
    }

    /// Whether the BARs were written since their last sizing fixup.
    pub fn bardirty(&self) -> bool {
        self.bardirty.load(Relaxed)
    }

    /// BARs 0-5 and the ROM BAR saved at init.
    pub fn rbar(&self) -> &[u32; 7] {
        &self.rbar
    }

    /// Whether the extended capabilities were walked.
    pub fn extended_caps(&self) -> bool {
        self.extended_caps
    }

    /// Whether the user disabled INTx through the virtual COMMAND bit.
    pub fn virq_disabled(&self) -> bool {
        self.virq_disabled.load(Relaxed)
    }

    /// The virtual interrupt pin (0: no INTx offered to the user).
    pub fn interrupt_pin(&self) -> u8 {
        self.vbyte(PCI_INTERRUPT_PIN)
    }

    /// The COMMAND half of `__vfio_pci_memory_enabled()`: the virtual
    /// memory enable bit, or a device without one.  The kernel ANDs it with
    /// `pdev->current_state < PCI_D3hot`.
    #[inline]
    pub fn command_memory_enabled(&self) -> bool {
        self.facts.no_command_memory || self.vword(PCI_COMMAND) & PCI_COMMAND_MEMORY != 0
    }

    /// Virtualizes `bytes` at `pos` entirely, as device quirks do (IGD's
    /// OpRegion address): they read from and write to `vconfig` only.
    pub fn virtualize(&mut self, pos: usize, bytes: &[u8]) -> Result<(), i32> {
        let end = pos.checked_add(bytes.len()).ok_or(-EINVAL)?;
        if end > self.cfg_size() {
            return Err(-EINVAL);
        }
        let map = self.pci_config_map.get_mut(pos..end).ok_or(-EINVAL)?;
        map.fill(PCI_CAP_ID_INVALID_VIRT);
        let v = self.vconfig.get_mut(pos..end).ok_or(-EINVAL)?;
        for (b, byte) in v.iter_mut().zip(bytes) {
            *b.get_mut() = *byte;
        }
        self.map_changed(pos, end);
        Ok(())
    }

    /// Notes that the map's bytes `pos..end` have a new owner: if any is in
    /// the standard header, the header is no longer all
    /// [`PCI_CAP_ID_BASIC`]'s ([`VirtConfig::header_basic`]).
    fn map_changed(&mut self, pos: usize, end: usize) {
        if pos < PCI_STD_HEADER_SIZEOF && end > pos {
            self.header_basic = false;
        }
    }

    /// Whether an access of `count` bytes at `pos` reaches the MSI
    /// capability, the only one whose handlers read the [`RwContext`]: the
    /// kernel gathers that context (under its interrupt lock) only then.
    #[inline]
    pub fn needs_irq_context(&self, pos: u64, count: usize) -> bool {
        let (lo, hi) = self.msi_span;
        // CAST: `usize` is 64-bit here.
        count != 0 && pos < u64::from(hi) && pos.saturating_add(count as u64) > u64::from(lo)
    }

    /// The map bytes `start..end` (`None` outside the array).
    #[inline]
    fn map_slice(&self, start: usize, end: usize) -> Option<&[u8]> {
        self.pci_config_map.get(start..end)
    }

    /// The map value at `pos` (`PCI_CAP_ID_INVALID` outside the array).
    #[inline]
    fn map_at(&self, pos: usize) -> u8 {
        self.pci_config_map
            .get(pos)
            .copied()
            .unwrap_or(PCI_CAP_ID_INVALID)
    }

    /// Reads `count` (at most 4) bytes of `vconfig`, little-endian; bytes
    /// past the array read as zero.
    #[inline]
    fn vread(&self, pos: usize, count: usize) -> u32 {
        match pos
            .checked_add(count)
            .and_then(|end| self.vconfig.get(pos..end))
        {
            Some([b]) => return b.load(Relaxed).into(),
            Some([b0, b1]) => {
                return u16::from_le_bytes([b0.load(Relaxed), b1.load(Relaxed)]).into()
            }
            Some([b0, b1, b2, b3]) => {
                return u32::from_le_bytes([
                    b0.load(Relaxed),
                    b1.load(Relaxed),
                    b2.load(Relaxed),
                    b3.load(Relaxed),
                ])
            }
            _ => {}
        }
        let mut val = 0u32;
        for i in (0..count.min(4)).rev() {
            let byte = pos
                .checked_add(i)
                .and_then(|p| self.vconfig.get(p))
                .map_or(0, |b| b.load(Relaxed));
            val = (val << 8) | u32::from(byte);
        }
        val
    }

    /// Writes the low `count` (at most 4) bytes of `val` to `vconfig`;
    /// bytes past the array are dropped.
    #[inline]
    fn vwrite(&self, pos: usize, count: usize, val: u32) {
        let bytes = val.to_le_bytes();
        // A whole piece inside `vconfig`, as `vread`: no byte loop.
        match pos
            .checked_add(count)
            .and_then(|end| self.vconfig.get(pos..end))
        {
            Some([b]) => return b.store(bytes[0], Relaxed),
            Some([b0, b1]) => {
                b0.store(bytes[0], Relaxed);
                b1.store(bytes[1], Relaxed);
                return;
            }
            Some([b0, b1, b2, b3]) => {
                b0.store(bytes[0], Relaxed);
                b1.store(bytes[1], Relaxed);
                b2.store(bytes[2], Relaxed);
                b3.store(bytes[3], Relaxed);
                return;
            }
            _ => {}
        }
        for (i, byte) in bytes.iter().take(count).enumerate() {
            if let Some(b) = pos.checked_add(i).and_then(|p| self.vconfig.get(p)) {
                b.store(*byte, Relaxed);
            }
        }
    }

    fn vbyte(&self, pos: usize) -> u8 {
        // CAST: one byte read.
        self.vread(pos, 1) as u8
    }

    #[inline]
    fn vword(&self, pos: usize) -> u16 {
        // CAST: two bytes read.
        self.vread(pos, 2) as u16
    }

    #[inline]
    fn set_vword(&self, pos: usize, val: u16) {
        self.vwrite(pos, 2, val.into());
    }
}

/// `vfio_user_config_read()`: reads `count` bytes of the device at `pos`.
#[inline]
fn phys_read<P: PhysConfig + ?Sized>(phys: &mut P, pos: usize, count: usize) -> Result<u32, i32> {
    let width = Width::from_count(count).ok_or(-EINVAL)?;
    let pos = u16::try_from(pos).map_err(|_| -EINVAL)?;
    phys.read(pos, width)
}

/// `vfio_user_config_write()`: writes `count` bytes of the device at `pos`.
#[inline]
fn phys_write<P: PhysConfig + ?Sized>(
    phys: &mut P,
    pos: usize,
    count: usize,
    val: u32,
) -> Result<(), i32> {
    let width = Width::from_count(count).ok_or(-EINVAL)?;
    let pos = u16::try_from(pos).map_err(|_| -EINVAL)?;
    phys.write(pos, width, val)
}

/// A read whose error upstream ignores: all-ones on error.
fn phys_read_or_ones<P: PhysConfig + ?Sized>(phys: &mut P, pos: usize, count: usize) -> u32 {
    phys_read(phys, pos, count).unwrap_or(ones(count))
}

/// All-ones mask of `count` (1, 2 or 4) bytes.
#[inline]
fn ones(count: usize) -> u32 {
    match count {
        1 => 0xff,
        2 => 0xffff,
        _ => u32::MAX,
    }
}
